"""Notebook 06 « Élaguer un modèle » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : le taux le plus prudent au lieu du plus élevé qui tient la contrainte.
LOWEST_SPARSITY = '''def best_sparsity(sweep, reference_accuracy, max_loss_points=1.0, column="précision après réentraînement"):
    allowed = sweep.index[sweep[column] >= reference_accuracy - max_loss_points / 100]
    return float(min(allowed)) if len(allowed) else None
'''

# Erreur classique : garder les premiers canaux sans regarder leur norme.
FIRST_CHANNELS = '''def channels_to_keep(weight, keep_ratio):
    return torch.arange(max(1, round(weight.shape[0] * keep_ratio)))


def slice_conv_pair(conv, bn, next_conv, kept):
    new_conv = torch.nn.Conv2d(conv.in_channels, len(kept), conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)
    new_bn = torch.nn.BatchNorm2d(len(kept))
    new_next = torch.nn.Conv2d(len(kept), next_conv.out_channels, next_conv.kernel_size, next_conv.stride, next_conv.padding,
                               bias=next_conv.bias is not None)
    with torch.no_grad():
        new_conv.weight.copy_(conv.weight[kept])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[kept])
        new_next.weight.copy_(next_conv.weight[:, kept])
        if next_conv.bias is not None:
            new_next.bias.copy_(next_conv.bias)
    return new_conv, new_bn, new_next
'''


#: Erreurs classiques : {cellule de réponse: code fautif}.
MISTAKES = {
    "ex2_best_sparsity": LOWEST_SPARSITY,
    "ex3_channels": FIRST_CHANNELS,
}


# Raccourci : déléguer l'élagage global à PyTorch au lieu d'écrire les masques.
TORCH_PRUNING = '''import math


def magnitude_masks(weights, sparsity):
    parameters = [torch.nn.Parameter(torch.as_tensor(np.asarray(w, dtype=np.float32))) for w in weights]
    holders = [torch.nn.Module() for _ in parameters]
    for holder, parameter in zip(holders, parameters):
        holder.weight = parameter
    torch.nn.utils.prune.global_unstructured([(h, "weight") for h in holders], pruning_method=torch.nn.utils.prune.L1Unstructured,
                                             amount=math.ceil(sparsity * sum(p.numel() for p in parameters)))
    return [h.weight_mask.numpy().astype(np.float32) for h in holders]
'''

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {
    "ex1_masks": TORCH_PRUNING,
}

# L'arrondi « commercial » (au-dessus pour une demie) : une convention que l'énoncé accepte.
HALF_UP_ROUNDING = '''def channels_to_keep(weight, keep_ratio):
    n_keep = max(1, int(np.floor(weight.shape[0] * keep_ratio + 0.5)))
    scores = weight.detach().abs().sum(dim=(1, 2, 3))
    return torch.sort(torch.argsort(scores, descending=True)[:n_keep]).values


def slice_conv_pair(conv, bn, next_conv, kept):
    new_conv = torch.nn.Conv2d(conv.in_channels, len(kept), conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)
    new_bn = torch.nn.BatchNorm2d(len(kept), eps=bn.eps, momentum=bn.momentum)
    new_next = torch.nn.Conv2d(len(kept), next_conv.out_channels, next_conv.kernel_size, next_conv.stride, next_conv.padding,
                               bias=next_conv.bias is not None)
    with torch.no_grad():
        new_conv.weight.copy_(conv.weight[kept])
        if conv.bias is not None:
            new_conv.bias.copy_(conv.bias[kept])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[kept])
        new_next.weight.copy_(next_conv.weight[:, kept])
        if next_conv.bias is not None:
            new_next.bias.copy_(next_conv.bias)
    return new_conv, new_bn, new_next
'''

#: Réponses justes écrites autrement (une convention que l'énoncé accepte) : aucun point perdu.
ACCEPTED = {
    "ex3_channels": HALF_UP_ROUNDING,
}
