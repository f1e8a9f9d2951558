"""Export LiteRT (ex-TensorFlow Lite) d'un modèle Keras 3 : fp32, float16, int8 dynamique ou int8 complet.

L'export passe par ``model.export(..., format="litert")`` de Keras 3 (moteur TensorFlow) ;
les options de quantification sont celles du convertisseur LiteRT. Le fichier produit
s'exécute avec :class:`labkit.optimize.measure.LiteRTRunner` (paquet ``ai-edge-litert``,
sans TensorFlow), avec le même protocole de mesure que PyTorch et ONNX Runtime.

- ``quantize=None`` : fp32, vérifié contre Keras (même logits à ``atol`` près) ;
- ``"float16"`` : poids en float16, deux fois plus petit, calculs en float32 ;
- ``"dynamic"`` : poids int8, activations quantifiées à la volée ;
- ``"int8"`` : poids **et** activations int8, calibrés sur ``calibration_data`` (le
  « jeu représentatif ») ; entrées et sorties restent en float32 pour l'appelant.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_choice, validate_float
from .measure import LiteRTRunner, temporary_path
from .quantize import MIN_CALIBRATION

__all__ = ["export_litert", "QUANTIZATION_MODES", "temporary_path"]

QUANTIZATION_MODES = (None, "float16", "dynamic", "int8")


def _converter_options(quantize, calibration):
    import tensorflow as tf

    if quantize is None:
        return {}
    options = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    elif quantize == "int8":

        def representative_dataset():
            for i in range(len(calibration)):
                yield [calibration[i : i + 1]]

        options["representative_dataset"] = representative_dataset
        # Uniquement des opérateurs int8 : une couche non quantifiable lève une erreur
        # au lieu de retomber en silence sur du float32.
        options["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}
    return options


def export_litert(model, path, *, quantize: str | None = None, calibration_data=None, atol: float = 1e-4) -> Path:
    """Exporte le modèle Keras ``model`` vers ``path`` (``.tflite``), taille de lot variable.

    ``calibration_data`` (int8 seulement) : quelques centaines d'exemples d'entraînement,
    rangés comme l'entrée du modèle (N, H, W, C) ; ils fixent l'échelle des activations.
    L'export fp32 est vérifié contre Keras : un écart de logits supérieur à ``atol``
    lève une erreur.

    >>> from labkit.keras import make_cnn
    >>> path = export_litert(make_cnn(width=4, input_shape=(16, 16, 1)), temporary_path(".tflite"))
    >>> path.suffix
    '.tflite'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    if not isinstance(model, keras.Model):
        raise LabkitError(f"`model` doit être un keras.Model, reçu {type(model).__name__}.")
    if keras.backend.backend() != "tensorflow":
        raise LabkitError(
            f"L'export LiteRT demande le moteur TensorFlow de Keras (moteur actuel : {keras.backend.backend()}). "
            "Définissez KERAS_BACKEND=tensorflow avant d'importer Keras."
        )
    quantize = validate_choice("quantize", quantize, QUANTIZATION_MODES)
    atol = validate_float("atol", atol, minimum=0)
    path = Path(path)
    if path.suffix != ".tflite":
        raise LabkitError(f"`path` doit se terminer par .tflite, reçu {path.name!r}.")
    expected = tuple(model.input_shape[1:])
    calibration = None
    if quantize == "int8":
        if calibration_data is None:
            raise LabkitError(
                "`calibration_data` est obligatoire pour quantize='int8' : passez quelques centaines d'images d'entraînement."
            )
        calibration = validate_array("calibration_data", calibration_data, min_ndim=2).astype(np.float32)
        if len(calibration) < MIN_CALIBRATION:
            raise LabkitError(f"`calibration_data` : au moins {MIN_CALIBRATION} exemples pour calibrer, reçu {len(calibration)}.")
        if tuple(calibration.shape[1:]) != expected:
            raise LabkitError(
                f"`calibration_data` : le modèle attend des exemples de forme {expected}, reçu {tuple(calibration.shape[1:])}."
            )
    elif calibration_data is not None:
        raise LabkitError(f"`calibration_data` ne sert qu'à quantize='int8' (reçu quantize={quantize!r}) : retirez-le.")

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            model.export(str(path), format="litert", verbose=False, **_converter_options(quantize, calibration))
        except Exception as error:  # le convertisseur lève des erreurs de types variés
            raise LabkitError(
                f"La conversion LiteRT ({quantize or 'fp32'}) a échoué : {str(error).splitlines()[0]} — "
                "une couche n'a sans doute pas d'équivalent quantifié ; essayez quantize='dynamic' ou 'float16'."
            ) from None
    if quantize is None:
        from .export import check_parity

        probe = np.random.default_rng(0).normal(size=(2, *expected)).astype(np.float32)
        check_parity(lambda x: np.asarray(model(x, training=False)), LiteRTRunner(path), probe, atol=atol)
    return path
