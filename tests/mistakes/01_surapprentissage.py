"""Notebook 01 « Diagnostiquer le surapprentissage » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

WRONG_EARLY_STOPPING = '''def early_stopping_epochs(val_losses, patience):
    """Erreur volontaire : l'époque d'arrêt est décalée d'une unité."""
    best_epoch, best_loss, waited = 0, float("inf"), 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best_epoch, best_loss, waited = epoch, loss, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch + 1
    return best_epoch, len(val_losses)
'''


# Erreur classique : des plis tirés au hasard, sans regarder les classes (un k-fold ordinaire).
UNSTRATIFIED_FOLDS = '''def stratified_kfold(y, k=5, seed=0):
    """Erreur volontaire : les exemples sont distribués au hasard, chaque classe n'importe comment."""
    y = np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(y))
    fold_of = np.empty(len(y), dtype=int)
    fold_of[order] = np.arange(len(y)) % k
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]
'''


# Erreur classique : mélanger les images mais garder les étiquettes d'origine.
HARD_LABELS_MIXUP = '''def mixup(images, labels, n_classes, alpha, rng):
    """Erreur volontaire : les images sont mélangées, les étiquettes restent celles de l'exemple i."""
    n = len(images)
    lam = torch.from_numpy(rng.beta(alpha, alpha, size=n).astype(np.float32))
    perm = torch.from_numpy(rng.permutation(n))
    weights = lam.view(-1, *([1] * (images.ndim - 1)))
    mixed = weights * images + (1 - weights) * images[perm]
    return mixed, torch.nn.functional.one_hot(labels.long(), n_classes).float()
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex5_mixup": HARD_LABELS_MIXUP,
    "ex2_early_stopping": WRONG_EARLY_STOPPING,
    "ex4_stratified_kfold": UNSTRATIFIED_FOLDS,
}


# Raccourci : appeler la référence du cours au lieu d'écrire le diagnostic.
REFERENCE_DIAGNOSIS = '''def classify_history(history, max_gap=0.10, turn_tolerance=0.10, min_accuracy=0.80):
    verdict = diagnose_history(history, max_gap=max_gap).verdict
    return verdict if verdict in ("surapprentissage", "sous-apprentissage") else "sain"
'''

# Raccourci : entraîner aussi sur la validation (plus d'images, et une validation apprise par cœur).
TRAINED_ON_VALIDATION = '''def train_with_remedies(x_train, y_train, x_val, y_val):
    model = lkt.make_mlp(hidden=512, depth=2, dropout=0.2)
    history = lkt.fit(model, np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val]), x_val, y_val,
                      epochs=EPOCHS, patience=10)
    return model, history
'''

# Raccourci : appeler le découpage de scikit-learn au lieu de l'écrire (l'énoncé l'interdit).
SCIKIT_LEARN_FOLDS = '''def stratified_kfold(y, k=5, seed=0):
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex1_classify_history": REFERENCE_DIAGNOSIS,
    "ex3_remedies": TRAINED_ON_VALIDATION,
    "ex4_stratified_kfold": SCIKIT_LEARN_FOLDS,
}

# Le même mixup calculé en NumPy, avec une boucle sur les exemples, puis rendu en tenseurs : accepté.
NUMPY_MIXUP = '''def mixup(images, labels, n_classes, alpha, rng):
    x, y = images.numpy(), labels.numpy()
    lam = rng.beta(alpha, alpha, size=len(x))
    perm = rng.permutation(len(x))
    mixed = np.empty_like(x)
    targets = np.zeros((len(x), n_classes), dtype=np.float32)
    for i, j in enumerate(perm):
        mixed[i] = lam[i] * x[i] + (1 - lam[i]) * x[j]
        targets[i, y[i]] += lam[i]
        targets[i, y[j]] += 1 - lam[i]
    return torch.from_numpy(mixed.astype(np.float32)), torch.from_numpy(targets)
'''

#: Réponses justes écrites autrement (une convention que l'énoncé accepte) : aucun point perdu.
ACCEPTED = {
    "ex5_mixup": NUMPY_MIXUP,
}
