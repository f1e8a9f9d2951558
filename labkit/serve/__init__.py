"""Servir un modèle : un artefact ONNX autoportant, un service HTTP (FastAPI) et sa page web.

- :mod:`labkit.serve.artifact` : :func:`export_classifier` (un fichier ONNX avec ses
  métadonnées) et :func:`load_artifact` (ONNX Runtime seul) ;
- :mod:`labkit.serve.preprocess` : le prétraitement **partagé** par l'entraînement et le service ;
- :mod:`labkit.serve.app` : :func:`create_app`, le service (santé, prédiction, métriques, page) ;
- ``python -m labkit.serve --model modele.onnx --port 8000`` : le lancer ;
- :mod:`labkit.serve.process` : :class:`ServiceProcess`, le lancer depuis un notebook ou un test
  (vrai processus, port libre, arrêt garanti) ;
- :mod:`labkit.serve.page` : :func:`screenshot_page`, une capture de la page dans Chromium.

``import labkit.serve`` n'importe ni PyTorch, ni FastAPI, ni ONNX Runtime : chacun
est chargé quand on s'en sert (extra ``serve`` : ``pip install "ameliorer-dl[serve]"``).

>>> import labkit.serve
>>> sorted(labkit.serve.FORMATS)
['onnx-fp32', 'onnx-int8']
"""

from .artifact import FORMATS, Artifact, ArtifactError, ArtifactMetadata, export_classifier, load_artifact
from .page import screenshot_page
from .preprocess import normalization_stats, preprocess_arrays, preprocess_bytes
from .process import ServiceProcess, free_port, service_command

__all__ = [
    "FORMATS",
    "Artifact",
    "ArtifactError",
    "ArtifactMetadata",
    "ServiceProcess",
    "create_app",
    "export_classifier",
    "free_port",
    "load_artifact",
    "normalization_stats",
    "preprocess_arrays",
    "preprocess_bytes",
    "screenshot_page",
    "service_command",
]


def __getattr__(name: str):
    if name == "create_app":  # FastAPI n'est importé qu'à la demande
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'labkit.serve' has no attribute {name!r}")
