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


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex2_early_stopping": WRONG_EARLY_STOPPING,
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

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex1_classify_history": REFERENCE_DIAGNOSIS,
    "ex3_remedies": TRAINED_ON_VALIDATION,
}
