"""Notebook 05 « Quantifier un modèle » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : calibrer sur les premiers exemples venus, sans regarder les classes.
FIRST_EXAMPLES_CALIBRATION = '''def calibration_set(x, y, size, seed=0):
    return np.asarray(x[:size], dtype=np.float32)
'''

# Erreur classique : le rapport à l'envers (variante / référence).
INVERTED_GAINS = '''def int8_gains(table, reference, quantized):
    ref, new = table.loc[reference], table.loc[quantized]
    return {
        "× plus petit": float(new["taille (ko)"] / ref["taille (ko)"]),
        "× plus rapide b1": float(new["latence b1 (ms)"] / ref["latence b1 (ms)"]),
        "× plus rapide b64": float(new["latence b64 (ms)"] / ref["latence b64 (ms)"]),
        "points perdus": float((ref["précision"] - new["précision"]) * 100),
    }
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex3_calibration": FIRST_EXAMPLES_CALIBRATION,
    "ex4_gains": INVERTED_GAINS,
}


# Raccourci : appeler la référence du cours (quantize_tensor) au lieu d'écrire la quantification.
REFERENCE_AFFINE = '''def affine_qparams(x_min, x_max, bits=8):
    q = quantize_tensor(np.array([x_min, x_max], dtype=np.float64), bits)
    return float(q.scale), int(q.zero_point)


def quantize(x, scale, zero_point, bits=8):
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point, 0, 2**bits - 1).astype(np.int32)


def dequantize_affine(q, scale, zero_point):
    return (scale * (np.asarray(q, dtype=np.float64) - zero_point)).astype(np.float32)
'''

# Raccourci : la quantification par canal de la référence du cours.
REFERENCE_PER_CHANNEL = '''def fake_quantize_per_channel(weight, bits=8):
    return dequantize(quantize_tensor(np.asarray(weight, dtype=np.float32), bits, axis=0)).astype(np.float32)
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex1_affine": REFERENCE_AFFINE,
    "ex2_per_channel": REFERENCE_PER_CHANNEL,
}
