"""Contrôle de la qualité d'un tableau de données, avant tout entraînement.

Introduit dans le notebook 02 : valeurs manquantes ou infinies, valeurs hors des
plages plausibles, variables constantes, doublons et quasi-doublons, étiquettes
suspectes. Chaque contrôle donne les lignes concernées (``report.values["rows"]``) :
on décide ensuite de retirer, de corriger ou de faire relire.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_float, validate_int, validate_labels
from ._report import Report

#: Les contrôles par ligne, dans l'ordre du rapport (clés de ``report.values["rows"]``).
QUALITY_CHECKS = ("valeurs manquantes", "valeurs infinies", "hors plage", "doublons", "quasi-doublons", "étiquettes suspectes")


def _decimal(value: float) -> str:
    """Un nombre écrit à la française (virgule décimale)."""
    return f"{value:g}".replace(".", ",")


def _robust_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Médiane et échelle robuste (1,4826 × écart absolu médian) de chaque colonne ; échelle nulle → écart-type, puis 1."""
    center = np.median(x, axis=0)
    scale = 1.4826 * np.median(np.abs(x - center), axis=0)
    fallback = x.std(axis=0)
    scale = np.where(scale > 0, scale, np.where(fallback > 0, fallback, 1.0))
    return center, scale


def _earlier_neighbour_distance(z: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Pour chaque ligne, la distance euclidienne à la plus proche des lignes **précédentes** (``inf`` pour la première)."""
    norms = (z**2).sum(axis=1)
    out = np.full(len(z), np.inf)
    for start in range(0, len(z), chunk):
        block = z[start : start + chunk]
        d2 = norms[start : start + chunk, None] + norms[None, :] - 2 * block @ z.T
        rows = np.arange(start, start + len(block))
        d2[np.arange(len(z))[None, :] >= rows[:, None]] = np.inf
        out[rows] = np.sqrt(np.maximum(d2.min(axis=1), 0))
    return out


def data_quality_report(
    x,
    y=None,
    *,
    feature_names=None,
    valid_ranges: dict | None = None,
    near_tolerance: float = 0.05,
    label_threshold: float = 0.05,
    seed: int = 0,
) -> Report:
    """Contrôle un tableau ``x`` (exemples × variables) et, si elles sont données, ses étiquettes ``y``.

    - **valeurs manquantes** (NaN) et **valeurs infinies** : lignes et variables touchées ;
    - **hors plage** : avec ``valid_ranges`` (``{variable: (minimum, maximum)}``), les
      valeurs impossibles (une erreur d'unité, un capteur qui sature) ;
    - **variables constantes** : une seule valeur finie, aucune information (et un
      écart-type nul, qui fait diviser par zéro une normalisation naïve) ;
    - **doublons** : lignes identiques à une ligne précédente ; **quasi-doublons** : lignes
      à moins de ``near_tolerance`` échelle robuste (par variable, en moyenne quadratique)
      d'une ligne précédente, comme une mesure ressaisie ou arrondie ;
    - **étiquettes suspectes** (avec ``y``) : doublons exacts qui portent des étiquettes
      différentes, et exemples dont un modèle simple (régression logistique sur les
      variables réduites de façon robuste, en validation croisée à 5 plis) donne à
      l'étiquette reçue une probabilité inférieure à ``label_threshold``. Ce sont des
      lignes **à relire** : le modèle se trompe aussi sur des exemples difficiles.

    ``values["rows"]`` donne, pour chaque contrôle de :data:`QUALITY_CHECKS`, les indices
    des lignes concernées (pour les doublons, la seconde ligne de chaque paire) ;
    ``values["rows_to_remove"]`` réunit tout sauf les étiquettes suspectes ;
    ``values["constant_features"]`` nomme les variables constantes. Le tableau donne le
    détail par variable.

    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [np.nan, 5.0], [2.0, 5.0], [3.0, 5.0]])
    >>> report = data_quality_report(x, feature_names=["a", "b"])
    >>> report.flagged, report.values["rows"]["valeurs manquantes"].tolist(), report.values["rows"]["doublons"].tolist()
    (True, [2], [3])
    >>> report.values["constant_features"]
    ['b']
    """
    x = validate_array("x", x, min_ndim=2, max_ndim=2, allow_nonfinite=True)
    n, d = x.shape
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(d)]
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != d:
        raise LabkitError(f"`feature_names` doit nommer les {d} colonnes de `x`, reçu {len(feature_names)} noms.")
    if y is not None:
        y = validate_labels("y", y, length=n)
    if valid_ranges is None:
        valid_ranges = {}
    if not isinstance(valid_ranges, dict):
        raise LabkitError(f"`valid_ranges` doit être un dictionnaire {{variable: (minimum, maximum)}}, reçu {type(valid_ranges).__name__}.")
    unknown = sorted(set(valid_ranges) - set(feature_names))
    if unknown:
        raise LabkitError(f"`valid_ranges` nomme des variables absentes de `feature_names` : {unknown}.")
    near_tolerance = validate_float("near_tolerance", near_tolerance, minimum=0)
    label_threshold = validate_float("label_threshold", label_threshold, minimum=0, maximum=0.5)
    seed = validate_int("seed", seed, minimum=0)

    import pandas as pd

    x = x.astype(np.float64)
    nan = np.isnan(x)
    infinite = np.isinf(x)
    finite = ~(nan | infinite)
    out_of_range = np.zeros_like(finite)
    for name, bounds in valid_ranges.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise LabkitError(f"`valid_ranges[{name!r}]` doit être un couple (minimum, maximum), reçu {bounds!r}.") from None
        if not low <= high:
            raise LabkitError(f"`valid_ranges[{name!r}]` : le minimum {low:g} dépasse le maximum {high:g}.")
        column = feature_names.index(name)
        out_of_range[:, column] = finite[:, column] & ((x[:, column] < low) | (x[:, column] > high))

    with np.errstate(all="ignore"):
        has_finite = finite.any(axis=0)
        low_values = np.where(has_finite, np.nanmin(np.where(finite, x, np.inf), axis=0), np.nan)
        high_values = np.where(has_finite, np.nanmax(np.where(finite, x, -np.inf), axis=0), np.nan)
    constant = [name for name, lo, hi in zip(feature_names, low_values, high_values) if not lo < hi]

    # Doublons exacts : mêmes octets (NaN compris) qu'une ligne précédente.
    first_seen: dict[bytes, int] = {}
    duplicate_of = np.full(n, -1)
    for i, row in enumerate(np.ascontiguousarray(x)):
        key = row.tobytes()
        if key in first_seen:
            duplicate_of[i] = first_seen[key]
        else:
            first_seen[key] = i
    duplicates = np.flatnonzero(duplicate_of >= 0)

    # Quasi-doublons : parmi les lignes finies et dans les plages, variables réduites de façon robuste.
    usable = finite.all(axis=1) & ~out_of_range.any(axis=1)
    near = np.zeros(0, dtype=int)
    center, scale = (np.zeros(d), np.ones(d))
    if usable.sum() >= 2:
        center, scale = _robust_scale(x[usable])
        z = (x[usable] - center) / scale
        distance = _earlier_neighbour_distance(z)
        candidates = np.flatnonzero(usable)[distance < near_tolerance * np.sqrt(d)]
        near = np.setdiff1d(candidates, duplicates)

    suspicious = np.zeros(0, dtype=int)
    conflicting = np.zeros(0, dtype=int)
    model_flags = np.zeros(0, dtype=int)
    label_note = ""
    if y is not None:
        pairs = duplicates[y[duplicates] != y[duplicate_of[duplicates]]]
        conflicting = np.unique(np.r_[pairs, duplicate_of[pairs]]).astype(int)
        keep = usable.copy()
        keep[duplicates] = False
        classes, class_counts = np.unique(y[keep], return_counts=True)
        folds = int(min(5, class_counts.min())) if len(classes) >= 2 else 0
        if folds >= 2:
            from sklearn.linear_model import LogisticRegression
            from sklearn.model_selection import StratifiedKFold, cross_val_predict

            z = np.clip((x[keep] - center) / scale, -5, 5)
            cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
            probabilities = cross_val_predict(LogisticRegression(max_iter=1000), z, y[keep], cv=cv, method="predict_proba")
            given = probabilities[np.arange(len(z)), np.searchsorted(classes, y[keep])]
            model_flags = np.flatnonzero(keep)[given < label_threshold]
        else:
            label_note = " (contrôle par modèle impossible : il faut au moins deux classes de deux exemples)"
        suspicious = np.union1d(conflicting, model_flags).astype(int)

    rows = {
        "valeurs manquantes": np.flatnonzero(nan.any(axis=1)),
        "valeurs infinies": np.flatnonzero(infinite.any(axis=1)),
        "hors plage": np.flatnonzero(out_of_range.any(axis=1)),
        "doublons": duplicates,
        "quasi-doublons": near,
        "étiquettes suspectes": suspicious,
    }
    to_remove = np.unique(np.concatenate([rows[k] for k in QUALITY_CHECKS[:-1]])).astype(int)
    table = pd.DataFrame(
        {
            "manquantes": nan.sum(axis=0),
            "infinies": infinite.sum(axis=0),
            "hors plage": out_of_range.sum(axis=0),
            "min": low_values,
            "max": high_values,
            "constante": ["oui" if name in constant else "non" for name in feature_names],
        },
        index=pd.Index(feature_names, name="variable"),
    )

    def touched(mask: np.ndarray) -> str:
        names = [f"{feature_names[j]} ({int(mask[:, j].sum())})" for j in np.flatnonzero(mask.any(axis=0))]
        return ", ".join(names)

    evidence = []
    if len(rows["valeurs manquantes"]):
        evidence.append(f"valeurs manquantes (NaN) : {len(rows['valeurs manquantes'])} lignes ; {touched(nan)}")
    if len(rows["valeurs infinies"]):
        evidence.append(f"valeurs infinies : {len(rows['valeurs infinies'])} lignes ; {touched(infinite)}")
    if len(rows["hors plage"]):
        evidence.append(f"valeurs hors des plages plausibles : {len(rows['hors plage'])} lignes ; {touched(out_of_range)}")
    if constant:
        evidence.append(f"variables constantes (aucune information) : {', '.join(constant)}")
    if len(duplicates):
        evidence.append(f"doublons exacts : {len(duplicates)} lignes répètent une ligne précédente")
    if len(near):
        evidence.append(f"quasi-doublons : {len(near)} lignes à moins de {_decimal(near_tolerance)} échelle robuste d'une ligne précédente")
    if y is not None:
        evidence.append(
            f"étiquettes suspectes : {len(suspicious)} lignes ({len(conflicting)} dans des doublons aux étiquettes différentes, "
            f"{len(model_flags)} contredites avec une probabilité < {_decimal(label_threshold)} par un modèle simple){label_note}"
        )
    flagged = bool(constant) or any(len(v) for v in rows.values())
    if flagged:
        verdict = f"{len(to_remove)} lignes sur {n} à retirer ou corriger"
        if y is not None:
            verdict += f", {len(suspicious)} étiquettes à relire"
        advice = (
            "retirer (ou imputer avec des statistiques de l'entraînement) les valeurs manquantes, infinies et hors plage ; "
            "dédoublonner **avant** de découper (sinon un doublon fuit dans la validation) ; supprimer les variables "
            "constantes ; faire relire les étiquettes suspectes plutôt que les corriger automatiquement."
        )
    else:
        verdict = "aucun problème détecté"
        advice = ""
        evidence.append(f"{n} lignes et {d} variables : toutes finies, sans doublon ni variable constante")
    values = {
        "n_rows": n,
        "rows": rows,
        "counts": {k: int(len(v)) for k, v in rows.items()},
        "rows_to_remove": to_remove,
        "constant_features": constant,
        "conflicting_rows": conflicting,
    }
    return Report("Qualité des données", verdict, flagged, evidence, advice, table, values)
