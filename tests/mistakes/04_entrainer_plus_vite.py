"""Notebook 04 « Entraîner plus vite » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : lire le temps propre (« Self CPU ») d'une étiquette, qui exclut tout ce qu'elle appelle.
SELF_TIME_SHARES = '''def stage_shares(profiler, stages):
    totals = {event.key: event.self_cpu_time_total for event in profiler.key_averages() if event.key in stages}
    times = pd.Series([float(totals.get(stage, 0.0)) for stage in stages], index=stages)
    return times / times.sum()


class CachedDataset(Dataset):
    def __init__(self, dataset):
        items = [dataset[i] for i in range(len(dataset))]
        self.images = torch.stack([torch.as_tensor(image) for image, _ in items])
        self.labels = torch.tensor([int(label) for _, label in items], dtype=torch.long)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]
'''

# Erreur classique : renvoyer la norme après l'écrêtage, ce qui cache l'explosion qu'on voulait surveiller.
NORM_AFTER_CLIPPING = '''def clip_by_global_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / norm)
    return min(norm, max_norm)
'''


# Erreur classique : un point de reprise qui ne garde que les poids (Adam repart sans moments, le planning au début).
WEIGHTS_ONLY_CHECKPOINT = '''def save_checkpoint(path, model, optimizer, scheduler, step):
    torch.save({"step": step, "model": model.state_dict()}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model"])
    return int(saved["step"])
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex2_profile_cache": SELF_TIME_SHARES,
    "ex4_checkpoint": WEIGHTS_ONLY_CHECKPOINT,
    "ex3_clip": NORM_AFTER_CLIPPING,
}


# Raccourci : appeler la fonction de PyTorch que l'exercice demande d'écrire.
TORCH_CLIPPING = '''def clip_by_global_norm(parameters, max_norm):
    return float(torch.nn.utils.clip_grad_norm_([p for p in parameters if p.grad is not None], max_norm))
'''

# Raccourci : appeler les points de reprise de labkit au lieu de les écrire (l'énoncé l'interdit).
LABKIT_CHECKPOINTS = '''def save_checkpoint(path, model, optimizer, scheduler, step):
    training.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, step=step)


def load_checkpoint(path, model, optimizer, scheduler):
    return training.load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler)["step"]
'''


#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex3_clip": TORCH_CLIPPING,
    "ex4_checkpoint": LABKIT_CHECKPOINTS,
}
