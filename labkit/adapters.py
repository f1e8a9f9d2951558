"""Passer des tableaux NumPy du cours à PyTorch ou à Keras, sans importer ce qui ne sert pas.

Les cas d'étude et les images de PCB sont des tableaux NumPy ; ces adaptateurs les
donnent au cadre choisi. PyTorch n'est importé que par :func:`to_torch_dataset`
et :func:`to_dataloader`, TensorFlow que par :func:`to_tf_dataset`.

Convention : les images sont rangées (N, canaux, H, W) comme en PyTorch ;
:func:`to_keras_arrays` et :func:`to_tf_dataset` les passent en (N, H, W, canaux),
l'ordre attendu par Keras.
"""

from __future__ import annotations

import numpy as np

from .errors import LabkitError
from .validation import validate_array, validate_int, validate_labels


def to_numpy(x) -> np.ndarray:
    """Convertit un tenseur PyTorch ou TensorFlow, une liste ou un DataFrame en tableau NumPy.

    >>> to_numpy([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    if hasattr(x, "detach"):  # tenseur PyTorch
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # tenseur TensorFlow
        return np.asarray(x.numpy())
    if hasattr(x, "to_numpy"):  # DataFrame, Series
        return x.to_numpy()
    return np.asarray(x)


def _check_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = validate_array("x", to_numpy(x), min_ndim=2)
    y = validate_labels("y", to_numpy(y), length=len(x))
    return x.astype(np.float32), y


def channels_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) → (N, H, W, C) ; (N, H, W) → (N, H, W, 1) ; un tableau (N, variables) est rendu tel quel."""
    if x.ndim == 3:
        return x[..., None]
    if x.ndim == 4:
        return np.ascontiguousarray(np.moveaxis(x, 1, -1))
    return x


def to_keras_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Tableaux prêts pour ``model.fit(x, y)`` de Keras 3 (tous moteurs) : images en (N, H, W, C).

    >>> xk, yk = to_keras_arrays(np.zeros((4, 1, 8, 8)), [0, 1, 0, 1])
    >>> xk.shape, xk.dtype
    ((4, 8, 8, 1), dtype('float32'))
    """
    x, y = _check_pair(x, y)
    return channels_last(x), y


def to_torch_dataset(x, y):
    """Un ``torch.utils.data.TensorDataset`` (images en float32, étiquettes en int64)."""
    import torch
    from torch.utils.data import TensorDataset

    x, y = _check_pair(x, y)
    if x.ndim == 3:
        x = x[:, None]
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def to_dataloader(x, y, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0, **loader_options):
    """Un ``DataLoader`` PyTorch ; ``shuffle=True`` mélange de façon reproductible (graine ``seed``).

    Les autres options (``num_workers``, ``pin_memory``…) sont transmises au ``DataLoader``.
    """
    import torch
    from torch.utils.data import DataLoader

    batch_size = validate_int("batch_size", batch_size, minimum=1)
    seed = validate_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(to_torch_dataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=generator, **loader_options)


def to_tf_dataset(x, y, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """Un ``tf.data.Dataset`` de lots (images en (N, H, W, C)), mélangé de façon reproductible si demandé."""
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    seed = validate_int("seed", seed, minimum=0)
    x, y = to_keras_arrays(x, y)
    try:
        import tensorflow as tf
    except ImportError:
        raise LabkitError(
            "`to_tf_dataset` a besoin de TensorFlow, qui n'est pas installé : `pip install tensorflow`, "
            "ou utilisez `to_keras_arrays` (Keras 3 accepte les tableaux NumPy avec tous ses moteurs)."
        ) from None
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size)
