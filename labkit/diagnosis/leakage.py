"""Chercheur de fuites entre découpages : doublons, quasi-doublons, groupes partagés.

Introduit dans le notebook 02.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_float, validate_int
from ._report import Report


def _nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Distance euclidienne de chaque ligne de ``queries`` à la plus proche de ``reference``."""
    ref_norms = (reference**2).sum(axis=1)
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        d2 = (block**2).sum(axis=1)[:, None] + ref_norms[None, :] - 2 * block @ reference.T
        out[start : start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0))
    return out


def _thumbnails(images: np.ndarray, side: int = 8) -> np.ndarray:
    """Vignettes ``side``×``side`` (moyenne par blocs), centrées et réduites image par image."""
    grid = images.reshape(len(images), -1, images.shape[-2], images.shape[-1]).mean(axis=1)
    h, w = grid.shape[1:]
    bh, bw = max(1, h // side), max(1, w // side)
    grid = grid[:, : (h // bh) * bh, : (w // bw) * bw]
    small = grid.reshape(len(grid), h // bh, bh, w // bw, bw).mean(axis=(2, 4)).reshape(len(grid), -1).astype(np.float64)
    small -= small.mean(axis=1, keepdims=True)
    return small / np.maximum(small.std(axis=1, keepdims=True), 1e-12)


def find_leakage(
    x_train,
    x_test,
    *,
    groups_train=None,
    groups_test=None,
    near_ratio: float = 0.15,
    max_near_fraction: float = 0.02,
    seed: int = 0,
) -> Report:
    """Cherche ce que ``x_test`` (validation ou test) partage avec ``x_train``.

    - **doublons exacts** : mêmes octets des deux côtés ;
    - **quasi-doublons** : pour des images, celles dont la vignette 8×8 normalisée est
      plus proche d'une vignette d'entraînement que ``near_ratio`` fois la distance
      typique entre deux images (deux photos de la même carte) ; pour un tableau, les
      lignes identiques à l'arrondi près ; signalé au-delà de ``max_near_fraction`` ;
    - **groupes partagés** (si ``groups_train`` et ``groups_test`` sont donnés, par
      exemple l'identifiant de carte) : un groupe présent des deux côtés fait fuir
      l'information du test dans l'entraînement.

    Une fuite gonfle le score mesuré : le modèle reconnaît ce qu'il a déjà vu.

    >>> x = np.arange(40, dtype=float).reshape(20, 2)
    >>> find_leakage(x[:15], x[10:]).values["n_exact"]
    5
    """
    x_train = validate_array("x_train", x_train, min_ndim=1)
    x_test = validate_array("x_test", x_test, min_ndim=1)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise LabkitError(f"`x_train` et `x_test` doivent avoir la même forme par exemple : {x_train.shape[1:]} ≠ {x_test.shape[1:]}.")
    near_ratio = validate_float("near_ratio", near_ratio, minimum=0, maximum=1)
    max_near_fraction = validate_float("max_near_fraction", max_near_fraction, minimum=0, maximum=1)
    seed = validate_int("seed", seed, minimum=0)
    if (groups_train is None) != (groups_test is None):
        raise LabkitError("Donnez `groups_train` et `groups_test` ensemble (un identifiant de groupe par exemple), ou aucun des deux.")

    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1).astype(np.float32)}
    exact = np.array([row.tobytes() in train_rows for row in x_test.reshape(len(x_test), -1).astype(np.float32)])

    if x_train.ndim >= 3:
        # Images : deux photos d'une même carte diffèrent par un petit décalage et le bruit ;
        # leurs vignettes 8×8 normalisées (comme un hachage perceptuel) restent très proches.
        train, test = _thumbnails(x_train), _thumbnails(x_test)
        rng = np.random.default_rng(seed)
        i, j = rng.integers(len(train), size=500), rng.integers(len(test), size=500)
        threshold = near_ratio * float(np.median(np.linalg.norm(train[i] - test[j], axis=1)))
        rule = f"vignettes 8×8 à moins de {near_ratio:g} × la distance typique"
    else:
        # Tableaux : même ligne, à l'arrondi près, une fois chaque variable centrée et réduite.
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        train = ((x_train - mean) / std).reshape(len(x_train), -1).astype(np.float64)
        test = ((x_test - mean) / std).reshape(len(x_test), -1).astype(np.float64)
        threshold = 1e-3 * np.sqrt(train.shape[1])
        rule = "lignes identiques à 0,001 écart-type près"
    nearest = _nearest_distances(test, train)
    near = (nearest < threshold) & ~exact

    evidence = [
        f"{int(exact.sum())} doublon(s) exact(s) et {int(near.sum())} quasi-doublon(s) sur {len(test)} exemples (quasi-doublon : {rule})"
    ]
    values = {
        "n_exact": int(exact.sum()),
        "n_near": int(near.sum()),
        "near_fraction": float(near.mean()),
    }
    flagged = bool(exact.any()) or values["near_fraction"] > max_near_fraction
    if groups_train is not None:
        groups_train = np.asarray(groups_train)
        groups_test = np.asarray(groups_test)
        if groups_train.shape != (len(x_train),) or groups_test.shape != (len(x_test),):
            raise LabkitError("`groups_train` et `groups_test` doivent donner un groupe par exemple de `x_train` et de `x_test`.")
        shared = np.intersect1d(groups_train, groups_test)
        in_shared = np.isin(groups_test, shared)
        values.update(shared_groups=int(len(shared)), rows_in_shared_groups=int(in_shared.sum()))
        evidence.append(
            f"{len(shared)} groupe(s) présents des deux côtés, soit {int(in_shared.sum())} exemples de test sur {len(test)} "
            f"({in_shared.mean():.0%})"
        )
        flagged = flagged or len(shared) > 0
    if flagged:
        verdict = "fuite : le test partage des exemples avec l'entraînement"
        advice = (
            "supprimer les doublons avant de découper, et découper par groupe (GroupShuffleSplit, GroupKFold) "
            "pour que toutes les photos d'une même carte tombent du même côté."
        )
    else:
        verdict = "pas de fuite détectée entre les découpages"
        advice = ""
    return Report("Fuite entre découpages", verdict, flagged, evidence, advice, None, values)


def validation_optimism(validation_score, fresh_score, *, tolerance: float = 0.05, metric: str = "accuracy") -> Report:
    """Le score de validation tient-il sur des données neuves, jamais touchées ?

    Une fuite qui ne laisse pas de doublon (un prétraitement ajusté avant le
    découpage, par exemple une sélection de variables qui a vu les étiquettes de la
    validation) se trahit ainsi : la validation promet plus que ce que le modèle
    obtient sur des données arrivées après coup. Signalé quand l'écart dépasse
    ``tolerance``.

    >>> validation_optimism(0.81, 0.52).flagged
    True
    """
    validation_score = validate_float("validation_score", validation_score)
    fresh_score = validate_float("fresh_score", fresh_score)
    tolerance = validate_float("tolerance", tolerance, minimum=0)
    gap = validation_score - fresh_score
    flagged = gap > tolerance
    evidence = [
        f"{metric} : validation {validation_score:.3f}, données neuves {fresh_score:.3f} (écart {gap:+.3f}, tolérance {tolerance:g})"
    ]
    if flagged:
        verdict = "la validation est trop optimiste : une fuite est probable"
        advice = (
            "ajuster tout prétraitement (normalisation, sélection de variables, imputation) sur l'entraînement "
            "seulement, dans un Pipeline, et vérifier qu'aucun exemple ni groupe n'est partagé (find_leakage)."
        )
    else:
        verdict = "le score de validation tient sur des données neuves"
        advice = ""
    values = {"validation_score": validation_score, "fresh_score": fresh_score, "gap": gap}
    return Report("Optimisme de la validation", verdict, flagged, evidence, advice, None, values)
