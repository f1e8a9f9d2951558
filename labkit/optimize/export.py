"""Export ONNX d'un modèle PyTorch, avec vérification numérique contre le modèle source.

>>> import torch
>>> from labkit.torch import make_cnn
>>> model = make_cnn(width=4).eval()
>>> path = export_onnx(model, torch.zeros(2, 1, 32, 32), temporary_path(".onnx"))
>>> path.suffix
'.onnx'
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from ..validation import validate_float
from .measure import OnnxRunner, TorchRunner, temporary_path

__all__ = ["export_onnx", "check_parity", "temporary_path"]


def check_parity(reference, candidate, x, *, atol: float = 1e-4) -> float:
    """Écart maximal entre les logits de deux modèles sur ``x`` ; erreur si > ``atol``."""
    atol = validate_float("atol", atol, minimum=0)
    ref, got = reference(x), candidate(x)
    if ref.shape != got.shape:
        raise LabkitError(f"Les deux modèles ne renvoient pas la même forme : {ref.shape} ≠ {got.shape}.")
    gap = float(np.max(np.abs(ref - got)))
    if gap > atol:
        raise LabkitError(f"Export infidèle : écart maximal {gap:.2e} > tolérance {atol:g} entre le modèle source et l'export.")
    return gap


def export_onnx(model, example_input, path, *, atol: float = 1e-4, opset: int = 18) -> Path:
    """Exporte ``model`` (en mode évaluation) vers ``path`` au format ONNX, taille de lot variable.

    Vérifie ensuite que ONNX Runtime redonne les mêmes logits que PyTorch (écart
    maximal ≤ ``atol``) ; sinon lève une erreur plutôt que de laisser un export faux.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise LabkitError(f"`model` doit être un torch.nn.Module, reçu {type(model).__name__}.")
    if model.training:
        raise LabkitError("`model` est en mode entraînement : appelez `model.eval()` avant l'export.")
    example_input = torch.as_tensor(example_input, dtype=torch.float32)
    if example_input.ndim < 2 or len(example_input) < 2:
        raise LabkitError(f"`example_input` doit être un lot d'au moins 2 exemples (N, ...), reçu la forme {tuple(example_input.shape)}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    batch = torch.export.Dim("batch")
    # L'exportateur signale des opérateurs torchvision absents, sans rapport avec nos modèles.
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model, (example_input,), dynamo=True, opset_version=opset, dynamic_shapes=({0: batch},), verbose=False
            )
    finally:
        quiet.setLevel(level)
    program.save(str(path))
    _strip_debug_metadata(path)
    check_parity(TorchRunner(model), OnnxRunner(path), example_input.numpy(), atol=atol)
    return path


def _strip_debug_metadata(path: Path) -> None:
    """Retire les métadonnées de débogage que l'exportateur range dans chaque nœud.

    Piles d'appels, chemins des sources de PyTorch, noms des modules : sur un petit
    CNN, 14 % du fichier. Elles faussaient la taille mesurée, qui dépendait même du
    dossier d'installation ; le calcul n'en dépend pas.
    """
    import onnx

    proto = onnx.load(str(path))
    for node in proto.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    onnx.save(proto, str(path))
