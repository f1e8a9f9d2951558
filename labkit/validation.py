"""Validation des arguments : des erreurs claires, en français, qui nomment l'argument.

Toutes les fonctions publiques de labkit valident leurs arguments tôt (à la manière
de scikit-learn) avec ces ``validate_*``, pour que l'étudiant lise *quoi* changer
plutôt qu'une trace NumPy incompréhensible. Elles lèvent une :class:`labkit.errors.LabkitError`
(ou la sous-classe qu'on leur passe) ; à ne pas confondre avec les vérifications des
exercices (:mod:`labkit.checks`), qui lèvent une ``AssertionError`` pour l'étudiant.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import LabkitError


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_bool(name: str, value) -> bool:
    """Vérifie que ``value`` est un booléen (``True``/``False``, ou un booléen NumPy) et le renvoie.

    >>> validate_bool("progress", True)
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise LabkitError(f"`{name}` doit être True ou False, reçu {_show(value)} ({type(value).__name__}).")
    return bool(value)


def validate_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Vérifie que ``value`` est un entier dans ``[minimum, maximum]`` et le renvoie.

    >>> validate_int("n_images", 10, minimum=1)
    10
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LabkitError(f"`{name}` doit être un entier, reçu {_show(value)} ({type(value).__name__}).")
    value = int(value)
    if minimum is not None and value < minimum:
        raise LabkitError(f"`{name}` doit être supérieur ou égal à {minimum}, reçu {value}.")
    if maximum is not None and value > maximum:
        raise LabkitError(f"`{name}` doit être inférieur ou égal à {maximum}, reçu {value}.")
    return value


def validate_float(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> float:
    """Vérifie que ``value`` est un nombre réel fini dans l'intervalle demandé.

    >>> validate_float("ratio", 0.5, minimum=0, maximum=1, exclusive_minimum=True)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LabkitError(f"`{name}` doit être un nombre, reçu {_show(value)} ({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value):
        raise LabkitError(f"`{name}` doit être un nombre fini, reçu {value}.")
    low_ok = minimum is None or (value > minimum if exclusive_minimum else value >= minimum)
    high_ok = maximum is None or (value < maximum if exclusive_maximum else value <= maximum)
    if not (low_ok and high_ok):
        left = "]" if exclusive_minimum else "["
        right = "[" if exclusive_maximum else "]"
        low = "-∞" if minimum is None else f"{minimum:g}"
        high = "+∞" if maximum is None else f"{maximum:g}"
        raise LabkitError(f"`{name}` doit être dans l'intervalle {left}{low}, {high}{right}, reçu {value:g}.")
    return value


def validate_choice(name: str, value, choices: Iterable):
    """Vérifie que ``value`` fait partie de ``choices``.

    >>> validate_choice("mode", "rapide", ["rapide", "complet"])
    'rapide'
    """
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise LabkitError(f"`{name}` doit valoir l'une de ces valeurs : {listed} ; reçu {_show(value)}.")
    return value


def validate_numbers(name: str, values, *, min_length: int = 1, allow_nonfinite: bool = False) -> np.ndarray:
    """Convertit une suite de nombres (finis, sauf ``allow_nonfinite``) en tableau ``float64`` à une dimension."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)) and not hasattr(values, "__array__"):
        raise LabkitError(f"`{name}` doit être une liste de nombres, reçu {type(values).__name__}.")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabkitError(f"`{name}` doit ne contenir que des nombres.") from None
    if array.ndim != 1:
        raise LabkitError(f"`{name}` doit être une liste à une dimension, reçu une forme {array.shape}.")
    if array.size < min_length:
        raise LabkitError(f"`{name}` doit contenir au moins {min_length} valeur(s), reçu {array.size}.")
    if not allow_nonfinite and not np.all(np.isfinite(array)):
        raise LabkitError(f"`{name}` contient des valeurs non finies (NaN ou infini) : l'entraînement a peut-être divergé.")
    return array


def validate_array(name: str, value, *, min_ndim: int = 1, max_ndim: int | None = None, allow_nonfinite: bool = False) -> np.ndarray:
    """Convertit ``value`` (tableau NumPy, tenseur, DataFrame, liste) en tableau numérique et le vérifie.

    >>> validate_array("x", [[1, 2], [3, 4]], min_ndim=2).shape
    (2, 2)
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise LabkitError(f"`{name}` doit être un tableau de nombres, reçu {_show(value)}.")
    if hasattr(value, "detach"):  # tenseur PyTorch
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise LabkitError(f"`{name}` doit être un tableau de nombres, reçu {type(value).__name__}.") from None
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise LabkitError(f"`{name}` doit contenir des nombres, reçu le type {array.dtype}.")
    if array.ndim < min_ndim or (max_ndim is not None and array.ndim > max_ndim):
        expected = f"{min_ndim}" if max_ndim == min_ndim else f"au moins {min_ndim}" if max_ndim is None else f"{min_ndim} à {max_ndim}"
        raise LabkitError(f"`{name}` doit avoir {expected} dimension(s), reçu la forme {array.shape}.")
    if len(array) == 0:
        raise LabkitError(f"`{name}` est vide.")
    if not allow_nonfinite and np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise LabkitError(f"`{name}` contient des valeurs non finies (NaN ou infini).")
    return array


def validate_labels(name: str, value, *, length: int | None = None, length_of: str = "x") -> np.ndarray:
    """Vérifie un vecteur d'étiquettes entières (numéros de classe), de longueur ``length`` si donnée.

    >>> validate_labels("y", [0, 1, 1]).tolist()
    [0, 1, 1]
    """
    labels = validate_array(name, value, min_ndim=1, max_ndim=1)
    if np.issubdtype(labels.dtype, np.floating):
        if not np.all(labels == np.round(labels)):
            raise LabkitError(f"`{name}` doit contenir des numéros de classe entiers, reçu des nombres à virgule.")
        labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise LabkitError(f"`{name}` doit contenir des numéros de classe positifs ou nuls, reçu {labels.min()}.")
    if length is not None and len(labels) != length:
        raise LabkitError(f"`{name}` doit avoir {length} étiquettes (une par ligne de `{length_of}`), reçu {len(labels)}.")
    return labels.astype(np.int64)


def validate_file(name: str, value) -> Path:
    """Vérifie que ``value`` est le chemin (texte ou ``Path``) d'un fichier existant ; le renvoie en ``Path``.

    >>> validate_file("path", __file__).name
    'validation.py'
    """
    if not isinstance(value, (str, Path)):
        raise LabkitError(f"`{name}` doit être un chemin de fichier, reçu {type(value).__name__}.")
    path = Path(value)
    if not path.is_file():
        raise LabkitError(f"`{name}` : fichier introuvable : {path}")
    return path
