"""labkit : la boîte à outils du cours « Améliorer les modèles de Deep Learning ».

``import labkit`` n'importe ni PyTorch ni TensorFlow : les outils propres à un
cadre vivent dans ``labkit.torch`` (et, plus tard, ``labkit.keras``) et ne sont
chargés qu'à la demande.

>>> import labkit
>>> ctx = labkit.init(seed=0, framework=None, verbose=False)
>>> ctx.smoke in (True, False)
True
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import LabkitError
from .runtime import RunContext, init, seed_everything

try:
    __version__ = version("ameliorer-dl")
except PackageNotFoundError:  # pragma: no cover - code lu sans installation
    __version__ = "0+inconnu"

__all__ = ["LabkitError", "RunContext", "init", "seed_everything", "__version__"]
