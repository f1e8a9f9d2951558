"""Auto-vérifications des exercices : un retour immédiat et en français.

Les cellules de tests utilisent ces fonctions : en cas de réussite elles affichent
« ✅ ... », sinon elles lèvent une ``AssertionError`` dont le message dit ce qui est
attendu. Les tests cachés utilisent les mêmes fonctions depuis
:mod:`labkit.hidden_checks`, dont les messages ne révèlent pas la valeur attendue.

Deux règles protègent la note :

- une condition doit être un vrai booléen (``bool``, booléen NumPy ou tenseur booléen à
  un élément) : un objet qui se dit « vrai » ne suffit pas ;
- un résultat dont le type est défini dans le notebook (``__main__``) n'est comparé qu'à
  une valeur du même type : un ``__eq__`` qui répond toujours « égal » ne passe pas.

>>> check_equal(2 + 2, 4, "la somme")
✅ la somme : correct.
"""

from __future__ import annotations

import math

__all__ = ["check", "check_type", "check_equal", "check_close", "check_at_least", "check_at_most"]


def _defined_in_notebook(value, depth: int = 0) -> bool:
    """Vrai si ``value`` (ou un élément d'une liste, d'un tuple, d'un dictionnaire) vient d'une classe du notebook."""
    if type(value).__module__ == "__main__":
        return True
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        return any(_defined_in_notebook(v, depth + 1) for v in value)
    if depth < 3 and isinstance(value, dict):
        return any(_defined_in_notebook(k, depth + 1) or _defined_in_notebook(v, depth + 1) for k, v in value.items())
    return False


def _as_bool(condition) -> bool | None:
    """``condition`` en booléen s'il en est un vrai (Python, NumPy, tenseur à un élément), ``None`` sinon."""
    if isinstance(condition, bool):
        return condition
    module = type(condition).__module__.split(".")[0]
    if module in ("numpy", "torch", "tensorflow", "keras", "jax"):
        dtype = str(getattr(condition, "dtype", ""))
        size = getattr(condition, "size", None)
        size = size() if callable(size) and module == "torch" else size
        count = condition.numel() if module == "torch" else size
        if "bool" in dtype and (count is None or int(count) == 1):
            return bool(condition)
    return None


class _Checks:
    """Les vérifications, qui révèlent (tests visibles) ou taisent (tests cachés) la valeur attendue."""

    def __init__(self, reveal: bool):
        self.reveal = reveal

    @staticmethod
    def ok(what: str) -> None:
        print(f"✅ {what} : correct.")

    def fail(self, what: str, detail: str, quiet: str = "résultat incorrect (test de la correction)") -> None:
        raise AssertionError(f"❌ {what} : {detail if self.reveal else quiet}")

    def check(self, condition, what: str, hint: str) -> None:
        """Vérifie ``condition`` (un vrai booléen) ; sinon échoue avec l'indice ``hint``."""
        value = _as_bool(condition)
        if value is None:
            raise AssertionError(f"❌ {what} : la vérification attend un booléen, reçu {type(condition).__name__}.")
        if not value:
            raise AssertionError(f"❌ {what} : {hint}")
        self.ok(what)

    def check_type(self, value, expected_type, what: str) -> None:
        """Vérifie le type de ``value``."""
        if not isinstance(value, expected_type):
            names = (" ou ".join(t.__name__ for t in expected_type) if isinstance(expected_type, tuple)
                     else expected_type.__name__)
            raise AssertionError(f"❌ {what} : on attend un objet de type {names}, reçu {type(value).__name__}.")
        self.ok(what)

    def check_equal(self, actual, expected, what: str) -> None:
        """Vérifie ``actual == expected``."""
        if _defined_in_notebook(actual) and type(actual) is not type(expected):
            raise AssertionError(f"❌ {what} : on attend un objet de type {type(expected).__name__}, "
                                 f"reçu {type(actual).__name__} (une classe définie dans le notebook).")
        if not (expected == actual and actual == expected):
            self.fail(what, f"on attend {expected!r}, reçu {actual!r}.", f"reçu {actual!r:.80}, ce n'est pas le résultat attendu.")
        self.ok(what)

    def check_close(self, actual, expected, what: str, *, tolerance: float = 1e-6) -> None:
        """Vérifie ``|actual - expected| <= tolerance`` ; nombres, listes ou tableaux (élément par élément)."""
        import numpy as np

        if _defined_in_notebook(actual):
            raise AssertionError(f"❌ {what} : on attend des nombres, reçu un objet {type(actual).__name__} défini dans le notebook.")
        try:
            got, want = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
        except (TypeError, ValueError):
            raise AssertionError(f"❌ {what} : on attend des nombres, reçu {actual!r:.80}.") from None
        if got.ndim == 0 and want.ndim == 0:
            if not math.isclose(float(got), float(want), rel_tol=0, abs_tol=tolerance):
                self.fail(what, f"on attend {float(want):.4g} (à {tolerance:g} près), reçu {float(got):.4g}.",
                          f"reçu {float(got):.4g}, trop loin du résultat attendu.")
            self.ok(what)
            return
        if got.shape != want.shape:
            raise AssertionError(f"❌ {what} : on attend la forme {want.shape}, reçu {got.shape}.")
        gap = np.abs(got - want)
        if not np.all(gap <= tolerance):  # NaN compris
            worst = int(np.nanargmax(gap)) if np.isfinite(gap).any() else 0
            position = np.unravel_index(worst, gap.shape)
            self.fail(what, f"écart de {gap.flat[worst]:.4g} à la position {position} (on attend {want.flat[worst]:.4g}, "
                            f"reçu {got.flat[worst]:.4g} ; tolérance {tolerance:g}).",
                      f"valeur incorrecte à la position {position} (reçu {got.flat[worst]:.4g}).")
        self.ok(what)

    def check_at_least(self, actual, minimum, what: str) -> None:
        """Vérifie ``actual >= minimum``."""
        value = self._number(actual, what)
        if not value >= minimum:
            self.fail(what, f"on attend au moins {minimum:.4g}, reçu {value:.4g}.", f"reçu {value:.4g}, trop bas.")
        self.ok(what)

    def check_at_most(self, actual, maximum, what: str) -> None:
        """Vérifie ``actual <= maximum``."""
        value = self._number(actual, what)
        if not value <= maximum:
            self.fail(what, f"on attend au plus {maximum:.4g}, reçu {value:.4g}.", f"reçu {value:.4g}, trop haut.")
        self.ok(what)

    @staticmethod
    def _number(actual, what: str) -> float:
        if _defined_in_notebook(actual):
            raise AssertionError(f"❌ {what} : on attend un nombre, reçu un objet {type(actual).__name__} défini dans le notebook.")
        try:
            return float(actual)
        except (TypeError, ValueError):
            raise AssertionError(f"❌ {what} : on attend un nombre, reçu {actual!r:.80}.") from None


_VISIBLE = _Checks(reveal=True)


def check(condition, what: str, hint: str) -> None:
    """Vérifie ``condition`` (un vrai booléen) ; sinon échoue avec l'indice ``hint``.

    >>> check(1 < 2, "l'ordre", "1 doit être plus petit que 2")
    ✅ l'ordre : correct.
    """
    _VISIBLE.check(condition, what, hint)


def check_type(value, expected_type, what: str) -> None:
    """Vérifie le type de ``value``."""
    _VISIBLE.check_type(value, expected_type, what)


def check_equal(actual, expected, what: str) -> None:
    """Vérifie ``actual == expected`` (dans les deux sens, et sans objet truqué du notebook)."""
    _VISIBLE.check_equal(actual, expected, what)


def check_close(actual, expected, what: str, *, tolerance: float = 1e-6) -> None:
    """Vérifie ``|actual - expected| <= tolerance`` ; nombres, listes ou tableaux (élément par élément).

    >>> check_close([0.5, 1.0], [0.5, 1.0 + 1e-9], "les rappels")
    ✅ les rappels : correct.
    """
    _VISIBLE.check_close(actual, expected, what, tolerance=tolerance)


def check_at_least(actual, minimum, what: str) -> None:
    """Vérifie ``actual >= minimum``."""
    _VISIBLE.check_at_least(actual, minimum, what)


def check_at_most(actual, maximum, what: str) -> None:
    """Vérifie ``actual <= maximum``."""
    _VISIBLE.check_at_most(actual, maximum, what)
