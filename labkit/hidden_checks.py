"""Les vérifications des tests cachés : celles de :mod:`labkit.checks`, sans révéler la valeur attendue.

Chaque bloc de tests cachés commence par ``from labkit.hidden_checks import *`` : les
vérifications sont reliées à nouveau, même si une cellule avait réussi à les redéfinir,
et le retour envoyé à l'étudiant dit *ce qui* est faux sans donner la réponse.

>>> check_equal(3, 4, "un test caché")
Traceback (most recent call last):
...
AssertionError: ❌ un test caché : reçu 3, ce n'est pas le résultat attendu.
"""

from __future__ import annotations

from .checks import _Checks

__all__ = ["check", "check_type", "check_equal", "check_close", "check_at_least", "check_at_most"]

_HIDDEN = _Checks(reveal=False)

check = _HIDDEN.check
check_type = _HIDDEN.check_type
check_equal = _HIDDEN.check_equal
check_close = _HIDDEN.check_close
check_at_least = _HIDDEN.check_at_least
check_at_most = _HIDDEN.check_at_most


_MESSAGE = "❌ la réponse appelle la fonction de référence du cours au lieu de l'écrire."


def _trap_code(n_free: int):
    """Le code d'un piège qui a ``n_free`` variables libres, comme la fonction qu'il remplace (décorateurs).

    Il s'exécute avec les variables globales de la fonction piégée : il n'y utilise que des noms de Python.
    """
    names = [f"_free{i}" for i in range(n_free)]
    body = "".join(f"    {name} = None\n" for name in names)
    touch = f"        {', '.join(names)}\n" if names else ""
    source = f"def _outer():\n{body}    def _trap(*args, **kwargs):\n{touch}        raise AssertionError({_MESSAGE!r})\n    return _trap\n"
    namespace: dict = {}
    exec(source, namespace)  # un code fixe, écrit ci-dessus
    return namespace["_outer"]().__code__


class forbid:
    """Pendant le bloc, appeler l'une de ``functions`` (références du cours) fait échouer le test.

    Le code de chaque fonction est remplacé le temps du bloc : tous les noms qui la
    désignent (import direct, alias) sont piégés. Les tests cachés s'en servent quand
    l'exercice demande d'écrire ce que labkit fournit déjà.

    >>> from labkit.validation import validate_int
    >>> with forbid(validate_int):
    ...     validate_int("n", 3)
    Traceback (most recent call last):
    ...
    AssertionError: ❌ la réponse appelle la fonction de référence du cours au lieu de l'écrire.
    >>> validate_int("n", 3)
    3
    """

    def __init__(self, *functions):
        self.functions = [getattr(f, "__func__", f) for f in functions]

    def __enter__(self):
        self.saved = [(f, f.__code__) for f in self.functions]
        for function, code in self.saved:
            function.__code__ = _trap_code(len(code.co_freevars))
        return self

    def __exit__(self, *exc):
        for function, code in self.saved:
            function.__code__ = code
        return False


__all__.append("forbid")
