"""Un extracteur de caractéristiques pré-entraîné sur un grand jeu de PCB généré par labkit (notebook 12).

Le *backbone* : trois blocs convolutifs (3×3, 16, 32 puis 64 canaux, normalisation de lot, ReLU,
max-pooling 2×2) puis un max global : 64 caractéristiques par image, quelle que soit sa taille.
Ses poids (``pcb_backbone.npz``, 91 ko) sont livrés dans le paquet : rien n'est
téléchargé. Ils ont été produits par :mod:`labkit.pretrained.pretrain` (commande
``python -m labkit.pretrained.pretrain``), sur 24 000 images 32×32 prises par des caméras
d'ateliers bien éclairés, tirées au hasard ; ``pcb_backbone.json`` garde les réglages, l'empreinte des poids et la
précision mesurée à la fin du pré-entraînement.

Les mêmes poids se chargent dans PyTorch (:func:`load_backbone`) et dans Keras
(:func:`load_keras_backbone`) : les deux calculent les mêmes caractéristiques.

Les images d'entrée sont prétraitées comme celles du service (:func:`labkit.serve.preprocess_arrays`) ;
les statistiques de normalisation du pré-entraînement sont données par :func:`pretraining_stats`.

>>> backbone = load_backbone()
>>> import torch
>>> tuple(backbone(torch.zeros(2, 1, 32, 32)).shape)
(2, 64)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from ..validation import validate_bool, validate_float, validate_int

WEIGHTS_PATH = Path(__file__).with_name("pcb_backbone.npz")
MANIFEST_PATH = Path(__file__).with_name("pcb_backbone.json")

#: Canaux des trois blocs convolutifs ; la dernière valeur est le nombre de caractéristiques.
BACKBONE_WIDTHS = (16, 32, 64)
FEATURES = BACKBONE_WIDTHS[-1]
#: Taille des images du pré-entraînement (pixels).
PRETRAINING_SIZE = 32
_BN_EPS = 1e-5


def weights_digest(arrays: dict) -> str:
    """Empreinte SHA-256 du contenu des poids (noms, formes et octets), indépendante du format du fichier."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name], dtype=np.float32)
        digest.update(name.encode())
        digest.update(str(value.shape).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def manifest() -> dict:
    """Le manifeste du pré-entraînement : réglages, empreinte des poids, mesures de fin."""
    if not MANIFEST_PATH.is_file():
        raise LabkitError(f"Le manifeste des poids pré-entraînés manque : {MANIFEST_PATH} (réinstallez labkit).")
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def pretrained_weights() -> dict[str, np.ndarray]:
    """Les poids livrés, ``{nom: tableau float32}`` ; leur empreinte est vérifiée contre le manifeste."""
    if not WEIGHTS_PATH.is_file():
        raise LabkitError(f"Les poids pré-entraînés manquent : {WEIGHTS_PATH} (réinstallez labkit).")
    with np.load(WEIGHTS_PATH) as data:
        arrays = {name: data[name].astype(np.float32) for name in data.files}
    if weights_digest(arrays) != manifest()["weights_sha256"]:
        raise LabkitError(f"Les poids de {WEIGHTS_PATH} ne correspondent pas à leur manifeste : fichier modifié ou abîmé.")
    return arrays


def pretraining_stats() -> tuple[float, float]:
    """``(moyenne, écart-type)`` des pixels des images du pré-entraînement.

    >>> mean, std = pretraining_stats()
    >>> 0 < mean < 1 and 0 < std < 1
    True
    """
    stats = manifest()["normalization"]
    return float(stats["mean"]), float(stats["std"])


# --------------------------------------------------------------------------- PyTorch


def make_backbone(*, widths: tuple[int, ...] = BACKBONE_WIDTHS):
    """Le backbone PyTorch, poids aléatoires (voir :func:`load_backbone` pour les poids livrés)."""
    from torch import nn

    layers, channels = [], 1
    for out in widths:
        layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out, eps=_BN_EPS), nn.ReLU(), nn.MaxPool2d(2)]
        channels = out
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def _torch_state(arrays: dict) -> dict:
    import torch

    return {name: torch.from_numpy(value.copy()) for name, value in arrays.items()}


def backbone_arrays(backbone) -> dict[str, np.ndarray]:
    """Les poids d'un backbone PyTorch en tableaux NumPy (ce que le pré-entraînement enregistre)."""
    return {name: value.detach().cpu().numpy().astype(np.float32) for name, value in backbone.state_dict().items()
            if not name.endswith("num_batches_tracked")}


def load_backbone(*, pretrained: bool = True, freeze: bool = False):
    """Le backbone PyTorch (64 caractéristiques par image), avec les poids livrés si ``pretrained``.

    ``freeze=True`` gèle ses poids (``requires_grad=False``) : seule la tête s'entraîne.
    Un backbone gelé reste en mode évaluation pour ses normalisations de lot : voir
    :func:`make_transfer_model`.
    """
    validate_bool("pretrained", pretrained)
    validate_bool("freeze", freeze)
    backbone = make_backbone()
    if pretrained:
        import torch

        state = _torch_state(pretrained_weights())
        state.update({name: torch.tensor(0) for name in backbone.state_dict() if name.endswith("num_batches_tracked")})
        backbone.load_state_dict(state)
    for parameter in backbone.parameters():
        parameter.requires_grad_(not freeze)
    return backbone


def make_transfer_model(*, n_classes: int = 6, pretrained: bool = True, freeze: bool = True, dropout: float = 0.0):
    """Backbone (livré ou aléatoire) + tête linéaire à ``n_classes`` sorties, pour PyTorch.

    - ``freeze=True`` : **extraction de caractéristiques**, seule la tête apprend ; les
      normalisations de lot du backbone gardent les statistiques du pré-entraînement ;
    - ``freeze=False`` : **réglage fin** (*fine-tuning*), tout apprend (avec un petit pas).

    >>> model = make_transfer_model(freeze=True)
    >>> sum(p.numel() for p in model.parameters() if p.requires_grad)
    390
    """
    from torch import nn

    n_classes = validate_int("n_classes", n_classes, minimum=2)
    dropout = validate_float("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    from ._torch import TransferModel

    backbone = load_backbone(pretrained=pretrained, freeze=freeze)
    return TransferModel(backbone, nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURES, n_classes)), frozen=freeze)


# --------------------------------------------------------------------------- Keras


def load_keras_backbone(*, pretrained: bool = True, freeze: bool = False, input_size: int = PRETRAINING_SIZE):
    """Le même backbone pour Keras (entrée ``(input_size, input_size, 1)``, canaux en dernier).

    Les poids livrés y sont recopiés depuis leur forme PyTorch : les deux cadres calculent
    les mêmes caractéristiques (écart de l'ordre de 1e-5).
    """
    validate_bool("pretrained", pretrained)
    validate_bool("freeze", freeze)
    input_size = validate_int("input_size", input_size, minimum=8)
    import keras

    layers = [keras.Input((input_size, input_size, 1))]
    for i, out in enumerate(BACKBONE_WIDTHS):
        layers += [
            keras.layers.Conv2D(out, 3, padding="same", use_bias=False, name=f"conv{i}"),
            keras.layers.BatchNormalization(epsilon=_BN_EPS, momentum=0.9, name=f"bn{i}"),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
        ]
    layers.append(keras.layers.GlobalMaxPooling2D())
    backbone = keras.Sequential(layers, name="pcb_backbone")
    if pretrained:
        arrays = pretrained_weights()
        for i in range(len(BACKBONE_WIDTHS)):
            conv, bn = 4 * i, 4 * i + 1
            backbone.get_layer(f"conv{i}").set_weights([arrays[f"{conv}.weight"].transpose(2, 3, 1, 0)])
            backbone.get_layer(f"bn{i}").set_weights([arrays[f"{bn}.weight"], arrays[f"{bn}.bias"],
                                                      arrays[f"{bn}.running_mean"], arrays[f"{bn}.running_var"]])
    backbone.trainable = not freeze
    return backbone


__all__ = [
    "BACKBONE_WIDTHS",
    "FEATURES",
    "PRETRAINING_SIZE",
    "backbone_arrays",
    "load_backbone",
    "load_keras_backbone",
    "make_backbone",
    "make_transfer_model",
    "manifest",
    "pretrained_weights",
    "pretraining_stats",
    "weights_digest",
]
