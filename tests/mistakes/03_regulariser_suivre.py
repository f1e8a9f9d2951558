"""Notebook 03 « Régulariser et suivre ses expériences » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur : la fonction ignore son argument et relit toujours l'expérience du notebook.
IGNORED_EXPERIMENT = '''def compare_runs(experiment, baseline="référence"):
    table = tracking.runs_table(EXPERIMENT)[["test_accuracy", "test_loss"]].copy()
    table["gain (points)"] = 100 * (table["test_accuracy"] - table.loc[baseline, "test_accuracy"])
    return table.sort_values("test_accuracy", ascending=False)
'''


# Erreur : l'essai retenu est choisi sur le test (le piège que la section 7 décrit).
CHOSEN_ON_TEST = '''def sample_recipe(rng):
    return {"lr": float(10 ** rng.uniform(-4, -2)), "dropout": float(rng.uniform(0.0, 0.6)), "l2": float(10 ** rng.uniform(-6, -2))}


def choose_run(table):
    return table["test_accuracy"].astype(float).idxmax()
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex4_compare_runs": IGNORED_EXPERIMENT,
    "ex5_search": CHOSEN_ON_TEST,
}


# Raccourci : un callback maison qui entraîne aussi le modèle sur le test (les données d'évaluation).
FIT_ON_TEST = '''class PeekAtTest(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.model.fit(x_test, y_test, epochs=20, verbose=0)


def improved_recipe():
    return {"dropout": 0.3, "l2": 1e-4}, [cosine_callback(5e-3), PeekAtTest()]
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex3_improved": FIT_ON_TEST,
}
