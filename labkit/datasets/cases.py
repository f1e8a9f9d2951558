"""Cas d'étude : des données qui présentent un problème précis, et leur version saine.

Chaque cas est un :class:`Case` : les tableaux d'entraînement, de validation et
parfois de test (« données neuves »), les métadonnées (groupes, noms des
variables) et une description en français de ce qui ne va pas et pourquoi.
``clean=True`` donne la version saine du même cas, pour comparer.

=====================================  ==========================================
Cas                                    Problème
=====================================  ==========================================
:func:`make_overfitting_case`          peu d'exemples pour un modèle large
:func:`make_unnormalized_case`         variables d'échelles très différentes
:func:`make_imbalanced_case`           une classe rare
:func:`make_shift_case`                une nouvelle caméra en production
:func:`make_leakage_case`              photos d'une carte des deux côtés, ou
                                       prétraitement ajusté avant le découpage
=====================================  ==========================================

Les diagnostics correspondants sont dans :mod:`labkit.diagnosis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import adapters
from ..errors import LabkitError
from ..validation import validate_choice, validate_float, validate_int
from .pcb import NEW_CAMERA, Camera, make_pcb_defects

_SPLITS = ("train", "val", "test")


@dataclass
class Case:
    """Un cas d'étude : données, découpage, métadonnées et explication.

    Images : ``x_*`` de forme (N, 1, H, W), ``float32`` dans [0, 1]. Tableaux :
    (N, variables). ``y_*`` : étiquettes entières. ``x_test``/``y_test`` (s'ils
    existent) sont des données neuves, jamais vues par aucune préparation.
    ``groups_*`` : identifiant de groupe par exemple (la carte photographiée).
    ``extra`` : ce qui est propre au cas (données brutes, préparation…).
    """

    problem: str
    clean: bool
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    description: str
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    groups_train: np.ndarray | None = None
    groups_val: np.ndarray | None = None
    groups_test: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def splits(self) -> tuple[str, ...]:
        """Les découpages disponibles : ``("train", "val")`` ou ``("train", "val", "test")``."""
        return _SPLITS if self.x_test is not None else _SPLITS[:2]

    def arrays(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` du découpage ``split`` (``"train"``, ``"val"`` ou ``"test"``)."""
        validate_choice("split", split, self.splits)
        return getattr(self, f"x_{split}"), getattr(self, f"y_{split}")

    def to_dataloader(self, split: str = "train", *, batch_size: int = 64, shuffle: bool | None = None, seed: int = 0, **options):
        """Un ``DataLoader`` PyTorch ; mélangé par défaut pour l'entraînement seulement."""
        x, y = self.arrays(split)
        shuffle = split == "train" if shuffle is None else shuffle
        return adapters.to_dataloader(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed, **options)

    def to_keras(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` pour Keras 3 : images en (N, H, W, C)."""
        return adapters.to_keras_arrays(*self.arrays(split))

    def to_tf_dataset(self, split: str = "train", *, batch_size: int = 64, shuffle: bool | None = None, seed: int = 0):
        """Un ``tf.data.Dataset`` de lots ; mélangé par défaut pour l'entraînement seulement."""
        x, y = self.arrays(split)
        shuffle = split == "train" if shuffle is None else shuffle
        return adapters.to_tf_dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def _sizes(self) -> str:
        return ", ".join(f"{name}={len(getattr(self, f'y_{name}'))}" for name in self.splits)

    def __repr__(self) -> str:
        state = "version saine" if self.clean else "problème présent"
        kind = "images {}×{}".format(*self.x_train.shape[-2:]) if self.x_train.ndim >= 3 else f"{self.x_train.shape[1]} variables"
        return f"Case({self.problem}, {state} ; {self._sizes()} ; {kind}, {len(self.class_names)} classes)"

    def _repr_markdown_(self) -> str:
        state = "version saine" if self.clean else "problème présent"
        return f"**Cas « {self.problem} » ({state})** : {self._sizes()}\n\n{self.description}"


# --------------------------------------------------------------------------- surapprentissage


def make_overfitting_case(
    n_train: int = 40,
    n_val: int = 700,
    *,
    noise: float = 0.15,
    n_test: int = 0,
    clean: bool = False,
    seed: int = 0,
) -> Case:
    """Peu d'images d'entraînement pour un modèle large : le surapprentissage est garanti.

    Les images sont les chiffres manuscrits 8×8 livrés avec scikit-learn (aucun
    téléchargement), ramenés dans [0, 1] et photographiés par un capteur bruité
    (bruit gaussien d'écart-type ``noise``, fixé par la graine). ``clean=True`` donne
    la version saine : dix fois plus d'images d'entraînement, même validation.

    Réglages par défaut mesurés (MLP 2 × 512, 80 époques) : écart entraînement −
    validation de plus de 30 points ; la version saine le ramène sous 10 points.
    Le notebook 01 prend ``n_train=100, noise=0.3`` : un capteur plus bruité, où
    même dix fois plus de données ne suffisent pas à tout corriger.

    ``n_test > 0`` met de côté un jeu de test (``x_test``, ``y_test``), distinct de la
    validation : quand la validation sert à choisir (arrêt anticipé, réglages), seul le
    test mesure honnêtement le modèle retenu (notebook 03). Il ne change ni
    l'entraînement ni la validation.

    >>> case = make_overfitting_case(n_train=60, n_val=60, seed=0)
    >>> case.x_train.shape, case.x_train.dtype
    ((60, 1, 8, 8), dtype('float32'))
    """
    from sklearn.datasets import load_digits

    n_train = validate_int("n_train", n_train, minimum=10)
    n_val = validate_int("n_val", n_val, minimum=10)
    noise = validate_float("noise", noise, minimum=0, maximum=1)
    n_test = validate_int("n_test", n_test, minimum=0)
    seed = validate_int("seed", seed, minimum=0)
    if clean:
        n_train *= 10
    digits = load_digits()
    if n_train + n_val + n_test > len(digits.target):
        raise LabkitError(
            f"`n_train` + `n_val` + `n_test` ({n_train} + {n_val} + {n_test}) dépasse les {len(digits.target)} images "
            "disponibles" + (" (clean=True multiplie n_train par 10)." if clean else ".")
        )
    rng = np.random.default_rng(seed)
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    images = np.clip(images + noise * rng.standard_normal(images.shape).astype(np.float32), 0.0, 1.0)
    order = rng.permutation(len(digits.target))
    # La validation est prise en fin de permutation : identique pour le cas et sa version saine.
    val_idx, train_idx = order[-n_val:], order[:n_train]
    test_idx = order[len(order) - n_val - n_test : len(order) - n_val]  # juste avant la validation, loin de l'entraînement
    if clean:
        description = f"Version saine : {n_train} images d'entraînement, assez pour que le réseau généralise."
    else:
        description = (
            f"Surapprentissage : seulement {n_train} images d'entraînement (≈{n_train // 10} par chiffre) pour un "
            "réseau de plusieurs centaines de milliers de paramètres. Il peut apprendre chaque image par cœur, "
            "bruit compris : la précision d'entraînement atteint 100 % tandis que celle de validation décroche."
        )
    return Case(
        problem="surapprentissage",
        clean=bool(clean),
        x_train=images[train_idx],
        y_train=digits.target[train_idx].astype(np.int64),
        x_val=images[val_idx],
        y_val=digits.target[val_idx].astype(np.int64),
        x_test=images[test_idx] if n_test else None,
        y_test=digits.target[test_idx].astype(np.int64) if n_test else None,
        class_names=tuple(str(d) for d in range(10)),
        description=description,
        params=dict(n_train=n_train, n_val=n_val, noise=noise, n_test=n_test, clean=clean, seed=seed),
    )


# --------------------------------------------------------------------------- capteurs de la ligne

#: Capteurs de la ligne de fabrication des cartes : (nom, moyenne, écart-type, décalage des cartes défectueuses
#: en écarts-types). Les unités physiques donnent des échelles de 0,01 à 100 000.
PROCESS_SENSORS: tuple[tuple[str, float, float, float], ...] = (
    ("température du four (°C)", 245.0, 5.0, 0.6),
    ("pression (Pa)", 101_325.0, 1_500.0, 0.0),
    ("vitesse du convoyeur (mm/s)", 850.0, 40.0, 0.0),
    ("épaisseur de cuivre (mm)", 0.035, 0.004, -1.4),
    ("largeur de piste (mm)", 0.20, 0.02, 1.1),
    ("humidité (%)", 45.0, 8.0, 0.4),
    ("courant de gravure (A)", 2.0, 0.3, 0.0),
    ("vibrations (g)", 0.02, 0.008, 1.6),
)
PROCESS_CLASSES = ("conforme", "défectueuse")


def _process_measurements(n: int, defect_ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mesures brutes des capteurs pour ``n`` cartes, dont une proportion ``defect_ratio`` défectueuse."""
    n_defect = int(round(n * defect_ratio))
    labels = np.r_[np.zeros(n - n_defect, dtype=np.int64), np.ones(n_defect, dtype=np.int64)]
    rng.shuffle(labels)
    _, means, stds, shifts = (np.array(column) for column in zip(*PROCESS_SENSORS))
    standard = rng.standard_normal((n, len(PROCESS_SENSORS))) + labels[:, None] * shifts.astype(float)
    return (means.astype(float) + standard * stds.astype(float)).astype(np.float32), labels


def _stratified_split(labels: np.ndarray, val_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (entraînement, validation), mêmes proportions de classes des deux côtés."""
    train, val = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(members) * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _standardize(x_train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Centre et réduit avec les statistiques de l'entraînement seulement."""
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [((x - mean) / std).astype(np.float32) for x in (x_train, *others)]


# --------------------------------------------------------------------------- normalisation


def make_unnormalized_case(
    n_samples: int | None = None,
    *,
    dataset: str = "capteurs",
    val_fraction: float = 0.5,
    clean: bool = False,
    seed: int = 0,
) -> Case:
    """Variables d'échelles très différentes : un réseau ne voit que les plus grandes.

    ``dataset="capteurs"`` (par défaut) : huit capteurs de la ligne de fabrication,
    de la pression en pascals (≈ 100 000) aux vibrations en g (≈ 0,02), pour dire
    si une carte est conforme ; ``n_samples`` cartes (2 000 par défaut), moitié
    défectueuses. Les capteurs qui trahissent les défauts sont justement les plus petits.
    ``"wine"`` et ``"breast_cancer"`` : les jeux livrés avec scikit-learn, bruts, en
    entier (``n_samples`` ne s'y applique pas et est refusé).

    ``clean=True`` : les mêmes données centrées et réduites avec les statistiques de
    l'entraînement seulement.

    >>> case = make_unnormalized_case(200, seed=0)
    >>> case.x_train.shape, case.feature_names[1], float(case.x_train[:, 1].mean()) > 1e5
    ((100, 8), 'pression (Pa)', True)
    """
    dataset = validate_choice("dataset", dataset, ("capteurs", "wine", "breast_cancer"))
    if dataset != "capteurs" and n_samples is not None:
        raise LabkitError(f"`n_samples` ne s'applique qu'à dataset='capteurs' : le jeu {dataset!r} est pris en entier.")
    n_samples = validate_int("n_samples", 2000 if n_samples is None else n_samples, minimum=20)
    val_fraction = validate_float("val_fraction", val_fraction, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True)
    seed = validate_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    if dataset == "capteurs":
        x, y = _process_measurements(n_samples, 0.5, rng)
        names, classes = tuple(s[0] for s in PROCESS_SENSORS), PROCESS_CLASSES
    else:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{dataset}")()
        x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
        names, classes = tuple(bunch.feature_names), tuple(str(c) for c in bunch.target_names)
    train_idx, val_idx = _stratified_split(y, val_fraction, rng)
    x_train, x_val = x[train_idx], x[val_idx]
    stds = x_train.std(axis=0)
    if clean:
        x_train, x_val = _standardize(x_train, x_val)
        description = (
            "Version saine : chaque variable est centrée et réduite (moyenne 0, écart-type 1) avec la moyenne et "
            "l'écart-type de l'entraînement, appliqués tels quels à la validation."
        )
    else:
        description = (
            f"Variables non normalisées : les écarts-types vont de {stds.min():.3g} à {stds.max():.3g} "
            f"(rapport {stds.max() / stds.min():.0e}). Les premières couches d'un réseau additionnent ces valeurs : "
            "les grandes variables écrasent les petites, les activations saturent et la descente de gradient "
            "piétine. "
            + (
                "Ici, les capteurs qui trahissent les défauts sont les plus petits : le modèle ne fait pas mieux "
                "que répondre toujours la classe majoritaire."
                if dataset == "capteurs"
                else "Le modèle apprend moins bien et moins vite que sur les mêmes données standardisées."
            )
        )
    return Case(
        problem="normalisation",
        clean=bool(clean),
        x_train=x_train,
        y_train=y[train_idx],
        x_val=x_val,
        y_val=y[val_idx],
        class_names=classes,
        description=description,
        feature_names=names,
        params=dict(n_samples=len(y), dataset=dataset, val_fraction=val_fraction, clean=clean, seed=seed),
    )


# --------------------------------------------------------------------------- déséquilibre


def make_imbalanced_case(
    defect_ratio: float = 0.05,
    *,
    n_samples: int = 4000,
    val_fraction: float = 0.5,
    n_test: int = 0,
    clean: bool = False,
    seed: int = 0,
) -> Case:
    """Une classe rare : les cartes défectueuses ne sont qu'une proportion ``defect_ratio``.

    Mêmes capteurs que :func:`make_unnormalized_case`, déjà centrés et réduits pour
    isoler le problème. Le découpage est stratifié. Un modèle entraîné sans
    précaution obtient une accuracy flatteuse en ratant la plupart des défauts.
    ``clean=True`` : autant de cartes, moitié défectueuses.

    ``n_test > 0`` ajoute ``n_test`` cartes neuves (``x_test``, ``y_test``, même proportion
    de défauts), tirées après les autres et réduites avec les statistiques de
    l'entraînement : l'entraînement et la validation ne changent pas. Quand la validation
    sert à choisir (un seuil de décision, notebook 02), ces cartes mesurent le choix.

    >>> case = make_imbalanced_case(0.1, n_samples=500, seed=0)
    >>> int(case.y_train.sum()), len(case.y_train)
    (25, 250)
    >>> int(make_imbalanced_case(0.1, n_samples=500, n_test=200, seed=0).y_test.sum())
    20
    """
    defect_ratio = validate_float("defect_ratio", defect_ratio, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True)
    n_samples = validate_int("n_samples", n_samples, minimum=20)
    val_fraction = validate_float("val_fraction", val_fraction, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True)
    n_test = validate_int("n_test", n_test, minimum=0)
    seed = validate_int("seed", seed, minimum=0)
    ratio = 0.5 if clean else defect_ratio
    if min(ratio, 1 - ratio) * n_samples * min(val_fraction, 1 - val_fraction) < 2:
        raise LabkitError(
            f"Avec `n_samples`={n_samples} et `defect_ratio`={defect_ratio:g}, une des classes aurait moins de deux "
            "exemples dans un découpage : augmentez `n_samples`."
        )
    rng = np.random.default_rng(seed)
    x, y = _process_measurements(n_samples, ratio, rng)
    train_idx, val_idx = _stratified_split(y, val_fraction, rng)
    # Les cartes neuves sont tirées après le découpage : entraînement et validation ne dépendent pas de n_test.
    x_test, y_test = _process_measurements(n_test, ratio, rng) if n_test else (None, None)
    x_train, x_val, *rest = _standardize(x[train_idx], x[val_idx], *([] if x_test is None else [x_test]))
    x_test = rest[0] if rest else None
    if clean:
        description = "Version saine : autant de cartes conformes que défectueuses ; l'accuracy dit alors la vérité."
    else:
        description = (
            f"Déséquilibre des classes : {ratio:.0%} seulement des cartes sont défectueuses. Répondre « conforme » à "
            f"tout donne déjà {1 - ratio:.0%} d'accuracy ; un modèle entraîné sans précaution s'en approche en ratant "
            "la plupart des défauts, justement ceux qu'on veut trouver. Il faut regarder le rappel de chaque classe."
        )
    return Case(
        problem="déséquilibre",
        clean=bool(clean),
        x_train=x_train,
        y_train=y[train_idx],
        x_val=x_val,
        y_val=y[val_idx],
        x_test=x_test,
        y_test=y_test,
        class_names=PROCESS_CLASSES,
        description=description,
        feature_names=tuple(s[0] for s in PROCESS_SENSORS),
        params=dict(defect_ratio=ratio, n_samples=n_samples, val_fraction=val_fraction, n_test=n_test, clean=clean, seed=seed),
    )


# --------------------------------------------------------------------------- décalage


def make_shift_case(
    n_train: int = 2000,
    n_val: int = 500,
    n_test: int = 500,
    *,
    camera: Camera = NEW_CAMERA,
    clean: bool = False,
    image_size: int = 64,
    difficulty: float = 0.5,
    seed: int = 0,
) -> Case:
    """Décalage de distribution : en production, une nouvelle caméra photographie les cartes.

    Entraînement et validation viennent de la caméra habituelle ; le test
    (``x_test``) vient de ``camera`` (par défaut ``NEW_CAMERA`` : moins contrastée,
    plus sombre, plus floue, plus bruitée). ``clean=True`` : le test est pris par la
    caméra habituelle. Les cartes du test sont les mêmes dans les deux versions :
    seule la caméra change.

    >>> case = make_shift_case(60, 30, 30, image_size=32, seed=0)
    >>> case.x_test.shape
    (30, 1, 32, 32)
    """
    n_train = validate_int("n_train", n_train, minimum=6)
    n_val = validate_int("n_val", n_val, minimum=6)
    n_test = validate_int("n_test", n_test, minimum=6)
    seed = validate_int("seed", seed, minimum=0)
    if not isinstance(camera, Camera):
        raise LabkitError(f"`camera` doit être un objet labkit.datasets.Camera (par exemple NEW_CAMERA), reçu {type(camera).__name__}.")
    usual = make_pcb_defects(n_train + n_val, image_size=image_size, difficulty=difficulty, seed=seed)
    production = make_pcb_defects(
        n_test, image_size=image_size, difficulty=difficulty, camera=Camera() if clean else camera, seed=seed + 1_000_003
    )
    rng = np.random.default_rng(seed)
    train_idx, val_idx = _stratified_split(usual.labels, n_val / (n_train + n_val), rng)
    if clean:
        description = "Version saine : les cartes de production sont photographiées par la caméra habituelle."
    else:
        description = (
            "Décalage de distribution : le modèle est entraîné et validé sur les photos de la caméra habituelle, "
            f"mais en production une autre caméra prend les cartes (contraste ×{camera.contrast:g}, luminosité "
            f"{camera.brightness:+g}, flou {camera.blur:g} px, bruit {camera.noise:g}). Les défauts sont les mêmes, "
            "les pixels non : le score de validation ne dit plus rien de la production."
        )
    return Case(
        problem="décalage",
        clean=bool(clean),
        x_train=usual.images[train_idx, None],
        y_train=usual.labels[train_idx],
        x_val=usual.images[val_idx, None],
        y_val=usual.labels[val_idx],
        x_test=production.images[:, None],
        y_test=production.labels,
        groups_train=usual.board_ids[train_idx],
        groups_val=usual.board_ids[val_idx],
        groups_test=production.board_ids + usual.board_ids.max() + 1,
        class_names=usual.class_names,
        description=description,
        params=dict(n_train=n_train, n_val=n_val, n_test=n_test, camera=camera, clean=clean, image_size=image_size,
                    difficulty=difficulty, seed=seed),
    )


# --------------------------------------------------------------------------- fuites


_LEAKAGE_OPTIONS = {
    "groups": {"n_boards": 200, "views_per_board": 4},
    "preprocessing": {"n_samples": 200, "n_features": 5000, "n_selected": 20},
}


def make_leakage_case(
    kind: str = "groups",
    *,
    clean: bool = False,
    seed: int = 0,
    n_boards: int | None = None,
    views_per_board: int | None = None,
    n_samples: int | None = None,
    n_features: int | None = None,
    n_selected: int | None = None,
) -> Case:
    """Une fuite d'information entre entraînement et validation, qui gonfle le score (notebook 02).

    ``kind="groups"`` : ``n_boards`` cartes (200) photographiées ``views_per_board`` fois (4).
    Découpées au hasard photo par photo, les vues d'une même carte tombent des deux
    côtés : le modèle reconnaît la carte au lieu du défaut. ``clean=True`` découpe
    par carte (toutes les photos d'une carte du même côté). Images 32×32.

    ``kind="preprocessing"`` : ``n_samples`` mesures (200) de ``n_features`` variables
    (5 000), dont très peu liées à l'étiquette. La fuite : garder les ``n_selected``
    variables (20) les plus liées à l'étiquette **avant** de découper, donc en regardant
    les étiquettes de la validation. ``clean=True`` choisit les variables sur
    l'entraînement seulement. Les données brutes sont dans ``extra``.

    Une option qui ne s'applique pas au ``kind`` choisi est refusée (elle serait ignorée).
    Dans les deux cas, ``x_test`` contient des données neuves (nouvelles cartes,
    nouvelles mesures) passées par la même préparation : le score qu'on y mesure est
    celui qu'on aura vraiment.

    >>> case = make_leakage_case("groups", n_boards=30, views_per_board=2, seed=0)
    >>> len(np.intersect1d(case.groups_train, case.groups_val)) > 0
    True
    """
    kind = validate_choice("kind", kind, tuple(_LEAKAGE_OPTIONS))
    seed = validate_int("seed", seed, minimum=0)
    given = {"n_boards": n_boards, "views_per_board": views_per_board, "n_samples": n_samples,
             "n_features": n_features, "n_selected": n_selected}
    for name, value in given.items():
        if value is not None and name not in _LEAKAGE_OPTIONS[kind]:
            other = next(k for k, names in _LEAKAGE_OPTIONS.items() if name in names)
            raise LabkitError(f"`{name}` ne s'applique qu'à kind={other!r} ; avec kind={kind!r}, il serait ignoré.")
    options = {name: given[name] if given[name] is not None else default for name, default in _LEAKAGE_OPTIONS[kind].items()}
    build = _group_leakage if kind == "groups" else _preprocessing_leakage
    return build(clean=bool(clean), seed=seed, rng=np.random.default_rng(seed), **options)


def _group_leakage(*, clean: bool, seed: int, rng, n_boards: int, views_per_board: int) -> Case:
    """Photos de cartes découpées photo par photo (fuite) ou carte par carte (``clean``)."""
    n_boards = validate_int("n_boards", n_boards, minimum=10)
    views_per_board = validate_int("views_per_board", views_per_board, minimum=2, maximum=20)
    photos = make_pcb_defects(n_boards * views_per_board, image_size=32, views_per_board=views_per_board, seed=seed)
    fresh = make_pcb_defects(max(60, n_boards), image_size=32, seed=seed + 1_000_003)
    if clean:
        boards = rng.permutation(n_boards)
        val_mask = np.isin(photos.board_ids, boards[: n_boards // 4])
        description = (
            "Version saine : découpage par carte. Toutes les photos d'une carte sont du même côté ; la validation "
            "ne contient que des cartes jamais vues, comme en production."
        )
    else:
        val_mask = np.zeros(len(photos), dtype=bool)
        val_mask[rng.permutation(len(photos))[: len(photos) // 4]] = True
        description = (
            f"Fuite par les groupes : chaque carte est photographiée {views_per_board} fois et les photos sont "
            "découpées au hasard. Presque chaque carte de la validation a une sœur dans l'entraînement : un modèle "
            "qui mémorise les cartes y brille, puis échoue sur des cartes neuves."
        )
    return Case(
        problem="fuite",
        clean=clean,
        x_train=photos.images[~val_mask, None],
        y_train=photos.labels[~val_mask],
        x_val=photos.images[val_mask, None],
        y_val=photos.labels[val_mask],
        x_test=fresh.images[:, None],
        y_test=fresh.labels,
        groups_train=photos.board_ids[~val_mask],
        groups_val=photos.board_ids[val_mask],
        groups_test=fresh.board_ids + n_boards,
        class_names=photos.class_names,
        description=description,
        params=dict(kind="groups", clean=clean, seed=seed, n_boards=n_boards, views_per_board=views_per_board),
    )


def _preprocessing_leakage(*, clean: bool, seed: int, rng, n_samples: int, n_features: int, n_selected: int) -> Case:
    """Variables choisies sur toutes les données (fuite) ou sur l'entraînement seul (``clean``)."""
    n_samples = validate_int("n_samples", n_samples, minimum=20)
    n_features = validate_int("n_features", n_features, minimum=10)
    n_selected = validate_int("n_selected", n_selected, minimum=1, maximum=n_features)
    from sklearn.feature_selection import SelectKBest, f_classif

    def measurements(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(n) % 2)
        x = rng.standard_normal((n, n_features)).astype(np.float32)
        x[:, :5] += 0.4 * labels[:, None]  # un signal faible, sur cinq variables seulement
        return x, labels.astype(np.int64)

    x_raw, y = measurements(n_samples)
    x_fresh, y_fresh = measurements(n_samples)
    train_idx, val_idx = _stratified_split(y, 0.5, rng)
    fitted_on = train_idx if clean else np.arange(n_samples)
    selector = SelectKBest(f_classif, k=n_selected).fit(x_raw[fitted_on], y[fitted_on])
    if clean:
        description = (
            f"Version saine : les {n_selected} variables sont choisies sur l'entraînement seulement ; la validation "
            "n'a rien influencé et son score est honnête."
        )
    else:
        description = (
            f"Fuite par le prétraitement : parmi {n_features} variables presque toutes sans lien avec l'étiquette, "
            f"les {n_selected} plus liées à l'étiquette ont été choisies sur toutes les données, validation comprise, "
            "avant de découper. Elles « expliquent » par hasard les étiquettes de la validation : le score de "
            "validation est gonflé et ne tient pas sur des mesures neuves."
        )
    return Case(
        problem="fuite",
        clean=clean,
        x_train=selector.transform(x_raw[train_idx]).astype(np.float32),
        y_train=y[train_idx],
        x_val=selector.transform(x_raw[val_idx]).astype(np.float32),
        y_val=y[val_idx],
        x_test=selector.transform(x_fresh).astype(np.float32),
        y_test=y_fresh,
        class_names=("A", "B"),
        description=description,
        feature_names=tuple(f"v{i}" for i in selector.get_support(indices=True)),
        params=dict(kind="preprocessing", clean=clean, seed=seed, n_samples=n_samples, n_features=n_features,
                    n_selected=n_selected),
        extra=dict(x_train_raw=x_raw[train_idx], x_val_raw=x_raw[val_idx], x_test_raw=x_fresh, selector=selector),
    )
