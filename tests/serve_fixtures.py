"""Outils partagés par les tests du service (``test_serve*.py``) et par ``benchmarks/serve_load.py``.

- :func:`train_artifacts` : entraîne un petit CNN sur les images de PCB et exporte ses artefacts fp32 et int8 ;
- :class:`ServerProcess` : lance le **vrai** serveur (``python -m labkit.serve``) dans un sous-processus,
  attend qu'il réponde, puis l'arrête (terminate, puis kill) sans laisser de processus derrière lui.

Aucun de ces outils ne mesure de durée pour la comparer à un seuil : les délais ne
servent qu'à ne pas attendre indéfiniment un serveur qui ne démarrera jamais.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SERVE_MODULE = "labkit.serve"


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


def free_port() -> int:
    """Un port TCP libre sur 127.0.0.1 (le système le choisit)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(model, *, fallback=None, port: int, host: str = "127.0.0.1", extra=()) -> list[str]:
    """La commande qui lance le service : la même que le ``CMD`` du Dockerfile, à l'hôte et au port près."""
    command = [sys.executable, "-m", SERVE_MODULE, "--model", str(model)]
    if fallback is not None:
        command += ["--fallback", str(fallback)]
    return command + ["--host", host, "--port", str(port), *map(str, extra)]


class ServerProcess:
    """Le serveur réel dans un sous-processus ; à utiliser avec ``with`` ou ``start()`` / ``stop()``.

    Le journal du serveur (sortie d'erreur et sortie standard) est écrit dans ``log_path``.
    """

    def __init__(self, model, *, log_path, fallback=None, extra=(), startup_timeout: float = 120.0):
        self.model, self.fallback, self.extra = model, fallback, tuple(extra)
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self) -> "ServerProcess":
        """Lance le serveur et attend ``/api/health`` ; erreur (avec la fin du journal) s'il s'arrête avant."""
        for _ in range(3):  # un autre processus peut prendre le port entre free_port() et le démarrage
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            address_taken = "address already in use" in self.log_text().lower()
            self.stop()
            if not address_taken:
                break
        raise RuntimeError(f"Le serveur n'a pas démarré. Fin du journal :\n{self.log_text()[-3000:]}")

    def _spawn(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        command = server_command(self.model, fallback=self.fallback, port=self.port, extra=self.extra)
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def _wait_ready(self) -> bool:
        import httpx

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/api/health", timeout=2.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def wait_exit(self, timeout: float = 120.0) -> int:
        """Attend la fin du processus (serveur qui refuse de démarrer) et renvoie son code de sortie."""
        self.port = self.port or free_port()
        if self.process is None:
            self._spawn()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        """Arrêt propre (SIGTERM), puis forcé (SIGKILL) s'il traîne ; toujours attendu (pas de zombie)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
