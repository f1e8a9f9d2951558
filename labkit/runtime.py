"""Démarrage d'un notebook : graine, matériel, fils d'exécution, mode rapide (notebook 01).

Chaque notebook commence par ``ctx = labkit.init(...)``. Trois règles, écrites ici une fois :

- **Graine.** ``labkit.init(seed=...)`` fixe une fois les graines de Python, NumPy et du
  cadre. Un outil de labkit qui tire au hasard (entraînement, augmentation) ne refixe
  aucune graine tant qu'on ne lui passe pas ``seed=`` : il tire dans l'état courant, que
  la graine du notebook a fixé. Pour comparer deux expériences à égalité, on refixe
  explicitement la graine avant chacune : ``labkit.seed_everything(ctx.seed)``. Les
  générateurs de données prennent aussi une graine, qui est *l'identité du jeu*
  (« le jeu de la graine 1 ») et ne dépend pas de celle du notebook.
- **Matériel.** Un seul vocabulaire, le même pour PyTorch et Keras : ``"cpu"`` ou
  ``"gpu"``. ``ctx.device`` vaut ``"gpu"`` quand le cadre voit un GPU ; les outils de
  labkit qui entraînent ou évaluent l'utilisent par défaut (``device=None``).
- **Mode rapide.** Un seul nom : *smoke*. Le paramètre ``SMOKE`` du notebook (papermill),
  la variable d'environnement ``LABKIT_SMOKE=1`` (la correction), l'option ``--smoke``
  des commandes et des bancs d'essai. Dans le notebook, on dimensionne une expérience
  par ``ctx.pick(full=..., smoke=...)``.

- **Fils d'exécution.** PyTorch *entraîne* sur ``TRAINING_THREADS`` fils (2 : les deux
  cœurs de Colab et de la machine de référence du cours ; un CNN du cours s'entraîne
  1,87 fois plus vite qu'avec un fil : 3 époques de largeur 16 sur 2 000 images, 18,2 s contre
  9,7 s, mesuré le même jour), et l'on *mesure* une latence sur un seul : les
  fonctions de :mod:`labkit.optimize.measure` fixent leur nombre de fils pendant la
  mesure, puis rendent au cadre celui qu'il avait. Deux fils plutôt que « tous les
  cœurs » : le résultat d'un entraînement dépend du nombre de fils (l'ordre des sommes
  change), et le cours doit donner les mêmes chiffres sur toutes les machines qui ont au
  moins deux cœurs. TensorFlow garde un fil : sur les petits réseaux du notebook 03, le
  deuxième le ralentit (30 époques du réseau du notebook 03 sur 700 images : 6,1 s sur un
  fil, 7,0 s sur deux, mesuré le 2 décembre 2026).

Variables d'environnement lues par labkit : ``LABKIT_SMOKE`` (mode rapide),
``LABKIT_THREADS`` (fils d'entraînement, 2 par défaut avec PyTorch ; la suite de tests et la
correction en mettent 1, parce qu'elles lancent plusieurs notebooks à la fois), ``LABKIT_CACHE_DIR`` (entraînements gardés par
``fit_cached``), ``LABKIT_FIGURES_DIR`` (où ``save_figure`` et ``save_table`` écrivent les
figures du site).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import sys
from dataclasses import dataclass

import numpy as np

from .errors import LabkitError
from .validation import validate_bool, validate_choice, validate_int

_TRUE_WORDS = {"1", "true", "vrai", "oui", "yes", "on"}
_FALSE_WORDS = {"", "0", "false", "faux", "non", "no", "off"}
FRAMEWORKS = ("torch", "keras", None)
DEVICES = ("cpu", "gpu")

logger = logging.getLogger(__name__)

_current: RunContext | None = None


def env_flag(name: str) -> bool:
    """Lit une variable d'environnement booléenne (``1``, ``true``, ``oui``… ou ``0``, ``non``, vide).

    >>> env_flag("LABKIT_VARIABLE_ABSENTE")
    False
    """
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    raise LabkitError(f"La variable d'environnement {name} doit valoir 1 ou 0 (oui/non), reçu {value!r}.")


#: Fils d'entraînement par défaut (voir les règles du module) ; moins si la machine a moins de cœurs.
TRAINING_THREADS = 2


def available_cores() -> int:
    """Les cœurs que ce processus a le droit d'utiliser (ceux d'un conteneur limité, pas ceux de la machine)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def env_threads(framework: str | None = "torch") -> int:
    """Le nombre de fils d'entraînement : ``LABKIT_THREADS`` s'il est donné, sinon ``TRAINING_THREADS`` pour
    PyTorch (ou moins, sur une machine qui a moins de cœurs) et 1 pour TensorFlow, vérifié."""
    default = str(min(TRAINING_THREADS, available_cores()) if framework == "torch" else 1)
    value = os.environ.get("LABKIT_THREADS", default).strip()
    if not value.isdigit() or int(value) < 1:
        raise LabkitError(f"La variable d'environnement LABKIT_THREADS doit être un entier ≥ 1, reçu {value!r}.")
    return int(value)


def on_colab() -> bool:
    """Vrai quand le code tourne dans Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


@dataclass(frozen=True)
class RunContext:
    """Ce que ``init`` a décidé ; à consulter dans le notebook.

    >>> ctx = RunContext(seed=0, smoke=True, device="cpu", threads=1, colab=False, framework=None)
    >>> ctx.pick(full=50, smoke=3)
    3
    """

    seed: int
    smoke: bool
    device: str
    threads: int
    colab: bool
    framework: str | None

    def pick(self, *, full, smoke):
        """Renvoie ``smoke`` en mode rapide, ``full`` sinon : la seule façon de dimensionner une expérience."""
        return smoke if self.smoke else full

    def __str__(self) -> str:
        mode = "rapide (smoke)" if self.smoke else "complet"
        where = "Colab" if self.colab else "local"
        return (
            f"labkit : graine {self.seed} · mode {mode} · {self.device.upper()}, "
            f"{self.threads} fil(s) · {where} · cadre : {self.framework or 'aucun'}"
        )


def current_context() -> RunContext | None:
    """Le contexte du dernier ``labkit.init`` (``None`` avant le premier)."""
    return _current


def resolve_device(device=None) -> str:
    """``"cpu"`` ou ``"gpu"`` : ``device`` s'il est donné, sinon celui de ``labkit.init`` (CPU avant).

    Accepte aussi les noms de PyTorch (``"cuda"``, ``"cuda:0"``, ``torch.device``).

    >>> resolve_device("cpu"), resolve_device("cuda:0")
    ('cpu', 'gpu')
    """
    if device is None:
        return _current.device if _current is not None else "cpu"
    name = str(getattr(device, "type", device)).lower()
    if name == "cuda" or name.startswith("cuda:"):
        return "gpu"
    return validate_choice("device", name, DEVICES)


def seed_everything(seed: int) -> None:
    """Fixe les graines de Python, NumPy et des cadres déjà importés (PyTorch, TensorFlow, Keras)."""
    seed = validate_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


def _framework_device(framework: str | None) -> str:
    if framework == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    if framework == "keras":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    return "cpu"


def _set_threads(framework: str | None, threads: int) -> None:
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        # Noyaux déterministes quand ils existent ; un avertissement (pas une erreur) sinon, sur GPU.
        torch.use_deterministic_algorithms(True, warn_only=True)
    elif framework == "keras":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow déjà initialisé : il refuse de changer après coup
            logger.info("TensorFlow est déjà initialisé : son nombre de fils reste celui du premier réglage.")


def init(
    seed: int = 0,
    *,
    smoke: bool = False,
    framework: str | None = "torch",
    threads: int | None = None,
    verbose: bool = True,
) -> RunContext:
    """Prépare un notebook et renvoie un :class:`RunContext` (voir les règles du module).

    - fixe les graines (Python, NumPy et le cadre choisi) ;
    - détecte Colab et le matériel (``"cpu"`` ou ``"gpu"``) ;
    - fixe le nombre de fils d'entraînement (``threads``, sinon ``LABKIT_THREADS``, sinon 2
      pour PyTorch et 1 pour Keras ; les mesures de latence, elles, se font sur un fil) ;
    - fait taire les journaux C++ de TensorFlow avant son import ;
    - active le mode rapide si ``smoke`` est vrai ou si ``LABKIT_SMOKE=1``.

    ``framework`` vaut ``"torch"``, ``"keras"`` ou ``None`` (NumPy seul).

    >>> ctx = init(seed=1, framework=None, verbose=False)
    >>> ctx.seed, ctx.device
    (1, 'cpu')
    """
    global _current
    seed = validate_int("seed", seed, minimum=0)
    framework = validate_choice("framework", framework, FRAMEWORKS)
    smoke = validate_bool("smoke", smoke) or env_flag("LABKIT_SMOKE")
    threads = env_threads(framework) if threads is None else threads
    threads = validate_int("threads", threads, minimum=1, maximum=os.cpu_count() or 1)
    verbose = validate_bool("verbose", verbose)

    # Avant tout import de TensorFlow : sinon ses journaux C++ polluent les sorties.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Nécessaire pour des calculs déterministes sur GPU avec cuBLAS.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    module = {"torch": "torch", "keras": "keras"}.get(framework)
    if module is not None and importlib.util.find_spec(module) is None:
        extra = "torch" if framework == "torch" else "tf"
        raise LabkitError(
            f"`framework={framework!r}` : le paquet {module} n'est pas installé. "
            f"Installez-le avec : pip install \"ameliorer-dl[{extra}]\"."
        )
    _set_threads(framework, threads)
    seed_everything(seed)

    _current = RunContext(
        seed=seed,
        smoke=smoke,
        device=_framework_device(framework),
        threads=threads,
        colab=on_colab(),
        framework=framework,
    )
    if verbose:
        print(_current)
    return _current
