"""Lancer le service comme en production, depuis un notebook ou un test : un vrai processus, un port libre.

:class:`ServiceProcess` démarre ``python -m labkit.serve`` (la commande du ``CMD`` du
Dockerfile, à l'hôte et au port près) dans un sous-processus, sur ``127.0.0.1`` et un
port que le système choisit libre, attend que ``/api/health`` réponde, puis l'arrête
(arrêt propre, puis forcé) sans laisser de processus derrière lui. Trois filets
garantissent l'arrêt :

- ``stop()`` explicite, ou la fin d'un bloc ``with`` (même sur une erreur) ;
- ``atexit`` : à la fin normale de l'interpréteur (noyau Jupyter arrêté) ;
- ``--parent-pid`` : le serveur surveille le processus qui l'a lancé et s'arrête seul
  s'il disparaît (noyau tué, ``os._exit``), sous Linux et macOS.

Le journal du serveur (sortie d'erreur et sortie standard) va dans ``log_path``
(un fichier temporaire par défaut) : :meth:`ServiceProcess.log_text` le relit.

>>> command = service_command("modele.onnx", port=8001)
>>> command[1:3], command[-4:]
(['-m', 'labkit.serve'], ['--host', '127.0.0.1', '--port', '8001'])
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import LabkitError
from ..validation import validate_float

__all__ = ["ServiceProcess", "free_port", "service_command"]

#: Le module lancé (``python -m labkit.serve``), comme dans le Dockerfile.
MODULE = "labkit.serve"


def free_port() -> int:
    """Un port TCP libre sur 127.0.0.1 (choisi par le système)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_command(model, *, fallback=None, port: int, host: str = "127.0.0.1", extra=(),
                    parent_pid: int | None = None) -> list[str]:
    """La commande qui lance le service : celle du ``CMD`` du Dockerfile, à l'hôte et au port près."""
    command = [sys.executable, "-m", MODULE, "--model", str(model)]
    if fallback is not None:
        command += ["--fallback", str(fallback)]
    command += ["--host", host, "--port", str(port), *map(str, extra)]
    if parent_pid is not None:
        command += ["--parent-pid", str(parent_pid)]
    return command


class ServiceProcess:
    """Le service dans un sous-processus : ``start()`` / ``stop()``, ou ``with ServiceProcess(...) as service``.

    - ``model`` : artefact ONNX (``export_classifier``) ; ``fallback`` : artefact de secours ;
    - ``extra`` : options de plus pour ``python -m labkit.serve`` (``["--max-images", 64]``…) ;
    - ``log_path`` : journal du serveur (défaut : un fichier temporaire) ;
    - ``startup_timeout`` : attente maximale de ``/api/health``, en secondes ;
    - ``env``, ``cwd`` : environnement ajouté et dossier de travail du processus.

    ``url`` donne l'adresse de base (``http://127.0.0.1:<port>``) une fois démarré.
    Aucune durée n'est comparée à un seuil : le délai sert seulement à ne pas attendre
    indéfiniment un serveur qui ne démarrera pas.
    """

    def __init__(self, model, *, fallback=None, extra=(), log_path=None, startup_timeout: float = 120.0,
                 env: dict | None = None, cwd=None, watch_parent: bool = True):
        if not isinstance(model, (str, Path)) or not str(model):
            raise LabkitError(f"`model` doit être le chemin d'un artefact ONNX, reçu {model!r}.")
        if fallback is not None and (not isinstance(fallback, (str, Path)) or not str(fallback)):
            raise LabkitError(f"`fallback` doit être le chemin d'un artefact ONNX ou None, reçu {fallback!r}.")
        self.model, self.fallback, self.extra = Path(model), fallback, tuple(extra)
        self.startup_timeout = validate_float("startup_timeout", startup_timeout, minimum=0, exclusive_minimum=True)
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="labkit-service-", suffix=".log")
            os.close(handle)
        self.log_path = Path(log_path)
        self.env, self.cwd, self.watch_parent = dict(env or {}), cwd, bool(watch_parent)
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.command: list[str] | None = None
        self._log = None

    def __repr__(self) -> str:
        state = f"en marche sur {self.url}" if self.running else "arrêté"
        return f"ServiceProcess({self.model.name}, {state})"

    @property
    def url(self) -> str:
        """L'adresse de base du service, ``http://127.0.0.1:<port>``."""
        if self.port is None:
            raise LabkitError("Le service n'est pas démarré : appelez start() d'abord.")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Vrai tant que le processus du serveur tourne."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Le journal du serveur (texte), vide s'il n'existe pas encore."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self) -> ServiceProcess:
        """Lance le serveur et attend ``/api/health`` ; erreur (avec la fin du journal) s'il s'arrête avant."""
        if self.running:
            return self
        for _ in range(3):  # un autre processus peut prendre le port entre free_port() et le démarrage
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            address_taken = "address already in use" in self.log_text().lower()
            self.stop()
            if not address_taken:
                break
        raise LabkitError(f"Le service n'a pas démarré. Fin de son journal :\n{self.log_text()[-3000:]}")

    def _spawn(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", **self.env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        parent = os.getpid() if self.watch_parent and os.name == "posix" else None
        self.command = service_command(self.model, fallback=self.fallback, port=self.port, extra=self.extra,
                                       parent_pid=parent)
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        cwd=None if self.cwd is None else str(self.cwd))
        atexit.register(self.stop)

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
        """Lance le serveur sans attendre qu'il réponde, attend la fin du processus et renvoie son code de sortie.

        Sert à vérifier qu'un serveur mal configuré (modèle absent…) refuse de démarrer.
        """
        self.port = self.port or free_port()
        if self.process is None:
            self._spawn()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        """Arrêt propre (SIGTERM), puis forcé (SIGKILL) s'il traîne ; toujours attendu (pas de zombie).

        Sans effet sur un service déjà arrêté : on peut l'appeler plusieurs fois.
        """
        atexit.unregister(self.stop)
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

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
