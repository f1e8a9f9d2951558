"""Quantification : d'abord à la main (échelle, point zéro), puis int8 statique avec ONNX Runtime.

Quantifier linéairement, c'est approcher un réel ``x`` par ``scale × (q − zero_point)``
avec ``q`` entier sur ``bits`` bits. Par tenseur : une échelle pour tout le tenseur ;
par canal : une échelle par canal de sortie, bien plus précis quand les canaux ont
des amplitudes différentes.

>>> w = np.array([[0.1, -0.2, 0.05], [2.0, -1.5, 0.5]], dtype=np.float32)
>>> q = quantize_tensor(w, bits=8)
>>> q.values.dtype, bool(np.abs(dequantize(q) - w).max() <= q.scale.max() / 2)
(dtype('int32'), True)
>>> quantization_error(w, bits=4, axis=0) < quantization_error(w, bits=4)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_int

#: Moins d'exemples que cela ne donne pas des plages d'activation fiables (ONNX Runtime comme LiteRT).
MIN_CALIBRATION = 8


@dataclass
class QuantizedTensor:
    """Entiers ``values``, ``scale`` et ``zero_point`` (un par canal si ``axis`` n'est pas ``None``)."""

    values: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    bits: int
    axis: int | None


def _broadcast(param: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    if axis is None:
        return param
    shape = [1] * ndim
    shape[axis] = -1
    return param.reshape(shape)


def quantize_tensor(x, bits: int = 8, *, axis: int | None = None, symmetric: bool = False) -> QuantizedTensor:
    """Quantifie ``x`` sur ``bits`` bits (2 à 16), par tenseur (``axis=None``) ou par canal (``axis``).

    Asymétrique par défaut : l'intervalle [min, max] (élargi pour contenir 0) est
    envoyé sur [0, 2^bits − 1]. ``symmetric=True`` : [−max|x|, max|x|] sur
    [−(2^(bits−1) − 1), 2^(bits−1) − 1], point zéro nul (l'usage pour les poids).
    """
    x = validate_array("x", x, min_ndim=1).astype(np.float64)
    bits = validate_int("bits", bits, minimum=2, maximum=16)
    if axis is not None:
        axis = validate_int("axis", axis, minimum=-x.ndim, maximum=x.ndim - 1) % x.ndim
        reduce = tuple(i for i in range(x.ndim) if i != axis)
        low, high = x.min(axis=reduce), x.max(axis=reduce)
    else:
        low, high = np.array(x.min()), np.array(x.max())
    low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = np.maximum(np.maximum(-low, high), 1e-12) / qmax
        zero_point = np.zeros_like(scale)
        qmin = -qmax
    else:
        qmin, qmax = 0, 2**bits - 1
        scale = np.maximum(high - low, 1e-12) / (qmax - qmin)
        zero_point = np.clip(np.round(qmin - low / scale), qmin, qmax)
    s, z = _broadcast(scale, x.ndim, axis), _broadcast(zero_point, x.ndim, axis)
    values = np.clip(np.round(x / s + z), qmin, qmax).astype(np.int32)
    return QuantizedTensor(values, scale.astype(np.float64), zero_point.astype(np.int64), bits, axis)


def dequantize(q: QuantizedTensor) -> np.ndarray:
    """Revient aux réels : ``scale × (values − zero_point)``."""
    if not isinstance(q, QuantizedTensor):
        raise LabkitError(f"`q` doit venir de quantize_tensor, reçu {type(q).__name__}.")
    s, z = _broadcast(q.scale, q.values.ndim, q.axis), _broadcast(q.zero_point, q.values.ndim, q.axis)
    return (s * (q.values - z)).astype(np.float32)


def quantization_error(x, bits: int = 8, *, axis: int | None = None, symmetric: bool = False) -> float:
    """Erreur relative moyenne ``mean|x − x̂| / mean|x|`` après un aller-retour quantification."""
    x = validate_array("x", x, min_ndim=1).astype(np.float32)
    restored = dequantize(quantize_tensor(x, bits, axis=axis, symmetric=symmetric))
    return float(np.abs(restored - x).mean() / max(np.abs(x).mean(), 1e-12))


class _Calibration:
    """Lecteur de calibration pour ONNX Runtime : un lot après l'autre."""

    def __init__(self, input_name: str, data: np.ndarray, batch_size: int):
        self.batches = iter([{input_name: data[i : i + batch_size]} for i in range(0, len(data), batch_size)])

    def get_next(self):
        return next(self.batches, None)


def quantize_onnx_static(onnx_path, calibration_data, output_path, *, per_channel: bool = True, batch_size: int = 32) -> Path:
    """int8 statique (format QDQ) avec ONNX Runtime : poids int8 par canal, activations uint8.

    ``calibration_data`` : quelques centaines d'exemples représentatifs (sans
    étiquettes) qui fixent les intervalles des activations.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    onnx_path, output_path = Path(onnx_path), Path(output_path)
    if not onnx_path.is_file():
        raise LabkitError(f"`onnx_path` : fichier introuvable : {onnx_path}")
    data = validate_array("calibration_data", calibration_data, min_ndim=2).astype(np.float32)
    if len(data) < MIN_CALIBRATION:
        raise LabkitError(
            f"`calibration_data` doit contenir au moins {MIN_CALIBRATION} exemples représentatifs, reçu {len(data)}."
        )
    prepared = output_path.with_suffix(".pre.onnx")
    quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
    import onnx

    input_name = onnx.load(str(prepared)).graph.input[0].name
    quantize_static(
        str(prepared), str(output_path), _Calibration(input_name, data, batch_size),
        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        per_channel=per_channel, calibrate_method=CalibrationMethod.MinMax,
    )
    prepared.unlink(missing_ok=True)
    return output_path


def quantize_onnx_dynamic(onnx_path, output_path) -> Path:
    """int8 dynamique avec ONNX Runtime : poids int8, activations quantifiées à la volée.

    Utile pour des couches denses ; sur un CNN, c'est souvent **plus lent** que
    fp32 (voir le notebook 05) : à mesurer avant d'adopter.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    onnx_path, output_path = Path(onnx_path), Path(output_path)
    if not onnx_path.is_file():
        raise LabkitError(f"`onnx_path` : fichier introuvable : {onnx_path}")
    prepared = output_path.with_suffix(".pre.onnx")
    quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(str(prepared), str(output_path), weight_type=QuantType.QInt8)
    prepared.unlink(missing_ok=True)
    return output_path
