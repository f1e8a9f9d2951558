"""Rapport sur les échelles des variables : repérer des données non normalisées.

Introduit dans le notebook 02.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_float
from ._report import Report


def feature_scale_report(x, feature_names=None, *, max_ratio: float = 100.0, tolerance: float = 0.5) -> Report:
    """Compare les échelles (écarts-types) et les centres des variables d'un tableau (N, variables).

    Un réseau entraîné par descente de gradient voit des variables d'échelles très
    différentes comme un problème mal conditionné : les grandes écrasent les petites.
    Le rapport est signalé quand le rapport entre le plus grand et le plus petit
    écart-type dépasse ``max_ratio``, ou quand une variable est centrée à plus de
    ``1 / tolerance`` écarts-types de zéro (données ni centrées ni réduites).

    >>> rng = np.random.default_rng(0)
    >>> x = np.c_[rng.normal(0, 1, 200), rng.normal(1e5, 1e3, 200)]
    >>> report = feature_scale_report(x, ["petite", "grande"])
    >>> report.flagged, report.values["worst_feature"]
    (True, 'grande')
    """
    x = validate_array("x", x, min_ndim=2, max_ndim=2)
    max_ratio = validate_float("max_ratio", max_ratio, minimum=1)
    tolerance = validate_float("tolerance", tolerance, minimum=0, exclusive_minimum=True)
    n_features = x.shape[1]
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(n_features)]
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != n_features:
        raise LabkitError(f"`feature_names` doit nommer les {n_features} colonnes de `x`, reçu {len(feature_names)} noms.")

    import pandas as pd

    x = x.astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    constant = std == 0
    table = pd.DataFrame(
        {"moyenne": mean, "écart-type": std, "min": x.min(axis=0), "max": x.max(axis=0)},
        index=pd.Index(feature_names, name="variable"),
    )
    varying = std[~constant]
    ratio = float(varying.max() / varying.min()) if len(varying) else 1.0
    off_center = np.abs(mean[~constant]) / varying if len(varying) else np.zeros(0)
    worst_center = float(off_center.max()) if len(off_center) else 0.0
    names = np.asarray(feature_names)[~constant]
    largest = str(names[np.argmax(varying)]) if len(varying) else ""
    smallest = str(names[np.argmin(varying)]) if len(varying) else ""

    evidence = []
    if len(varying):
        evidence.append(
            f"écart-type le plus grand : {largest} ({varying.max():.3g}) ; le plus petit : {smallest} ({varying.min():.3g}) "
            f"→ rapport {ratio:.3g}"
        )
        evidence.append(f"centre le plus éloigné de zéro : {worst_center:.3g} écarts-types")
    if constant.any():
        evidence.append(f"variables constantes (aucune information) : {', '.join(np.asarray(feature_names)[constant])}")
    flagged = ratio > max_ratio or worst_center > 1 / tolerance
    if flagged:
        verdict = "échelles très différentes : données non normalisées"
        advice = (
            "standardiser chaque variable (moyenne 0, écart-type 1) avec des statistiques calculées "
            "sur l'entraînement seulement, puis appliquer la même transformation à la validation et au test."
        )
    else:
        verdict = "échelles comparables"
        advice = ""
    return Report(
        "Échelles des variables",
        verdict,
        bool(flagged),
        evidence,
        advice,
        table,
        {"std_ratio": ratio, "max_center": worst_center, "worst_feature": largest, "constant": int(constant.sum())},
    )
