"""Un journal de mesures mal tenu : le cas d'étude de la qualité des données (notebook 02).

:func:`make_quality_case` reprend les capteurs de la ligne de fabrication
(:data:`labkit.datasets.PROCESS_SENSORS`, en unités physiques) et abîme
l'entraînement comme le fait un vrai journal : valeurs manquantes, valeurs infinies,
erreurs d'unité, doublons, quasi-doublons, variable constante, étiquettes fausses.
Chaque défaut injecté est noté dans ``case.extra`` : on peut mesurer ce qu'un
contrôle (:func:`labkit.diagnosis.data_quality_report`) retrouve.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_bool, validate_float, validate_int
from .cases import PROCESS_CLASSES, PROCESS_SENSORS, Case, _process_measurements, _stratified_split

#: La variable ajoutée au journal : une tension d'alimentation toujours lue à 24 V (capteur bloqué).
STUCK_SENSOR = ("tension d'alimentation (V)", 24.0)

#: Plages plausibles (minimum, maximum) des capteurs dont on connaît les limites physiques.
VALID_RANGES: dict[str, tuple[float, float]] = {
    "température du four (°C)": (150.0, 350.0),
    "pression (Pa)": (80_000.0, 120_000.0),
    "vitesse du convoyeur (mm/s)": (500.0, 1_200.0),
    "épaisseur de cuivre (mm)": (0.005, 0.1),
    "largeur de piste (mm)": (0.05, 0.5),
    "humidité (%)": (0.0, 100.0),
    "courant de gravure (A)": (0.0, 5.0),
    STUCK_SENSOR[0]: (20.0, 28.0),
}

#: Part des lignes d'entraînement touchées par chaque défaut (par rapport aux lignes d'origine).
QUALITY_DEFECTS = {
    "missing": 0.02,  # un capteur déconnecté : NaN
    "infinite": 0.005,  # un débordement à l'enregistrement : ±inf
    "unit_error": 0.015,  # épaisseur notée en µm au lieu de mm (× 1000)
    "flipped": 0.04,  # étiquette inversée par l'opérateur
    "duplicate": 0.03,  # ligne enregistrée deux fois
    "near_duplicate": 0.02,  # ligne ressaisie à la main (4 chiffres significatifs)
    "conflicting": 0.005,  # ligne enregistrée deux fois, avec deux étiquettes différentes
}


def _round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Arrondit chaque valeur à ``digits`` chiffres significatifs."""
    magnitude = np.floor(np.log10(np.abs(np.where(x == 0, 1.0, x))))
    factor = 10.0 ** (digits - 1 - magnitude)
    return np.round(x * factor) / factor


def make_quality_case(n_samples: int = 2000, *, val_fraction: float = 0.5, clean: bool = False, seed: int = 0) -> Case:
    """Les capteurs de la ligne, tels qu'un journal mal tenu les enregistre (entraînement abîmé).

    ``n_samples`` cartes, moitié défectueuses, découpées en entraînement et validation
    (stratifié). La validation est propre (relue à la main) ; l'entraînement, en unités
    physiques comme :func:`make_unnormalized_case`, reçoit les défauts de
    :data:`QUALITY_DEFECTS` : NaN, infinis, épaisseurs en µm au lieu de mm, étiquettes
    inversées, doublons exacts (parfois avec une autre étiquette), quasi-doublons ressaisis
    à 4 chiffres significatifs, et une neuvième variable bloquée à 24 V.

    ``case.extra`` dit où sont les défauts (indices de lignes de ``x_train``) :
    ``missing_rows``, ``infinite_rows``, ``unit_error_rows``, ``flipped_rows``,
    ``duplicate_rows`` et ``near_duplicate_rows`` (de chaque paire, la ligne qui vient
    **après** l'autre ; les doublons contradictoires comptent parmi les doublons),
    ``conflicting_rows`` (les deux lignes de chaque doublon contradictoire : rien ne dit
    laquelle a la bonne étiquette), ainsi que
    ``constant_features`` et ``valid_ranges`` (plages plausibles, pour le contrôle).

    ``clean=True`` : les mêmes cartes, sans aucun défaut (huit capteurs).

    >>> case = make_quality_case(400, seed=0)
    >>> bool(np.isnan(case.x_train).any()), case.x_train.shape[1], len(case.extra["duplicate_rows"])
    (True, 9, 7)
    >>> make_quality_case(400, clean=True, seed=0).x_train.shape
    (200, 8)
    """
    n_samples = validate_int("n_samples", n_samples, minimum=200)
    val_fraction = validate_float("val_fraction", val_fraction, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True)
    clean = validate_bool("clean", clean)
    seed = validate_int("seed", seed, minimum=0)
    if n_samples * (1 - val_fraction) < 100:
        raise LabkitError(f"L'entraînement aurait moins de 100 cartes (`n_samples`={n_samples}, `val_fraction`={val_fraction:g}) : "
                          "augmentez `n_samples` pour que chaque défaut soit présent.")
    rng = np.random.default_rng(seed)
    x, y = _process_measurements(n_samples, 0.5, rng)
    train_idx, val_idx = _stratified_split(y, val_fraction, rng)
    names = tuple(s[0] for s in PROCESS_SENSORS)
    if clean:
        return Case(
            problem="qualité",
            clean=True,
            x_train=x[train_idx],
            y_train=y[train_idx],
            x_val=x[val_idx],
            y_val=y[val_idx],
            class_names=PROCESS_CLASSES,
            description="Version saine : le même journal, sans valeur manquante, doublon, erreur d'unité ni étiquette fausse.",
            feature_names=names,
            params=dict(n_samples=n_samples, val_fraction=val_fraction, clean=True, seed=seed),
        )

    stuck = np.full((n_samples, 1), STUCK_SENSOR[1], dtype=np.float32)
    x = np.concatenate([x, stuck], axis=1)
    names = (*names, STUCK_SENSOR[0])
    x_train, y_train = x[train_idx].copy(), y[train_idx].copy()
    n = len(y_train)
    counts = {name: max(1, int(round(share * n))) for name, share in QUALITY_DEFECTS.items()}
    # Lignes d'origine touchées : ensembles disjoints, pour que chaque défaut se compte à part.
    order = rng.permutation(n)
    taken, start = {}, 0
    for name in ("missing", "infinite", "unit_error", "flipped", "duplicate", "near_duplicate", "conflicting"):
        taken[name] = order[start : start + counts[name]]
        start += counts[name]
    n_sensors = len(PROCESS_SENSORS)
    x_train[taken["missing"], rng.integers(0, n_sensors, counts["missing"])] = np.nan
    x_train[taken["infinite"], rng.integers(0, n_sensors, counts["infinite"])] = rng.choice([-np.inf, np.inf], counts["infinite"])
    thickness = names.index("épaisseur de cuivre (mm)")
    x_train[taken["unit_error"], thickness] *= 1000.0
    y_train[taken["flipped"]] = 1 - y_train[taken["flipped"]]
    # Les copies sont ajoutées en fin de journal, puis tout est mélangé.
    retyped = _round_significant(x_train[taken["near_duplicate"]].astype(np.float64), 4).astype(np.float32)
    copies_x = [x_train[taken["duplicate"]], retyped, x_train[taken["conflicting"]]]
    copies_y = [y_train[taken["duplicate"]], y_train[taken["near_duplicate"]], 1 - y_train[taken["conflicting"]]]
    kinds = np.r_[np.zeros(n, int), np.full(counts["duplicate"], 1), np.full(counts["near_duplicate"], 2),
                  np.full(counts["conflicting"], 3)]
    source = np.r_[np.arange(n), taken["duplicate"], taken["near_duplicate"], taken["conflicting"]]
    x_all = np.concatenate([x_train, *copies_x])
    y_all = np.concatenate([y_train, *copies_y])
    shuffle = rng.permutation(len(y_all))
    x_all, y_all, kinds, source = x_all[shuffle], y_all[shuffle], kinds[shuffle], source[shuffle]
    position = np.empty(n, int)  # nouvelle position de chaque ligne d'origine
    original = kinds == 0
    position[source[original]] = np.flatnonzero(original)

    def pairs(*kind: int) -> tuple[np.ndarray, np.ndarray]:
        copies = np.flatnonzero(np.isin(kinds, kind))
        return copies, position[source[copies]]

    extra = {
        "missing_rows": np.sort(position[taken["missing"]]),
        "infinite_rows": np.sort(position[taken["infinite"]]),
        "unit_error_rows": np.sort(position[taken["unit_error"]]),
        "flipped_rows": np.sort(position[taken["flipped"]]),
        "duplicate_rows": np.sort(np.maximum(*pairs(1, 3))),
        "near_duplicate_rows": np.sort(np.maximum(*pairs(2))),
        "conflicting_rows": np.sort(np.concatenate(pairs(3))),
        "constant_features": (STUCK_SENSOR[0],),
        "valid_ranges": dict(VALID_RANGES),
    }
    description = (
        f"Qualité des données : un journal de {len(y_all)} lignes d'entraînement en unités physiques, avec des valeurs "
        f"manquantes ({counts['missing']} lignes) et infinies ({counts['infinite']}), des épaisseurs notées en µm au lieu de mm "
        f"({counts['unit_error']}), des doublons ({counts['duplicate'] + counts['conflicting']}, dont {counts['conflicting']} "
        f"avec une autre étiquette), des quasi-doublons ressaisis à la main ({counts['near_duplicate']}), des étiquettes "
        f"inversées ({counts['flipped']}) et une variable bloquée ({STUCK_SENSOR[0]}). La validation, relue, est propre."
    )
    return Case(
        problem="qualité",
        clean=False,
        x_train=x_all.astype(np.float32),
        y_train=y_all.astype(np.int64),
        x_val=x[val_idx],
        y_val=y[val_idx],
        class_names=PROCESS_CLASSES,
        description=description,
        feature_names=names,
        params=dict(n_samples=n_samples, val_fraction=val_fraction, clean=False, seed=seed),
        extra=extra,
    )
