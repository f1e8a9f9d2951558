"""Ensembles : plusieurs modèles votent ensemble (notebook 08).

Un ensemble moyenne les **probabilités** de plusieurs modèles entraînés séparément. Leurs
erreurs ne tombent pas toutes sur les mêmes images : la moyenne en corrige une partie, et
la précision monte. Le prix est simple à prévoir et se mesure : chaque image passe par
chaque membre, la taille et la latence s'additionnent. C'est l'inverse de ce que cherche la
mise en production ; la distillation (Hinton et al., 2015) sert justement à faire tenir un
ensemble dans un seul petit modèle.

:class:`Ensemble` est un ``torch.nn.Module`` : le protocole de mesure du cours
(:func:`labkit.optimize.measure.compare`) le mesure comme n'importe quel modèle PyTorch
(paramètres et taille : la somme des membres ; latence : tous les membres l'un après l'autre).

>>> import torch
>>> from labkit.torch import make_cnn
>>> members = [make_cnn(width=4).eval() for _ in range(3)]
>>> ensemble = Ensemble(members).eval()
>>> log_p = ensemble(torch.zeros(2, 1, 32, 32))
>>> tuple(log_p.shape), bool(torch.allclose(log_p.exp().sum(dim=1), torch.ones(2)))
((2, 6), True)
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import LabkitError
from ..validation import validate_choice

__all__ = ["Ensemble"]

AVERAGES = ("probabilities", "logits")


class Ensemble(nn.Module):
    """Moyenne des prédictions de ``models`` (des ``torch.nn.Module`` aux mêmes classes de sortie).

    - ``average="probabilities"`` (défaut) : moyenne des probabilités softmax des membres ;
      la sortie est le **logarithme** de cette moyenne (des log-probabilités : l'``argmax``
      donne la classe, ``exp`` redonne les probabilités) ;
    - ``average="logits"`` : moyenne des logits (une moyenne géométrique des probabilités,
      à une normalisation près).

    Les membres sont rangés dans ``self.members`` (un ``nn.ModuleList``) : ``state_dict``,
    ``parameters()``, ``eval()`` et ``to(...)`` les couvrent tous.

    >>> import torch
    >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
    >>> out = Ensemble([a, b])(torch.zeros(1, 2))
    >>> expected = torch.log((torch.softmax(a.bias, 0) + torch.softmax(b.bias, 0)) / 2)
    >>> bool(torch.allclose(out[0], expected))
    True
    """

    def __init__(self, models, *, average: str = "probabilities"):
        super().__init__()
        if isinstance(models, (nn.Module, str, bytes)) or not hasattr(models, "__iter__"):
            raise LabkitError(f"`models` doit être une liste de torch.nn.Module, reçu {type(models).__name__}.")
        models = list(models)
        if len(models) < 2:
            raise LabkitError(f"`models` doit contenir au moins deux modèles pour former un ensemble, reçu {len(models)}.")
        for i, model in enumerate(models):
            if not isinstance(model, nn.Module):
                raise LabkitError(f"`models[{i}]` doit être un torch.nn.Module, reçu {type(model).__name__}.")
        self.average = validate_choice("average", average, AVERAGES)
        self.members = nn.ModuleList(models)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [member(x) for member in self.members]
        shapes = {tuple(out.shape) for out in outputs}
        if len(shapes) != 1:
            raise LabkitError(f"Les membres de l'ensemble doivent prédire les mêmes classes : sorties de formes {sorted(shapes)}.")
        logits = torch.stack(outputs)
        if self.average == "logits":
            return logits.mean(dim=0)
        # log(moyenne des softmax), calculé sans sortir des logarithmes (stable).
        log_p = torch.log_softmax(logits, dim=-1)
        return torch.logsumexp(log_p, dim=0) - torch.log(torch.tensor(float(len(outputs)), dtype=log_p.dtype))

    def extra_repr(self) -> str:
        return f"average={self.average!r}"
