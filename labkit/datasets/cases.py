"""Cas d'étude : des données qui présentent un problème précis, et leur version saine.

Chaque cas est un petit objet avec les tableaux, le découpage, les métadonnées et
une description en français de ce qui ne va pas et pourquoi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import LabkitError, check_float, check_int


@dataclass
class OverfittingCase:
    """Données d'un cas de surapprentissage (notebook 01).

    ``x_train`` / ``x_val`` sont de forme (N, 1, H, W) en ``float32`` dans [0, 1] ;
    ``y_train`` / ``y_val`` sont les étiquettes entières.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    description: str
    params: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        n, _, h, w = self.x_train.shape
        return (
            f"OverfittingCase(entraînement={n}, validation={len(self.y_val)}, images {h}×{w}, "
            f"{len(self.class_names)} classes)"
        )


def make_overfitting_case(
    n_train: int = 100,
    n_val: int = 700,
    *,
    noise: float = 0.3,
    clean: bool = False,
    seed: int = 0,
) -> OverfittingCase:
    """Peu d'images d'entraînement pour un modèle large : le surapprentissage est garanti.

    Les images sont les chiffres manuscrits 8×8 livrés avec scikit-learn (aucun
    téléchargement), ramenés dans [0, 1] et photographiés par un capteur bruité
    (bruit gaussien d'écart-type ``noise``, fixé par la graine). ``clean=True`` donne
    la version saine : dix fois plus d'images d'entraînement, même validation.

    >>> case = make_overfitting_case(n_train=60, n_val=60, seed=0)
    >>> case.x_train.shape, case.x_train.dtype
    ((60, 1, 8, 8), dtype('float32'))
    """
    from sklearn.datasets import load_digits

    n_train = check_int("n_train", n_train, minimum=10)
    n_val = check_int("n_val", n_val, minimum=10)
    noise = check_float("noise", noise, minimum=0, maximum=1)
    seed = check_int("seed", seed, minimum=0)
    if clean:
        n_train *= 10
    digits = load_digits()
    if n_train + n_val > len(digits.target):
        raise LabkitError(
            f"`n_train` + `n_val` ({n_train} + {n_val}) dépasse les {len(digits.target)} images disponibles"
            + (" (clean=True multiplie n_train par 10)." if clean else ".")
        )
    rng = np.random.default_rng(seed)
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    images = np.clip(images + noise * rng.standard_normal(images.shape).astype(np.float32), 0.0, 1.0)
    order = rng.permutation(len(digits.target))
    # La validation est prise en fin de permutation : identique pour le cas et sa version saine.
    val_idx, train_idx = order[-n_val:], order[:n_train]
    names = tuple(str(d) for d in range(10))
    if clean:
        description = f"Version saine : {n_train} images d'entraînement, assez pour que le réseau généralise."
    else:
        description = (
            f"Surapprentissage : seulement {n_train} images d'entraînement (≈{n_train // 10} par chiffre) pour un "
            "réseau de plusieurs centaines de milliers de paramètres. Il peut apprendre chaque image par cœur, "
            "bruit compris : la précision d'entraînement atteint 100 % tandis que celle de validation décroche."
        )
    return OverfittingCase(
        x_train=images[train_idx],
        y_train=digits.target[train_idx].astype(np.int64),
        x_val=images[val_idx],
        y_val=digits.target[val_idx].astype(np.int64),
        class_names=names,
        description=description,
        params=dict(n_train=n_train, n_val=n_val, noise=noise, clean=clean, seed=seed),
    )
