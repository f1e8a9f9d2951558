"""Élagage : mettre des poids à zéro (non structuré) ou retirer des canaux entiers (structuré).

- :func:`global_magnitude_prune` met à zéro la fraction ``sparsity`` des poids de plus
  petite magnitude, tous les poids de convolution et denses confondus. Les masques
  restent attachés pendant le réentraînement (les zéros restent des zéros), puis
  :func:`remove_masks` les rend définitifs. Aucun gain de vitesse : les zéros sont
  toujours multipliés. Le gain est dans la taille **zippée**.
- :func:`sparsity_sweep` mesure la précision pour plusieurs taux, avant et après réentraînement ;
- :func:`prune_channels` reconstruit un CNN de :func:`labkit.torch.make_cnn` avec moins
  de canaux (ceux de plus forte norme L1) : le modèle est vraiment plus petit et plus
  rapide.
"""

from __future__ import annotations

import math

from ..errors import LabkitError
from ..validation import validate_float, validate_int


def _prunable(model):
    import torch.nn as nn

    return [(module, "weight") for module in model.modules() if isinstance(module, (nn.Conv2d, nn.Linear))]


def global_magnitude_prune(model, sparsity: float):
    """Attache des masques qui annulent la fraction ``sparsity`` (dans [0, 1[) des plus petits poids.

    Renvoie ``model`` (modifié sur place). Réentraînez ensuite, puis appelez
    :func:`remove_masks`.
    """
    import torch.nn.utils.prune as prune

    sparsity = validate_float("sparsity", sparsity, minimum=0, maximum=1, exclusive_maximum=True)
    targets = _prunable(model)
    if not targets:
        raise LabkitError("`model` n'a aucune couche Conv2d ou Linear à élaguer.")
    # Un nombre entier arrondi au-dessus : la parcimonie obtenue n'est jamais sous la cible.
    total = sum(getattr(module, name).numel() for module, name in targets)
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=math.ceil(sparsity * total))
    return model


def remove_masks(model):
    """Rend l'élagage définitif : les poids masqués deviennent de vrais zéros, les masques disparaissent."""
    import torch.nn.utils.prune as prune

    for module, name in _prunable(model):
        if prune.is_pruned(module) and hasattr(module, f"{name}_mask"):
            prune.remove(module, name)
    return model


def sparsity(model) -> float:
    """Fraction de poids nuls dans les couches Conv2d et Linear."""
    total = zeros = 0
    for module, _ in _prunable(model):
        weight = module.weight.detach()
        total += weight.numel()
        zeros += int((weight == 0).sum())
    return zeros / total if total else 0.0


def sparsity_sweep(model, sparsities, evaluate, *, fine_tune=None, progress: bool = True):
    """Précision du modèle élagué à chaque taux de ``sparsities`` (notebook 06), sans toucher ``model``.

    Pour chaque taux : une copie de ``model``, l'élagage global, ``evaluate(copie)`` (une
    précision), puis, si ``fine_tune`` est donné, ``fine_tune(copie)`` (quelques époques,
    masques attachés) et une seconde mesure. Renvoie un ``DataFrame`` indexé par le taux visé.

    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    >>> sparsity_sweep(model, [0.0, 0.5], lambda m: 1.0, progress=False)["zéros obtenus"].tolist()
    [0.0, 0.5]
    """
    import copy

    import pandas as pd
    from tqdm.auto import tqdm

    if not callable(evaluate):
        raise LabkitError(f"`evaluate` doit être une fonction f(modèle) -> précision, reçu {evaluate!r}.")
    if fine_tune is not None and not callable(fine_tune):
        raise LabkitError(f"`fine_tune` doit être une fonction f(modèle) ou None, reçu {fine_tune!r}.")
    try:
        targets = [validate_float("sparsities", s, minimum=0, maximum=1, exclusive_maximum=True) for s in sparsities]
    except TypeError:
        raise LabkitError(f"`sparsities` doit être une liste de taux dans [0, 1[, reçu {sparsities!r}.") from None
    if not targets:
        raise LabkitError("`sparsities` est vide : donnez au moins un taux, par exemple [0.5, 0.8, 0.9].")
    rows = []
    for target in tqdm(targets, desc="taux d'élagage", disable=not progress, leave=False):
        pruned = global_magnitude_prune(copy.deepcopy(model), target)
        row = {"taux visé": target, "zéros obtenus": sparsity(pruned), "précision": float(evaluate(pruned))}
        if fine_tune is not None:
            fine_tune(pruned)
            row["précision après réentraînement"] = float(evaluate(pruned))
        rows.append(row)
    return pd.DataFrame(rows).set_index("taux visé")


def _kept_channels(n_channels: int, keep_ratio: float, multiple_of: int) -> int:
    """Canaux gardés : ``keep_ratio`` des canaux, arrondi au multiple de ``multiple_of`` le plus proche, entre un multiple et tous."""
    if multiple_of == 1:
        return max(1, int(round(n_channels * keep_ratio)))
    rounded = int(round(n_channels * keep_ratio / multiple_of)) * multiple_of
    return min(n_channels, max(multiple_of, rounded))


def prune_channels(model, keep_ratio: float, *, multiple_of: int = 1):
    """Un nouveau CNN où chaque convolution ne garde que ``keep_ratio`` de ses canaux de sortie.

    ``multiple_of`` arrondit le nombre de canaux gardés au multiple le plus proche (au moins
    un multiple, au plus tous les canaux) : les noyaux de convolution des processeurs
    traitent les canaux par paquets de 8 ou 16, et le notebook 06 mesure qu'un nombre de
    canaux hors de ces paquets coûte bien plus que son calcul.

    Accepte les modèles de :func:`labkit.torch.make_cnn` (Conv2d, BatchNorm2d, ReLU,
    MaxPool2d, puis AdaptiveMaxPool2d, Flatten, Dropout, Linear). Les canaux gardés
    sont ceux dont les filtres ont la plus forte norme L1 ; la BatchNorm suivante et
    les entrées de la couche suivante sont taillées en conséquence. Le modèle
    d'origine n'est pas modifié.
    """
    import copy

    import torch
    import torch.nn as nn

    keep_ratio = validate_float("keep_ratio", keep_ratio, minimum=0, maximum=1, exclusive_minimum=True)
    multiple_of = validate_int("multiple_of", multiple_of, minimum=1)
    if not isinstance(model, nn.Sequential):
        raise LabkitError("`model` doit être un nn.Sequential comme ceux de labkit.torch.make_cnn.")
    allowed = (
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.ReLU,
        nn.MaxPool2d,
        nn.AdaptiveMaxPool2d,
        nn.AdaptiveAvgPool2d,
        nn.Flatten,
        nn.Dropout,
        nn.Linear,
    )
    for layer in model:
        if not isinstance(layer, allowed):
            raise LabkitError(
                f"`prune_channels` ne sait pas tailler une couche {type(layer).__name__} ; couches acceptées : "
                + ", ".join(t.__name__ for t in allowed)
                + ". Pour un réseau quelconque, utilisez torch-pruning."
            )
    layers = [copy.deepcopy(layer) for layer in model]
    kept_in, original_out = None, None
    with torch.no_grad():
        for i, layer in enumerate(layers):
            if isinstance(layer, nn.Conv2d):
                weight = layer.weight if kept_in is None else layer.weight[:, kept_in]
                n_keep = _kept_channels(layer.out_channels, keep_ratio, multiple_of)
                scores = weight.abs().sum(dim=(1, 2, 3))
                kept_out = torch.sort(torch.argsort(scores, descending=True)[:n_keep]).values
                new = nn.Conv2d(weight.shape[1], n_keep, layer.kernel_size, layer.stride, layer.padding, bias=layer.bias is not None)
                new.weight.copy_(weight[kept_out])
                if layer.bias is not None:
                    new.bias.copy_(layer.bias[kept_out])
                layers[i], kept_in, original_out = new, kept_out, layer.out_channels
            elif isinstance(layer, nn.BatchNorm2d) and kept_in is not None:
                new = nn.BatchNorm2d(len(kept_in))
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(new, name).copy_(getattr(layer, name)[kept_in])
                layers[i] = new
            elif isinstance(layer, nn.Linear) and kept_in is not None:
                if layer.in_features != original_out:
                    raise LabkitError(
                        "`prune_channels` attend un max ou une moyenne globale entre la dernière convolution et la couche dense."
                    )
                new = nn.Linear(len(kept_in), layer.out_features, bias=layer.bias is not None)
                new.weight.copy_(layer.weight[:, kept_in])
                if layer.bias is not None:
                    new.bias.copy_(layer.bias)
                layers[i], kept_in = new, None
    pruned = nn.Sequential(*layers)
    pruned.train(model.training)
    return pruned
