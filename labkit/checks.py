"""Auto-vérifications des exercices : un retour immédiat et en français.

Les cellules de tests (visibles et cachées, conventions nbgrader) utilisent ces
fonctions : en cas de réussite elles affichent « ✅ ... », sinon elles lèvent une
``AssertionError`` dont le message dit ce qui est attendu.

>>> check_equal(2 + 2, 4, "la somme")
✅ la somme : correct.
"""

from __future__ import annotations

import math


def _ok(what: str) -> None:
    print(f"✅ {what} : correct.")


def check(condition, what: str, hint: str) -> None:
    """Vérifie ``condition`` ; sinon échoue avec l'indice ``hint``."""
    if not condition:
        raise AssertionError(f"❌ {what} : {hint}")
    _ok(what)


def check_type(value, expected_type, what: str) -> None:
    """Vérifie le type de ``value``."""
    if not isinstance(value, expected_type):
        names = (
            " ou ".join(t.__name__ for t in expected_type) if isinstance(expected_type, tuple) else expected_type.__name__
        )
        raise AssertionError(f"❌ {what} : on attend un objet de type {names}, reçu {type(value).__name__} ({value!r:.80}).")
    _ok(what)


def check_equal(actual, expected, what: str) -> None:
    """Vérifie ``actual == expected``."""
    if actual != expected:
        raise AssertionError(f"❌ {what} : on attend {expected!r}, reçu {actual!r}.")
    _ok(what)


def check_close(actual, expected, what: str, *, tolerance: float = 1e-6) -> None:
    """Vérifie ``|actual - expected| <= tolerance`` ; nombres, listes ou tableaux (élément par élément).

    >>> check_close([0.5, 1.0], [0.5, 1.0 + 1e-9], "les rappels")
    ✅ les rappels : correct.
    """
    import numpy as np

    try:
        got, want = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"❌ {what} : on attend des nombres, reçu {actual!r:.80}.") from None
    if got.ndim == 0 and want.ndim == 0:
        if not math.isclose(float(got), float(want), rel_tol=0, abs_tol=tolerance):
            raise AssertionError(f"❌ {what} : on attend {float(want):.4g} (à {tolerance:g} près), reçu {float(got):.4g}.")
        _ok(what)
        return
    if got.shape != want.shape:
        raise AssertionError(f"❌ {what} : on attend la forme {want.shape}, reçu {got.shape}.")
    gap = np.abs(got - want)
    if not np.all(gap <= tolerance):  # NaN compris
        worst = int(np.nanargmax(gap)) if np.isfinite(gap).any() else 0
        raise AssertionError(
            f"❌ {what} : écart de {gap.flat[worst]:.4g} à la position {np.unravel_index(worst, gap.shape)} "
            f"(on attend {want.flat[worst]:.4g}, reçu {got.flat[worst]:.4g} ; tolérance {tolerance:g})."
        )
    _ok(what)


def check_at_least(actual, minimum, what: str) -> None:
    """Vérifie ``actual >= minimum``."""
    if not float(actual) >= minimum:
        raise AssertionError(f"❌ {what} : on attend au moins {minimum:.4g}, reçu {float(actual):.4g}.")
    _ok(what)


def check_at_most(actual, maximum, what: str) -> None:
    """Vérifie ``actual <= maximum``."""
    if not float(actual) <= maximum:
        raise AssertionError(f"❌ {what} : on attend au plus {maximum:.4g}, reçu {float(actual):.4g}.")
    _ok(what)
