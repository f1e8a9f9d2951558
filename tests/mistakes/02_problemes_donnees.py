"""Notebook 02 « Diagnostiquer les problèmes de données » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : découper photo par photo au lieu de carte par carte.
WRONG_GROUP_SPLIT = '''def group_split(groups, val_fraction=0.25, seed=0):
    """Erreur volontaire : les exemples sont tirés un par un, les groupes sont coupés en deux."""
    groups = np.asarray(groups)
    order = np.random.default_rng(seed).permutation(len(groups))
    n_val = int(round(len(groups) * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])
'''

# Erreur classique : normaliser avec les statistiques de toutes les données.
LEAKY_STANDARDIZER = '''def fit_standardizer(x_train):
    everything = np.concatenate([sensors.x_train, sensors.x_val])
    return everything.mean(axis=0), everything.std(axis=0)


def standardize(x, mean, std):
    return ((x - mean) / std).astype(np.float32)
'''


# Erreur classique : le nombre de défauts à trouver arrondi vers le bas, le rappel visé n'est pas atteint.
ROUNDED_DOWN_THRESHOLD = '''def choose_threshold(scores, y_true, target_recall):
    """Erreur volontaire : int() tronque le nombre de défauts à retrouver."""
    scores, y_true = np.asarray(scores, dtype=float), np.asarray(y_true)
    positives = np.sort(scores[y_true == 1])[::-1]
    needed = int(target_recall * len(positives))
    return float(positives[max(needed, 1) - 1])
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex4_group_split": WRONG_GROUP_SPLIT,
    "ex1_standardize": LEAKY_STANDARDIZER,
    "ex5_choose_threshold": ROUNDED_DOWN_THRESHOLD,
}


#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {}

# Une autre convention correcte : l'écart-type de l'échantillon (ddof=1, celui de pandas), acceptée.
SAMPLE_STANDARD_DEVIATION = '''def fit_standardizer(x_train):
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0, ddof=1)
    return mean, np.where(std > 0, std, 1.0)


def standardize(x, mean, std):
    return ((x - mean) / std).astype(np.float32)
'''

#: Réponses justes écrites autrement (une convention que l'énoncé accepte) : aucun point perdu.
ACCEPTED = {
    "ex1_standardize": SAMPLE_STANDARD_DEVIATION,
}
