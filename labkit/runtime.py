"""Démarrage d'un notebook : graines, matériel, fils d'exécution, mode rapide.

Chaque notebook du cours commence par ``ctx = labkit.init(...)`` (introduit dans
le notebook 01). Le mode rapide (*smoke*) réduit les données et les époques pour
que le notebook s'exécute en quelques secondes : il sert aux tests et à la
correction automatique. Il s'active par le paramètre papermill ``SMOKE`` ou par
la variable d'environnement ``LABKIT_SMOKE=1``.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from dataclasses import dataclass

import numpy as np

from ._validation import LabkitError, check_choice, check_int

_TRUE_WORDS = {"1", "true", "vrai", "oui", "yes", "on"}
FRAMEWORKS = ("torch", "tensorflow", None)


def env_flag(name: str) -> bool:
    """Lit une variable d'environnement booléenne (``1``, ``true``, ``oui``...)."""
    return os.environ.get(name, "").strip().lower() in _TRUE_WORDS


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
        """Renvoie ``smoke`` en mode rapide, ``full`` sinon."""
        return smoke if self.smoke else full

    def __str__(self) -> str:
        mode = "rapide (smoke)" if self.smoke else "complet"
        where = "Colab" if self.colab else "local"
        return (
            f"labkit : graine {self.seed} · mode {mode} · {self.device.upper()}, "
            f"{self.threads} fil(s) · {where} · cadre : {self.framework or 'aucun'}"
        )


def seed_everything(seed: int) -> None:
    """Fixe les graines de Python, NumPy et des cadres déjà importés."""
    seed = check_int("seed", seed, minimum=0)
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

        return "cuda" if torch.cuda.is_available() else "cpu"
    if framework == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    return "cpu"


def init(
    seed: int = 0,
    *,
    smoke: bool = False,
    framework: str | None = "torch",
    threads: int | None = None,
    verbose: bool = True,
) -> RunContext:
    """Prépare un notebook et renvoie un :class:`RunContext`.

    - fixe les graines (Python, NumPy et le cadre choisi) ;
    - détecte Colab et le matériel (CPU ou GPU) ;
    - fixe le nombre de fils d'exécution (1 par défaut sur CPU : les mesures
      restent stables sur une machine partagée) ;
    - fait taire les journaux C++ de TensorFlow avant son import ;
    - active le mode rapide si ``smoke`` est vrai ou si ``LABKIT_SMOKE=1``.

    ``framework`` vaut ``"torch"``, ``"tensorflow"`` ou ``None`` (NumPy seul).

    >>> ctx = init(seed=1, framework=None, verbose=False)
    >>> ctx.seed, ctx.device
    (1, 'cpu')
    """
    seed = check_int("seed", seed, minimum=0)
    framework = check_choice("framework", framework, FRAMEWORKS)
    if not isinstance(smoke, (bool, np.bool_)):
        raise LabkitError(f"`smoke` doit être True ou False, reçu {smoke!r}.")
    smoke = bool(smoke) or env_flag("LABKIT_SMOKE")
    if threads is None:
        threads = int(os.environ.get("LABKIT_THREADS", "1"))
    threads = check_int("threads", threads, minimum=1, maximum=os.cpu_count() or 1)

    # Avant tout import de TensorFlow : sinon ses journaux C++ polluent les sorties.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Nécessaire pour des calculs déterministes sur GPU avec cuBLAS.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    if framework is not None and importlib.util.find_spec(framework) is None:
        extra = "torch" if framework == "torch" else "tf"
        raise LabkitError(
            f"`framework={framework!r}` : le paquet {framework} n'est pas installé. "
            f"Installez-le avec : pip install \"ameliorer-dl[{extra}]\"."
        )
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
    elif framework == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # déjà initialisé : TensorFlow refuse de changer après coup
    seed_everything(seed)

    ctx = RunContext(
        seed=seed,
        smoke=smoke,
        device=_framework_device(framework),
        threads=threads,
        colab=on_colab(),
        framework=framework,
    )
    if verbose:
        print(ctx)
    return ctx
