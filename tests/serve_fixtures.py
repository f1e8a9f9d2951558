"""Outils partagés par les tests du service (``test_serve*.py``) et par ``benchmarks/serve_load.py``.

- :func:`train_artifacts` : entraîne un petit CNN sur les images de PCB et exporte ses artefacts fp32 et int8 ;
- :class:`ServerProcess` : lance le **vrai** serveur (``python -m labkit.serve``) dans un sous-processus,
  attend qu'il réponde, puis l'arrête (terminate, puis kill) sans laisser de processus derrière lui ;
  c'est :class:`labkit.serve.ServiceProcess` (celui du notebook 10), avec le code du dépôt.

Aucun de ces outils ne mesure de durée pour la comparer à un seuil : les délais ne
servent qu'à ne pas attendre indéfiniment un serveur qui ne démarrera jamais.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.serve.process import MODULE, ServiceProcess, free_port, service_command

__all__ = ["ROOT", "SERVE_MODULE", "ServerProcess", "TrainedArtifacts", "free_port", "server_command", "train_artifacts"]

ROOT = Path(__file__).resolve().parents[1]
SERVE_MODULE = MODULE


@dataclass
class TrainedArtifacts:
    """Un modèle entraîné, ses artefacts et les données qui ont servi."""

    model: object
    fp32: Path
    int8: Path
    mean: float
    std: float
    val_images: np.ndarray
    val_labels: np.ndarray
    input_size: int


def train_artifacts(directory, *, n_images: int = 1200, epochs: int = 6, width: int = 8, image_size: int = 64,
                    seed: int = 0, name: str = "pcb-cnn", version: str = "1.0.0") -> TrainedArtifacts:
    """Entraîne ``make_cnn(width=width)`` (1 fil) sur ``n_images`` images, exporte ``fp32.onnx`` et ``int8.onnx``.

    La normalisation est calculée sur la partie entraînement seulement, et les tenseurs
    viennent de :func:`labkit.serve.preprocess.preprocess_arrays`, le code du service.
    """
    import torch

    from labkit.datasets import make_pcb_defects
    from labkit.serve import export_classifier
    from labkit.serve.preprocess import normalization_stats, preprocess_arrays
    from labkit.torch import fit, make_cnn

    torch.set_num_threads(1)
    directory = Path(directory)
    data = make_pcb_defects(n_images, image_size=image_size, difficulty=0.0, seed=seed)
    n_train = int(0.8 * n_images)
    train_images, val_images = data.images[:n_train], data.images[n_train:]
    mean, std = normalization_stats(train_images)
    x_train = preprocess_arrays(train_images, input_size=image_size, mean=mean, std=std)
    x_val = preprocess_arrays(val_images, input_size=image_size, mean=mean, std=std)
    model = make_cnn(width=width)
    fit(model, x_train, data.labels[:n_train], x_val, data.labels[n_train:], epochs=epochs, batch_size=32, lr=5e-3,
        seed=seed, progress=False)
    model.eval()
    common = dict(name=name, version=version, mean=mean, std=std, input_size=image_size)
    fp32 = export_classifier(model, directory / "fp32.onnx", **common)
    int8 = export_classifier(model, directory / "int8.onnx", calibration=x_train[:256], **common)
    return TrainedArtifacts(model, fp32, int8, mean, std, val_images, data.labels[n_train:], image_size)


def server_command(model, *, fallback=None, port: int, host: str = "127.0.0.1", extra=()) -> list[str]:
    """La commande qui lance le service : la même que le ``CMD`` du Dockerfile, à l'hôte et au port près."""
    return service_command(model, fallback=fallback, port=port, host=host, extra=extra)


class ServerProcess(ServiceProcess):
    """Le serveur réel dans un sous-processus (:class:`labkit.serve.ServiceProcess`), lancé avec le code du dépôt.

    ``with`` ou ``start()`` / ``stop()`` ; le journal du serveur est écrit dans ``log_path``.
    """

    def __init__(self, model, *, log_path, fallback=None, extra=(), startup_timeout: float = 120.0):
        super().__init__(model, fallback=fallback, extra=extra, log_path=log_path, startup_timeout=startup_timeout,
                         env={"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
                         cwd=ROOT)
