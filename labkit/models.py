"""Le registre des architectures que labkit construit : un nom → une fonction de construction (notebook 09).

Ajouter une architecture, c'est décorer la fonction qui la construit ; rien d'autre à
modifier, ni liste à tenir à jour, ni ``if``/``elif`` sur des noms :

.. code-block:: python

    @register("cnn")                       # labkit.torch : l'architecture « cnn » de PyTorch
    def make_cnn(*, width=16, depth=3, ...):
        ...

    model = build_model("cnn", width=8)    # depuis une configuration : build_model(spec.name, **spec.options)

Chaque cadre (``"torch"``, ``"keras"``) a ses noms ; ``build_model`` importe à la demande
le module de labkit qui les enregistre (:mod:`labkit.torch`, :mod:`labkit.keras`), si
bien que ``import labkit.models`` n'importe aucun cadre. Un nom inconnu lève une
:class:`~labkit.errors.ConfigError` qui liste les noms connus ; une option inconnue, une
:class:`~labkit.errors.ConfigError` qui liste les options acceptées. Le notebook 09 fait
écrire à l'étudiant un registre du même modèle.

>>> sorted(available_models())
['cnn', 'mlp']
>>> build_model("mlp", hidden=8)[1]
Linear(in_features=64, out_features=8, bias=True)
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import re
from collections.abc import Callable

from .errors import ConfigError, ModelError
from .validation import validate_choice

__all__ = ["FRAMEWORKS", "available_models", "build_model", "register"]

logger = logging.getLogger(__name__)

#: Les cadres et le module de labkit qui enregistre leurs architectures.
FRAMEWORKS = {"torch": "labkit.torch", "keras": "labkit.keras"}
_PACKAGES = {"torch": "torch", "keras": "keras"}
_NAME = re.compile(r"[a-z][a-z0-9_-]*")

_REGISTRY: dict[str, dict[str, Callable]] = {framework: {} for framework in FRAMEWORKS}


def register(name: str, *, framework: str = "torch"):
    """Décorateur : enregistre la fonction (ou la classe) qui construit l'architecture ``name``.

    La fonction décorée est rendue telle quelle : on peut toujours l'appeler directement.
    Un nom déjà pris par une autre fonction lève une :class:`~labkit.errors.ModelError`
    (deux architectures sous le même nom, c'est une configuration ambiguë).
    """
    framework = validate_choice("framework", framework, FRAMEWORKS)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"`name` doit être un nom d'architecture en minuscules (lettres, chiffres, « _ », « - »), reçu {name!r}."
        )

    def decorator(builder):
        if not callable(builder):
            raise ModelError(f"@register({name!r}) décore une fonction ou une classe, reçu {type(builder).__name__}.")
        known = _REGISTRY[framework].get(name)
        if known is not None and _qualified(known) != _qualified(builder):
            raise ModelError(
                f"L'architecture « {name} » ({framework}) est déjà enregistrée par {_qualified(known)} ; "
                f"choisissez un autre nom pour {_qualified(builder)}."
            )
        _REGISTRY[framework][name] = builder
        logger.debug("Architecture « %s » (%s) enregistrée : %s", name, framework, _qualified(builder))
        return builder

    return decorator


def _qualified(builder) -> str:
    return f"{getattr(builder, '__module__', '?')}.{getattr(builder, '__qualname__', repr(builder))}"


def _load(framework: str) -> None:
    """Importe le module de labkit qui enregistre les architectures du cadre (s'il est installé)."""
    if importlib.util.find_spec(_PACKAGES[framework]) is None:
        raise ConfigError(
            f"`framework={framework!r}` : le paquet {_PACKAGES[framework]} n'est pas installé ; "
            f"installez-le avec : pip install \"ameliorer-dl[{'torch' if framework == 'torch' else 'tf'}]\"."
        )
    importlib.import_module(FRAMEWORKS[framework])


def available_models(framework: str = "torch") -> tuple[str, ...]:
    """Les noms d'architecture connus pour ``framework``, dans l'ordre alphabétique."""
    framework = validate_choice("framework", framework, FRAMEWORKS)
    _load(framework)
    return tuple(sorted(_REGISTRY[framework]))


def build_model(name: str, *, framework: str = "torch", **options):
    """Construit l'architecture ``name`` avec ``options`` (les arguments de sa fonction de construction).

    >>> build_model("resnet")
    Traceback (most recent call last):
    ...
    labkit.errors.ConfigError: `name` : architecture inconnue 'resnet' (torch) ; architectures connues : 'cnn', 'mlp'.
    """
    known = available_models(framework)
    if name not in known:
        listed = ", ".join(repr(n) for n in known)
        raise ConfigError(f"`name` : architecture inconnue {name!r} ({framework}) ; architectures connues : {listed}.")
    builder = _REGISTRY[framework][name]
    accepted = _options(builder)
    unknown = sorted(set(options) - set(accepted)) if accepted is not None else []
    if unknown:
        raise ConfigError(
            f"Option(s) inconnue(s) pour l'architecture « {name} » : {', '.join(unknown)} ; "
            f"options acceptées : {', '.join(accepted) or 'aucune'}."
        )
    return builder(**options)


def _options(builder) -> list[str] | None:
    """Les noms des arguments nommés de ``builder`` ; ``None`` s'il accepte ``**kwargs``."""
    parameters = inspect.signature(builder).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
