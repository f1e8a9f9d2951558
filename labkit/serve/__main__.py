"""Lancer le service : ``python -m labkit.serve --model modele.onnx [--fallback secours.onnx] --port 8000``.

C'est la commande des tests, du banc de charge et du ``CMD`` du Dockerfile. Le journal
(une ligne JSON par requête sur le journal ``labkit.serve.access``) sort sur la sortie d'erreur.

>>> args = build_parser().parse_args(["--model", "m.onnx", "--port", "8001"])
>>> args.host, args.port, args.threads
('127.0.0.1', 8001, 1)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

from .app import DEFAULT_MAX_IMAGES, DEFAULT_MAX_UPLOAD_BYTES
from .preprocess import DEFAULT_MIN_SIZE

#: Le module que lancent les tests et le Dockerfile (``python -m labkit.serve``).
MODULE = "labkit.serve"


def build_parser() -> argparse.ArgumentParser:
    """Les options de la ligne de commande."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description="Sert un classifieur ONNX exporté par labkit.")
    parser.add_argument("--model", required=True, help="artefact ONNX principal (export_classifier)")
    parser.add_argument("--fallback", default=None, help="artefact de secours (fp32), chargé si le principal échoue")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (0.0.0.0 dans un conteneur)")
    parser.add_argument("--port", type=int, default=8000, help="port d'écoute")
    parser.add_argument("--threads", type=int, default=1, help="fils de calcul d'ONNX Runtime (défaut 1)")
    parser.add_argument("--concurrency", type=int, default=1, help="lots traités en même temps (défaut 1)")
    parser.add_argument("--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD_BYTES, help="taille maximale d'une requête")
    parser.add_argument("--max-images", type=int, default=DEFAULT_MAX_IMAGES, help="images au plus par requête")
    parser.add_argument("--min-image-size", type=int, default=DEFAULT_MIN_SIZE, help="côté minimal d'une image, en pixels")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="niveau du journal")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="s'arrêter seul quand ce processus (celui qui a lancé le serveur) disparaît (Linux, macOS)")
    return parser


def watch_parent(server, parent_pid: int, interval: float = 0.5) -> threading.Thread:
    """Arrête ``server`` (uvicorn) quand le processus ``parent_pid`` disparaît : un noyau tué ne laisse pas de serveur.

    Sous Linux et macOS, un processus dont le parent meurt est rattaché à un autre
    (``os.getppid()`` change) : c'est ce changement que la surveillance guette.
    """
    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent_pid:
                logging.getLogger("labkit.serve").warning("Le processus parent %d a disparu : arrêt du service.", parent_pid)
                server.should_exit = True
                return
            time.sleep(interval)

    thread = threading.Thread(target=watch, name="labkit-parent-watch", daemon=True)
    thread.start()
    return thread


def configure_logging(level: str) -> None:
    """Journal sur la sortie d'erreur : lignes JSON brutes pour l'accès, horodatées pour le reste."""
    numeric = getattr(logging, level.upper())
    service = logging.getLogger("labkit.serve")
    access = logging.getLogger("labkit.serve.access")
    for logger, fmt in ((service, "%(asctime)s %(levelname)s %(name)s : %(message)s"), (access, "%(message)s")):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(fmt))
        logger.handlers[:] = [handler]
        logger.setLevel(numeric)
        logger.propagate = False


def main(argv=None) -> int:
    """Point d'entrée : analyse les options, crée l'application et lance uvicorn."""
    import uvicorn

    from ..errors import LabkitError
    from .app import create_app

    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        app = create_app(args.model, args.fallback, max_upload_bytes=args.max_upload_bytes, max_images=args.max_images,
                         min_image_size=args.min_image_size, threads=args.threads, concurrency=args.concurrency)
    except LabkitError as error:
        logging.getLogger("labkit.serve").error("Options invalides : %s", error)
        return 2
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, access_log=False, log_level=args.log_level,
                                           timeout_graceful_shutdown=5))
    if args.parent_pid is not None and os.name == "posix":
        watch_parent(server, args.parent_pid)
    server.run()
    return 0 if server.started else 3  # 3 : échec du démarrage (modèle illisible…), comme uvicorn.run


if __name__ == "__main__":
    sys.exit(main())
