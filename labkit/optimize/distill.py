"""Distillation : un petit élève apprend des probabilités d'un grand professeur.

La perte mélange deux termes : l'entropie croisée avec les vraies étiquettes, et
l'écart (divergence de Kullback-Leibler) entre les probabilités « adoucies » par une
température ``T`` du professeur et de l'élève. Multiplier ce second terme par ``T²``
garde des gradients comparables quelle que soit la température (Hinton et al., 2015).
"""

from __future__ import annotations

from ..errors import LabkitError
from ..validation import validate_float


def distillation_loss(student_logits, teacher_logits, labels, *, temperature: float = 2.0, alpha: float = 0.5):
    """``alpha × T² × KL(p_prof^T ‖ p_élève^T) + (1 − alpha) × entropie croisée(élève, étiquettes)``.

    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> float(distillation_loss(logits, logits, torch.tensor([0, 1]), alpha=1.0))
    0.0
    """
    import torch.nn.functional as F

    temperature = validate_float("temperature", temperature, minimum=0, exclusive_minimum=True)
    alpha = validate_float("alpha", alpha, minimum=0, maximum=1)
    if student_logits.shape != teacher_logits.shape:
        raise LabkitError(
            f"Élève et professeur doivent avoir le même nombre de classes : {tuple(student_logits.shape)} ≠ {tuple(teacher_logits.shape)}."
        )
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    hard = F.cross_entropy(student_logits, labels)
    return alpha * temperature**2 * soft + (1 - alpha) * hard


def distill(
    student,
    teacher,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
    x_transfer=None,
    **fit_options,
):
    """Entraîne ``student`` avec la perte de distillation ; ``teacher`` reste figé (mode évaluation).

    ``x_transfer`` : des images **sans étiquettes** (en production, il y en a
    toujours) que le professeur étiquette ; elles s'ajoutent à l'entraînement. C'est
    là que la distillation gagne le plus : le banc d'essai mesure séparément l'effet
    des probabilités adoucies et celui de ces données.

    Les autres options vont à :func:`labkit.torch.fit` (époques, lot, pas…). Renvoie
    l'historique de l'élève.
    """
    import torch

    from .. import torch as lkt

    if not isinstance(teacher, torch.nn.Module):
        raise LabkitError(f"`teacher` doit être un torch.nn.Module, reçu {type(teacher).__name__}.")
    validate_float("temperature", temperature, minimum=0, exclusive_minimum=True)
    validate_float("alpha", alpha, minimum=0, maximum=1)
    was_training = teacher.training
    teacher.eval()
    device = next(teacher.parameters()).device
    if x_transfer is not None:
        x_train, y_train = with_teacher_labels(teacher, x_train, y_train, x_transfer)
    # Sans augmentation, le professeur voit toujours les mêmes images : ses logits sont calculés
    # une fois pour toutes au lieu d'un passage complet par époque.
    cached = None
    if fit_options.get("augment") is None:
        cached = torch.cat([torch.as_tensor(lot) for lot in _teacher_logits(teacher, x_train)])

    def loss_fn(logits, xb, yb, indices):
        if cached is not None:
            teacher_logits = cached[indices]
        else:
            with torch.no_grad():
                teacher_logits = teacher(xb.to(device))
        return distillation_loss(logits, teacher_logits.to(logits.device), yb, temperature=temperature, alpha=alpha)

    try:
        return lkt.fit(student, x_train, y_train, x_val, y_val, loss_fn=loss_fn, **fit_options)
    finally:
        teacher.train(was_training)


def with_teacher_labels(teacher, x_train, y_train, x_transfer):
    """Ajoute à (x_train, y_train) les images ``x_transfer`` étiquetées par ``teacher`` (sa classe la plus probable)."""
    import numpy as np

    from .. import torch as lkt

    x_transfer = np.asarray(x_transfer, dtype=np.float32)
    x_train = np.asarray(x_train, dtype=np.float32)
    if x_transfer.shape[1:] != x_train.shape[1:]:
        raise LabkitError(f"`x_transfer` doit avoir des images de même forme que `x_train` : {x_transfer.shape[1:]} ≠ {x_train.shape[1:]}.")
    return np.concatenate([x_train, x_transfer]), np.concatenate([np.asarray(y_train), lkt.predict(teacher, x_transfer)])


def _teacher_logits(teacher, x, batch_size: int = 512):
    """Logits du professeur, lot par lot, sur le processeur."""
    import numpy as np
    import torch

    device = next(teacher.parameters()).device
    x = np.asarray(x, dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            yield teacher(torch.from_numpy(x[start : start + batch_size]).to(device)).cpu()
