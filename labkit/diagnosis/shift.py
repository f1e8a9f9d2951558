"""Détecteur de décalage de distribution entre des données de référence et de nouvelles données.

Introduit dans le notebook 02.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_float, validate_int
from ._report import Report

#: Descripteurs calculés sur chaque image (leur nom dans les rapports).
IMAGE_DESCRIPTORS = (
    "luminosité moyenne",
    "contraste (écart-type)",
    "percentile 5",
    "percentile 95",
    "netteté (gradient moyen)",
    "bruit (écart au voisin)",
)


def image_descriptors(images) -> np.ndarray:
    """Résume chaque image (N, …, H, W) par six nombres (voir ``IMAGE_DESCRIPTORS``).

    Un changement de caméra modifie la luminosité, le contraste, la netteté et le
    bruit : ces descripteurs le rendent visible sans entraîner de réseau.
    """
    images = validate_array("images", images, min_ndim=3).astype(np.float32)
    flat = images.reshape(len(images), -1)
    grid = images.reshape(len(images), -1, images.shape[-2], images.shape[-1])
    grad_y = np.abs(np.diff(grid, axis=-2)).mean(axis=(1, 2, 3))
    grad_x = np.abs(np.diff(grid, axis=-1)).mean(axis=(1, 2, 3))
    # Le bruit se lit dans l'écart médian entre pixels voisins, insensible aux bords francs.
    noise = np.median(np.abs(np.diff(grid, axis=-1)).reshape(len(images), -1), axis=1)
    p5, p95 = np.percentile(flat, [5, 95], axis=1)
    return np.c_[flat.mean(axis=1), flat.std(axis=1), p5, p95, (grad_x + grad_y) / 2, noise]


def detect_shift(
    x_reference,
    x_new,
    *,
    feature_names=None,
    max_auc: float = 0.70,
    max_samples: int = 2000,
    seed: int = 0,
) -> Report:
    """Les nouvelles données viennent-elles de la même distribution que la référence ?

    Méthode du **classifieur de domaine** : une régression logistique apprend à
    distinguer les deux jeux (validation croisée à 5 plis). Si elle y parvient
    (aire sous la courbe ROC, AUC, au-dessus de ``max_auc``), les distributions
    diffèrent ; une AUC proche de 0,5 veut dire « indiscernables ». Le tableau
    ajoute un test de Kolmogorov-Smirnov par variable pour dire *ce qui* a bougé.

    Tableaux (N, variables) : les colonnes servent telles quelles. Images (N, H, W)
    ou (N, canaux, H, W) : chaque image est résumée par :func:`image_descriptors`.
    Au plus ``max_samples`` exemples de chaque côté sont tirés (graine ``seed``).

    >>> rng = np.random.default_rng(0)
    >>> detect_shift(rng.normal(0, 1, (300, 3)), rng.normal(0.8, 1, (300, 3))).flagged
    True
    """
    x_reference = validate_array("x_reference", x_reference, min_ndim=2)
    x_new = validate_array("x_new", x_new, min_ndim=2)
    if x_reference.shape[1:] != x_new.shape[1:]:
        raise LabkitError(
            f"`x_reference` et `x_new` doivent avoir la même forme par exemple : {x_reference.shape[1:]} ≠ {x_new.shape[1:]}."
        )
    max_auc = validate_float("max_auc", max_auc, minimum=0.5, maximum=1)
    max_samples = validate_int("max_samples", max_samples, minimum=10)
    seed = validate_int("seed", seed, minimum=0)
    if min(len(x_reference), len(x_new)) < 10:
        raise LabkitError("`x_reference` et `x_new` doivent contenir au moins 10 exemples chacun pour comparer leurs distributions.")

    rng = np.random.default_rng(seed)
    if len(x_reference) > max_samples:
        x_reference = x_reference[np.sort(rng.choice(len(x_reference), max_samples, replace=False))]
    if len(x_new) > max_samples:
        x_new = x_new[np.sort(rng.choice(len(x_new), max_samples, replace=False))]
    if x_reference.ndim == 2:
        ref, new = x_reference.astype(np.float64), x_new.astype(np.float64)
        names = [f"x{i}" for i in range(ref.shape[1])] if feature_names is None else [str(n) for n in feature_names]
        if len(names) != ref.shape[1]:
            raise LabkitError(f"`feature_names` doit nommer les {ref.shape[1]} colonnes, reçu {len(names)} noms.")
    else:
        if feature_names is not None:
            raise LabkitError("`feature_names` ne sert qu'aux tableaux (N, variables) : pour des images, les descripteurs ont déjà un nom.")
        ref, new = image_descriptors(x_reference).astype(np.float64), image_descriptors(x_new).astype(np.float64)
        names = list(IMAGE_DESCRIPTORS)

    import pandas as pd
    from scipy.stats import ks_2samp
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.r_[ref, new]
    domain = np.r_[np.zeros(len(ref), dtype=int), np.ones(len(new), dtype=int)]
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    scores = cross_val_predict(classifier, features, domain, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(domain, scores))

    tests = [ks_2samp(ref[:, j], new[:, j]) for j in range(ref.shape[1])]
    table = pd.DataFrame(
        {
            "moyenne (référence)": ref.mean(axis=0),
            "moyenne (nouveau)": new.mean(axis=0),
            "KS": [t.statistic for t in tests],
            "p-valeur": [t.pvalue for t in tests],
        },
        index=pd.Index(names, name="variable"),
    ).sort_values("KS", ascending=False)
    significant = table[table["p-valeur"] < 0.01 / len(names)]  # correction de Bonferroni
    flagged = auc > max_auc
    evidence = [
        f"un classifieur de domaine distingue les deux jeux avec une AUC de {auc:.3f} "
        f"(0,5 = indiscernables, seuil {max_auc:.2f})",
    ]
    if len(significant):
        top = ", ".join(f"{name} (KS {row['KS']:.2f})" for name, row in significant.head(3).iterrows())
        evidence.append(f"{len(significant)} variable(s) sur {len(names)} ont bougé de façon significative : {top}")
    else:
        evidence.append("aucune variable ne diffère significativement (test de Kolmogorov-Smirnov, Bonferroni)")
    if flagged:
        verdict = "décalage de distribution : les nouvelles données ne ressemblent pas à la référence"
        advice = (
            "ne pas se fier au score de validation pour ces données ; normaliser chaque image ou variable, "
            "augmenter l'entraînement avec des variations réalistes (luminosité, contraste, flou, bruit), "
            "ou étiqueter quelques exemples du nouveau domaine."
        )
    else:
        verdict = "pas de décalage détecté"
        advice = ""
    values = {"auc": auc, "n_shifted_features": int(len(significant)), "most_shifted": str(table.index[0])}
    return Report("Décalage de distribution", verdict, bool(flagged), evidence, advice, table, values)
