"""Notebook 11 « Rédiger le rapport d'amélioration » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : « plus haut, c'est mieux » pour toutes les grandeurs ; une latence qui baisse devient une régression.
HIGHER_IS_ALWAYS_BETTER = '''def signed_change(before, after, unit):
    if unit not in ("ms", "s", "ko", "Mo", "proportion"):
        raise ValueError(f"unité inconnue : {unit!r}")
    difference = float(after) - float(before)
    if unit == "proportion":
        return {"écart": 100 * difference, "unité": "points", "écart relatif (%)": None,
                "amélioration": None if difference == 0 else difference > 0}
    return {"écart": difference, "unité": unit, "écart relatif (%)": 100 * difference / float(before),
            "amélioration": None if difference == 0 else difference > 0}
'''

# Erreur classique : une médiane plus basse suffit ; un gain dans la dispersion est déclaré réel.
MEDIANS_ONLY = '''def latency_verdict(before, after):
    if after[0] == before[0]:
        return "non significatif"
    return "plus rapide" if after[0] < before[0] else "plus lent"
'''

# Erreur classique : le budget vérifié sur la mauvaise colonne (la médiane au lieu du 90e centile).
BUDGET_ON_THE_MEDIAN = '''def choose_variant(table, max_p90_ms, max_size_ko):
    within = table[(table["latence b64 (ms)"] <= max_p90_ms) & (table["taille (ko)"] <= max_size_ko)]
    if within.empty:
        return None
    return within.sort_values(["précision", "p90 b64 (ms)"], ascending=[False, True]).index[0]
'''

# Erreur classique : comparer les marges en unités absolues (des millisecondes contre des kilo-octets).
ABSOLUTE_MARGINS = '''def justify(table, reference, variant, max_p90_ms, max_size_ko):
    row = table.loc[variant]
    margins = {"p90 b64 (ms)": max_p90_ms - row["p90 b64 (ms)"], "taille (ko)": max_size_ko - row["taille (ko)"]}
    decisive = min(margins, key=margins.get)
    limit = max_p90_ms if decisive == "p90 b64 (ms)" else max_size_ko
    return {"variante": variant, "points perdus": float(100 * (table.loc[reference, "précision"] - row["précision"])),
            "mesure décisive": decisive, "marge (%)": float(100 * margins[decisive] / limit)}
'''

#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex1_signed_change": HIGHER_IS_ALWAYS_BETTER,
    "ex2_latency_verdict": MEDIANS_ONLY,
    "ex3_choose_variant": BUDGET_ON_THE_MEDIAN,
    "ex4_justify": ABSOLUTE_MARGINS,
}


# Raccourci : appeler la règle de labkit.report (Spread.overlaps) au lieu de l'écrire.
REFERENCE_OVERLAP = '''def latency_verdict(before, after):
    if Spread(before[0], before[1], "médiane–p90").overlaps(Spread(after[0], after[1], "médiane–p90")):
        return "non significatif"
    return "plus rapide" if after[0] < before[0] else "plus lent"
'''

# Raccourci : répondre la variante qui gagne sur le tableau du notebook, sans lire le budget.
ANSWER_OF_THE_NOTEBOOK = '''def choose_variant(table, max_p90_ms, max_size_ko):
    return INT8 if INT8 in table.index else None
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex2_latency_verdict": REFERENCE_OVERLAP,
    "ex3_choose_variant": ANSWER_OF_THE_NOTEBOOK,
}
