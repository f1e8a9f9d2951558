"""Notebook 10 « Intégrer un modèle dans une application » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; les erreurs classiques sont
soumises ensemble dans une copie, les raccourcis dans une autre : chacune doit perdre exactement les points
des exercices visés.
"""

# Erreur classique : écraser l'image au carré (resize direct) au lieu de garder ses proportions et de recadrer.
# Sur une image carrée, le tenseur est juste ; sur une photo rectangulaire, le modèle voit des défauts déformés.
SQUASHED_IMAGE = '''def preprocess_upload(data, input_size, mean, std):
    grey = Image.open(io.BytesIO(data)).convert("L").resize((input_size, input_size), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.float32) / np.float32(255.0)
    return ((pixels - np.float32(mean)) / np.float32(std))[None].astype(np.float32)
'''

# Erreur classique : réessayer toutes les erreurs, 4xx comprises (la requête fautive repart telle quelle).
RETRIES_CLIENT_ERRORS = '''def classify(client, images, retries=2):
    files = [("files", (f"image{i}.png", data, "image/png")) for i, data in enumerate(images)]
    for attempt in range(retries + 1):
        try:
            response = client.post("/api/predict", files=files)
        except httpx.TransportError:
            failure = ServiceError(None, "Service injoignable.")
            continue
        if response.status_code == 200:
            return [prediction["class_name"] for prediction in response.json()["predictions"]]
        try:
            message = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            message = f"Le service a répondu {response.status_code}."
        failure = ServiceError(response.status_code, message)
    raise failure
'''

# Erreur classique : prendre le nombre de clients du débit maximal, au lieu du plus petit qui en approche.
ARGMAX_CONCURRENCY = '''def saturation_concurrency(runs, tolerance=0.05):
    return int(runs.loc[runs["images_per_s"].idxmax(), "concurrency"])
'''

#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex1_preprocess": SQUASHED_IMAGE,
    "ex2_client": RETRIES_CLIENT_ERRORS,
    "ex4_saturation": ARGMAX_CONCURRENCY,
}


# Raccourci : appeler le prétraitement du service au lieu de l'écrire.
REFERENCE_PREPROCESSING = '''def preprocess_upload(data, input_size, mean, std):
    return preprocess_bytes(data, input_size=input_size, mean=mean, std=std)
'''

# Raccourci : une réponse lue une fois dans ses propres mesures, quel que soit le tableau reçu.
ANSWER_FROM_OWN_TABLE = '''def largest_batch_within_budget(latencies, budget_ms):
    mine = budget_latencies["fp32"]
    p95 = mine.groupby("batch_size")["latency_ms"].quantile(0.95)
    within = p95[p95 <= budget_ms]
    return int(within.index.max()) if len(within) else None
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, mesures figées).
SHORTCUTS = {
    "ex1_preprocess": REFERENCE_PREPROCESSING,
    "ex3_budget": ANSWER_FROM_OWN_TABLE,
}
