"""Le pré-entraînement du backbone livré avec labkit (notebook 12).

``python -m labkit.pretrained.pretrain`` régénère ``pcb_backbone.npz`` et ``pcb_backbone.json``
à côté de ce fichier (environ 3 minutes sur 2 cœurs) ; ``--smoke`` fait un essai de quelques
secondes dans un autre dossier (``--out``). Même graine, même nombre de fils, même machine :
mêmes poids, au bit près (la suite de tests le vérifie en mode rapide). Sur une autre machine,
les poids peuvent différer de l'ordre de l'arrondi : la suite vérifie alors ce qu'ils valent
(la précision d'une tête linéaire apprise sur les caractéristiques).

Les données : des images de PCB (six défauts, parts égales) générées par
:func:`labkit.datasets.make_pcb_defects`, par paquets de 500 prises chacun par une caméra et
avec une difficulté tirées au hasard, réduites à 32×32 par le prétraitement du service. Les caméras
sont celles d'ateliers bien éclairés (contraste de 0,85 à 1,3, luminosité de −0,05 à 0,15, flou de
0,3 à 0,8, bruit de 0,03 à 0,09) : la caméra de la nouvelle ligne (``LINE_CAMERA``) n'en fait pas
partie, le transfert ne règle pas à lui seul le décalage de caméra.
Aucune des graines utilisées ici n'est celle d'un jeu du cours (elles commencent à 10 000).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from . import BACKBONE_WIDTHS, FEATURES, MANIFEST_PATH, PRETRAINING_SIZE, WEIGHTS_PATH, backbone_arrays, make_backbone, weights_digest

FULL = dict(n_images=24000, epochs=15, batch_size=128, lr=3e-3, threads=2, seed=10_000, chunk=500)
SMOKE = dict(n_images=1500, epochs=1, batch_size=128, lr=3e-3, threads=2, seed=10_000, chunk=500)


def pretraining_images(n_images: int, *, seed: int, chunk: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Images 32×32 (N, 32, 32) dans [0, 1] et étiquettes, par paquets de caméras et difficultés tirées au hasard."""
    from ..datasets.pcb import Camera, make_pcb_defects

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i, start in enumerate(range(0, n_images, chunk)):
        camera = Camera(contrast=float(rng.uniform(0.85, 1.3)), brightness=float(rng.uniform(-0.05, 0.15)),
                        blur=float(rng.uniform(0.3, 0.8)), noise=float(rng.uniform(0.03, 0.09)), jitter=0.1)
        data = make_pcb_defects(min(chunk, n_images - start), image_size=64, difficulty=float(rng.uniform(0.2, 0.7)),
                                camera=camera, seed=seed + 1 + i)
        images.append(data.images)
        labels.append(data.labels)
    return np.concatenate(images), np.concatenate(labels)


def pretrain(settings: dict, *, progress: bool = True) -> tuple[dict, dict]:
    """Pré-entraîne le backbone avec ``settings`` (les clés de :data:`FULL`) ; renvoie ``(poids, manifeste)``.

    Le nombre de fils de PyTorch est fixé pendant le pré-entraînement, puis rendu.
    """
    import torch

    missing = sorted(set(FULL) - set(settings))
    if missing:
        raise LabkitError(f"`settings` : il manque {', '.join(missing)} (voir labkit.pretrained.pretrain.FULL).")
    threads = torch.get_num_threads()
    try:
        return _pretrain(settings, progress=progress)
    finally:
        torch.set_num_threads(threads)


def _pretrain(settings: dict, *, progress: bool) -> tuple[dict, dict]:
    import torch
    from torch import nn

    from .. import torch as lkt
    from ..serve.preprocess import normalization_stats, preprocess_arrays

    torch.set_num_threads(settings["threads"])
    torch.manual_seed(settings["seed"])
    images, labels = pretraining_images(settings["n_images"], seed=settings["seed"], chunk=settings["chunk"])
    n_val = len(images) // 10
    mean, std = normalization_stats(images[n_val:])
    x = preprocess_arrays(images, input_size=PRETRAINING_SIZE, mean=mean, std=std)
    x_val, y_val, x_train, y_train = x[:n_val], labels[:n_val], x[n_val:], labels[n_val:]
    backbone = make_backbone()
    model = nn.Sequential(backbone, nn.Linear(FEATURES, 6))
    history = lkt.fit(model, x_train, y_train, x_val, y_val, epochs=settings["epochs"], batch_size=settings["batch_size"],
                      lr=settings["lr"], seed=settings["seed"], progress=progress, description="pré-entraînement", device="cpu")
    arrays = backbone_arrays(backbone)
    info = {
        "description": "Backbone PCB de labkit : 3 blocs conv 3×3 (BN, ReLU, max-pooling), max global.",
        "widths": list(BACKBONE_WIDTHS),
        "features": FEATURES,
        "input_size": PRETRAINING_SIZE,
        "settings": settings,
        "normalization": {"mean": round(mean, 6), "std": round(std, 6)},
        "final_val_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "final_train_accuracy": round(float(history.history["accuracy"][-1]), 4),
        "torch_version": torch.__version__.split("+")[0],
        "weights_sha256": weights_digest(arrays),
        "command": "python -m labkit.pretrained.pretrain",
    }
    return arrays, info


def write(arrays: dict, info: dict, weights_path: Path, manifest_path: Path) -> None:
    """Écrit les poids (``.npz`` compressé) et le manifeste (JSON trié, lisible)."""
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(weights_path, **arrays)
    manifest_path.write_text(json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Pré-entraîne le backbone PCB livré avec labkit.")
    parser.add_argument("--smoke", action="store_true", help="essai rapide (quelques secondes), à écrire ailleurs (--out)")
    parser.add_argument("--out", type=Path, default=None, help="dossier de sortie (défaut : celui du paquet)")
    args = parser.parse_args(argv)
    if args.smoke and args.out is None:
        parser.error("--smoke écrirait des poids d'essai dans le paquet : donnez --out.")
    settings = SMOKE if args.smoke else FULL
    arrays, info = pretrain(dict(settings))
    weights, manifest = (WEIGHTS_PATH, MANIFEST_PATH) if args.out is None else (
        args.out / WEIGHTS_PATH.name, args.out / MANIFEST_PATH.name)
    write(arrays, info, weights, manifest)
    print(f"poids écrits : {weights} ; précision de validation {info['final_val_accuracy']}, empreinte {info['weights_sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
