"""Quantification simulée et entraînement conscient de la quantification (QAT), en PyTorch.

La quantification post-entraînement arrondit un modèle déjà entraîné ; à 8 bits, c'est
presque toujours sans perte. À moins de bits, l'arrondi coûte des points : le QAT
réentraîne alors le modèle **en simulant l'arrondi** dans la passe avant (« fake
quant »), pour que les poids apprennent à y résister. Le gradient traverse l'arrondi
comme s'il n'existait pas (estimateur « straight-through »).

Étapes (notebook 05) :

1. :func:`prepare_qat` : copie du modèle, normalisation de lot fusionnée dans les
   convolutions (:func:`fold_batch_norm`, comme au déploiement), poids arrondis par
   canal (symétrique), activations arrondies après chaque ReLU et à l'entrée ;
2. :func:`calibrate` : fixe les plages des activations sur des exemples
   (c'est déjà une quantification post-entraînement **simulée**) ;
3. ``labkit.torch.fit`` : quelques époques à petit pas — c'est le QAT ;
4. :func:`convert_qat` : un modèle PyTorch ordinaire aux poids posés sur la grille,
   à exporter (:func:`labkit.optimize.export.export_onnx`) puis à quantifier pour de
   bon (:func:`labkit.optimize.quantize.quantize_onnx_static`).

>>> import torch
>>> from labkit.torch import make_cnn
>>> model = prepare_qat(make_cnn(width=4).eval(), bits=4)
>>> calibrate(model, torch.randn(16, 1, 32, 32))
>>> plain = convert_qat(model)
>>> len(torch.unique(plain[0].weight[0])) <= 15  # 4 bits symétriques : au plus 15 niveaux
True
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LabkitError
from ..validation import validate_int

__all__ = ["fold_batch_norm", "prepare_qat", "calibrate", "convert_qat", "WeightFakeQuant", "ActivationFakeQuant",
           "QATConv2d", "QATLinear"]


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    """Arrondi dont le gradient vaut 1 (straight-through)."""
    return x + (torch.round(x) - x).detach()


class WeightFakeQuant(nn.Module):
    """Poids arrondis sur une grille symétrique par canal de sortie (``2**bits − 1`` niveaux)."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        q_max = 2 ** (self.bits - 1) - 1
        dims = tuple(range(1, weight.ndim))
        scale = (weight.detach().abs().amax(dim=dims, keepdim=True) / q_max).clamp_min(1e-12)
        return torch.clamp(_round_ste(weight / scale), -q_max, q_max) * scale


class ActivationFakeQuant(nn.Module):
    """Activations arrondies sur une grille affine (``2**bits`` niveaux) de plage observée.

    La plage est mesurée pendant :func:`calibrate` (minimum et maximum vus), puis suivie
    par moyenne mobile pendant l'entraînement ; en évaluation, elle est figée.
    """

    def __init__(self, bits: int, momentum: float = 0.01):
        super().__init__()
        self.bits, self.momentum, self.calibrating = bits, momentum, False
        self.register_buffer("low", torch.tensor(float("inf")))
        self.register_buffer("high", torch.tensor(float("-inf")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            low, high = x.min().clamp_max(0), x.max().clamp_min(0)
            if self.calibrating or not torch.isfinite(self.low):
                self.low.copy_(torch.minimum(self.low, low))
                self.high.copy_(torch.maximum(self.high, high))
            elif self.training:
                self.low.lerp_(low, self.momentum)
                self.high.lerp_(high, self.momentum)
        levels = 2**self.bits - 1
        scale = ((self.high - self.low) / levels).clamp_min(1e-12)
        zero_point = torch.round(-self.low / scale)
        q = torch.clamp(_round_ste(x / scale) + zero_point, 0, levels)
        return (q - zero_point) * scale


class QATConv2d(nn.Conv2d):
    """``Conv2d`` dont les poids passent par :class:`WeightFakeQuant` à chaque appel."""

    weight_quant: WeightFakeQuant

    def forward(self, x):
        return self._conv_forward(x, self.weight_quant(self.weight), self.bias)


class QATLinear(nn.Linear):
    """``Linear`` dont les poids passent par :class:`WeightFakeQuant` à chaque appel."""

    weight_quant: WeightFakeQuant

    def forward(self, x):
        return F.linear(x, self.weight_quant(self.weight), self.bias)


_QAT_CLASSES = {nn.Conv2d: QATConv2d, nn.Linear: QATLinear}


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """Copie de ``model`` où chaque ``BatchNorm2d`` qui suit une ``Conv2d`` est fusionnée dans ses poids.

    En inférence, la normalisation est une transformation affine par canal : on peut la
    reporter dans la convolution (``w' = w·γ/σ``, ``b' = (b − μ)·γ/σ + β``). Les moteurs le
    font avant de quantifier ; le QAT doit donc voir les poids fusionnés. Chaque
    ``BatchNorm2d`` fusionnée devient ``nn.Identity``. Le modèle rendu est en mode évaluation.

    >>> from labkit.torch import make_cnn
    >>> folded = fold_batch_norm(make_cnn(width=4).eval())
    >>> any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    False
    """
    if not isinstance(model, nn.Module):
        raise LabkitError(f"`model` doit être un torch.nn.Module, reçu {type(model).__name__}.")
    if model.training:
        raise LabkitError("`model` est en mode entraînement : appelez `model.eval()` avant de fusionner la normalisation.")
    folded = copy.deepcopy(model)
    for parent in folded.modules():
        children = list(parent.named_children())
        for (_, conv), (bn_name, bn) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                with torch.no_grad():
                    factor = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                    conv.weight.mul_(factor.reshape(-1, 1, 1, 1))
                    conv.bias = nn.Parameter((bias - bn.running_mean) * factor + bn.bias)
                setattr(parent, bn_name, nn.Identity())
    return folded.eval()


class _QuantizedInput(nn.Module):
    """Le modèle précédé de l'arrondi de son entrée (les moteurs int8 quantifient aussi l'entrée)."""

    def __init__(self, model: nn.Module, bits: int):
        super().__init__()
        self.input_quant, self.model = ActivationFakeQuant(bits), model

    def forward(self, x):
        return self.model(self.input_quant(x))


def prepare_qat(model: nn.Module, *, bits: int = 8) -> nn.Module:
    """Copie de ``model`` prête pour la quantification simulée à ``bits`` bits (poids et activations).

    Le modèle d'origine n'est pas modifié. Poids des ``Conv2d`` et ``Linear`` : grille
    symétrique par canal ; activations : après chaque ``ReLU`` et à l'entrée. Appelez
    ensuite :func:`calibrate`.
    """
    bits = validate_int("bits", bits, minimum=2, maximum=16)
    prepared = fold_batch_norm(model)
    quantized = 0
    for module in prepared.modules():
        if type(module) in _QAT_CLASSES:
            # Même objet, mêmes poids : seule la passe avant change (la copie protège l'original).
            module.__class__ = _QAT_CLASSES[type(module)]
            module.weight_quant = WeightFakeQuant(bits)
            quantized += 1
    if not quantized:
        raise LabkitError("`model` ne contient aucune couche Conv2d ou Linear à quantifier.")
    for parent in list(prepared.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(parent, name, nn.Sequential(nn.ReLU(), ActivationFakeQuant(bits)))
    return _QuantizedInput(prepared, bits).eval()


def _activation_quantizers(model: nn.Module):
    quantizers = [m for m in model.modules() if isinstance(m, ActivationFakeQuant)]
    if not quantizers:
        raise LabkitError("`model` n'a pas été préparé : appelez d'abord prepare_qat(model).")
    return quantizers


@torch.no_grad()
def calibrate(model: nn.Module, x, *, batch_size: int = 256) -> None:
    """Mesure la plage de chaque activation sur ``x`` (quelques centaines d'exemples suffisent)."""
    quantizers = _activation_quantizers(model)
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim < 2 or len(x) == 0:
        raise LabkitError(f"`x` doit être un lot non vide d'exemples (N, ...), reçu la forme {tuple(x.shape)}.")
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    was_training = model.training
    model.eval()
    for q in quantizers:
        q.low.fill_(float("inf"))
        q.high.fill_(float("-inf"))
        q.calibrating = True
    try:
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    finally:
        for q in quantizers:
            q.calibrating = False
        model.train(was_training)


def convert_qat(model: nn.Module) -> nn.Module:
    """Le modèle ordinaire (mode évaluation) issu du QAT : poids posés sur la grille, arrondis des activations retirés.

    Ses poids sont déjà quantifiables sans perte ; l'export ONNX puis
    :func:`labkit.optimize.quantize.quantize_onnx_static` en font un vrai modèle int8.
    """
    _activation_quantizers(model)
    if not isinstance(model, _QuantizedInput):
        raise LabkitError("`model` doit venir de prepare_qat(...).")
    plain = copy.deepcopy(model.model)
    for module in list(plain.modules()):
        if isinstance(module, (QATConv2d, QATLinear)):
            with torch.no_grad():
                module.weight.copy_(module.weight_quant(module.weight))
            del module.weight_quant
            module.__class__ = module.__class__.__bases__[0]
    for parent in list(plain.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Sequential) and len(child) == 2 and isinstance(child[1], ActivationFakeQuant):
                setattr(parent, name, child[0])
    return plain.eval()
