"""Rapport sur l'équilibre des classes et les métriques qui restent honnêtes.

Introduit dans le notebook 02.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_float, validate_labels
from ._report import Report


def class_balance_report(
    y_true,
    y_pred=None,
    *,
    class_names=None,
    max_ratio: float = 3.0,
    max_recall_gap: float = 0.15,
) -> Report:
    """Répartition des classes et, si ``y_pred`` est donné, les métriques honnêtes.

    Signalé quand la classe majoritaire est plus de ``max_ratio`` fois plus
    fréquente que la minoritaire, ou quand le rappel d'une classe est inférieur de
    plus de ``max_recall_gap`` à la précision globale (accuracy) : le modèle
    sacrifie une classe et la précision le cache.

    ``values`` contient ``imbalance_ratio``, ``majority_baseline`` (la précision d'un
    modèle qui répond toujours la classe majoritaire) et, avec ``y_pred``,
    ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``mcc``, ``min_recall``.

    >>> report = class_balance_report([0] * 95 + [1] * 5, [0] * 100)
    >>> report.flagged, report.values["accuracy"], report.values["min_recall"]
    (True, 0.95, 0.0)
    """
    y_true = validate_labels("y_true", y_true)
    max_ratio = validate_float("max_ratio", max_ratio, minimum=1)
    max_recall_gap = validate_float("max_recall_gap", max_recall_gap, minimum=0, maximum=1)
    n_classes = int(y_true.max()) + 1
    if y_pred is not None:
        y_pred = validate_labels("y_pred", y_pred, length=len(y_true), length_of="y_true")
        n_classes = max(n_classes, int(y_pred.max()) + 1)
    if class_names is None:
        class_names = [str(c) for c in range(n_classes)]
    class_names = [str(c) for c in class_names]
    if len(class_names) < n_classes:
        raise LabkitError(f"`class_names` doit nommer les {n_classes} classes, reçu {len(class_names)} noms.")
    n_classes = len(class_names)

    import pandas as pd

    counts = np.bincount(y_true, minlength=n_classes)
    present = counts[counts > 0]
    ratio = float(present.max() / present.min())
    baseline = float(counts.max() / counts.sum())
    table = pd.DataFrame({"effectif": counts, "proportion": counts / counts.sum()}, index=pd.Index(class_names, name="classe"))
    values = {"imbalance_ratio": ratio, "majority_baseline": baseline}
    minority = class_names[int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))]
    evidence = [
        f"classe la plus rare : {minority} ({present.min()} exemples, {present.min() / counts.sum():.1%}) ; "
        f"rapport majoritaire / minoritaire : {ratio:.3g}",
        f"un modèle qui répond toujours la classe majoritaire obtient déjà {baseline:.1%} de précision",
    ]
    flagged = ratio > max_ratio
    if y_pred is not None:
        from sklearn.metrics import balanced_accuracy_score, f1_score, matthews_corrcoef, precision_recall_fscore_support

        labels = np.arange(n_classes)
        precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
        # La « precision » anglaise par classe : « précision » désigne toujours l'accuracy dans le cours.
        table["valeur prédictive positive"], table["rappel"], table["F1"] = precision, recall, f1
        observed = counts > 0
        accuracy = float(np.mean(y_true == y_pred))
        min_recall = float(recall[observed].min())
        worst = class_names[int(np.flatnonzero(observed)[np.argmin(recall[observed])])]
        values.update(
            accuracy=accuracy,
            balanced_accuracy=float(balanced_accuracy_score(y_true, y_pred)),
            macro_f1=float(f1_score(y_true, y_pred, labels=labels[observed], average="macro", zero_division=0)),
            mcc=float(matthews_corrcoef(y_true, y_pred)),
            min_recall=min_recall,
            worst_class=worst,
        )
        evidence.append(
            f"précision {accuracy:.1%}, mais rappel de « {worst} » {min_recall:.1%} ; précision équilibrée "
            f"{values['balanced_accuracy']:.1%}, F1 macro {values['macro_f1']:.3f}, MCC {values['mcc']:.3f}"
        )
        flagged = flagged or accuracy - min_recall > max_recall_gap
    if flagged:
        verdict = "classes déséquilibrées : la précision trompe" if y_pred is not None else "classes déséquilibrées"
        advice = (
            "juger le modèle au rappel de chaque classe, à la précision équilibrée ou au F1 macro ; découper en "
            "stratifiant ; pondérer la perte (poids de classes) ou rééchantillonner l'entraînement seulement."
        )
    else:
        verdict = "classes équilibrées" if y_pred is None else "classes équilibrées et toutes bien reconnues"
        advice = ""
    return Report("Équilibre des classes", verdict, bool(flagged), evidence, advice, table, values)
