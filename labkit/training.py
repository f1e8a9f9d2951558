"""Entraîner sans perdre son travail : points de reprise, mémoire, lots adaptatifs (notebook 04).

Trois outils PyTorch, pour les entraînements longs ou serrés en mémoire :

- **Points de reprise** : :func:`save_checkpoint` range tout ce qui détermine la suite d'un
  entraînement (poids, état de l'optimiseur et du planning du pas, générateurs aléatoires,
  pas atteint) ; :func:`load_checkpoint` le remet en place ; :func:`train_resumable` en
  écrit un tous les ``every`` pas et, relancée après une interruption, reprend au dernier
  et redonne **la même courbe de perte** que sans interruption. L'ordre des exemples de
  chaque époque vient de :func:`epoch_order` (graine et numéro d'époque) : rien à sauver
  pour le retrouver.
- **Mémoire d'un pas** : :func:`checkpointing_tradeoff` compte ce que PyTorch garde pour
  la rétropropagation (par :class:`memory_budget`) et chronomètre le pas, avec ou sans
  *gradient checkpointing* ; :func:`mlp_step` prépare le pas d'un perceptron profond.
- **Lot adaptatif** : :func:`train_adaptive_batch` divise la taille du lot par deux à
  chaque manque de mémoire (``torch.OutOfMemoryError``) et continue avec les mêmes
  exemples ; :class:`memory_budget` simule une mémoire limitée sur CPU.

Usage : ``from labkit import training`` (ce module importe PyTorch).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import DataError, LabkitError, TrainingError
from .torch import _check_arrays, _check_model
from .validation import validate_int

__all__ = [
    "epoch_order",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "train_resumable",
    "memory_budget",
    "train_adaptive_batch",
    "mlp_step",
    "checkpointing_tradeoff",
]


# =========================================================================== points de reprise


def epoch_order(n: int, epoch: int, seed: int = 0) -> torch.Tensor:
    """L'ordre des ``n`` exemples à l'époque ``epoch`` : une permutation tirée de ``(seed, epoch)`` seulement.

    Reprendre un entraînement au milieu d'une époque redonne donc le même ordre, sans
    avoir à sauver l'état d'un ``DataLoader``.

    >>> epoch_order(5, 0, seed=1).tolist() == epoch_order(5, 0, seed=1).tolist()
    True
    >>> sorted(epoch_order(5, 3).tolist())
    [0, 1, 2, 3, 4]
    """
    n = validate_int("n", n, minimum=1)
    epoch = validate_int("epoch", epoch, minimum=0)
    seed = validate_int("seed", seed, minimum=0)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def _random_states() -> dict:
    states = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_random_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _training_data(x, y):
    """(x, y) validés et convertis par la règle de :mod:`labkit.torch`, au moins un exemple."""
    x, y = _check_arrays(x, y, "x", "y")
    if len(x) == 0:
        raise DataError("`x` et `y` doivent contenir au moins un exemple.")
    return x, y


def _check_training_objects(model, optimizer, scheduler) -> None:
    _check_model(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise LabkitError(f"`optimizer` doit être un torch.optim.Optimizer, reçu {type(optimizer).__name__}.")
    if scheduler is not None and not hasattr(scheduler, "state_dict"):
        raise LabkitError(f"`scheduler` doit être un planning de torch.optim.lr_scheduler ou None, reçu {type(scheduler).__name__}.")


def save_checkpoint(path, *, model, optimizer, step: int, scheduler=None, **extra) -> Path:
    """Écrit un point de reprise dans ``path`` et renvoie son chemin.

    Le fichier contient ``step`` (le nombre de pas **déjà faits**), les ``state_dict`` du
    modèle, de l'optimiseur (les moments d'Adam, l'inertie de SGD) et du planning du pas,
    l'état des générateurs aléatoires (PyTorch, NumPy, Python et CUDA s'il y en a un : le
    dropout de la suite en dépend), et ``extra`` (par exemple l'historique des pertes).
    L'écriture passe par un fichier temporaire renommé : une interruption pendant
    l'écriture ne laisse jamais un point de reprise à moitié écrit.

    >>> import tempfile
    >>> model = nn.Linear(2, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> folder = tempfile.mkdtemp()
    >>> save_checkpoint(f"{folder}/pas_3.pt", model=model, optimizer=optimizer, step=3).name
    'pas_3.pt'
    >>> load_checkpoint(f"{folder}/pas_3.pt", model=model, optimizer=optimizer)["step"]
    3
    """
    _check_training_objects(model, optimizer, scheduler)
    step = validate_int("step", step, minimum=0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": _random_states(),
        "extra": extra,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(path, *, model, optimizer, scheduler=None) -> dict:
    """Remet en place le point de reprise ``path`` ; renvoie ``{"step": ..., **extra}``.

    Le modèle, l'optimiseur et le planning doivent être construits comme à la sauvegarde
    (mêmes couches, mêmes groupes de paramètres) : leurs états sont chargés **sur place**,
    puis les générateurs aléatoires sont rétablis.
    """
    _check_training_objects(model, optimizer, scheduler)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Point de reprise introuvable : {path}.")
    saved = torch.load(path, weights_only=False, map_location=next(model.parameters()).device)
    missing = {"step", "model", "optimizer", "rng"} - set(saved)
    if missing:
        raise DataError(f"{path} n'est pas un point de reprise de labkit : clés absentes {sorted(missing)}.")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None:
        if saved.get("scheduler") is None:
            raise DataError(f"{path} a été écrit sans planning du pas : reprenez sans `scheduler`.")
        scheduler.load_state_dict(saved["scheduler"])
    _set_random_states(saved["rng"])
    return {"step": saved["step"], **saved.get("extra", {})}


def latest_checkpoint(folder) -> Path | None:
    """Le point de reprise le plus avancé de ``folder`` (fichiers ``pas_000040.pt``), ou ``None``."""
    found = sorted(Path(folder).glob("pas_*.pt")) if Path(folder).is_dir() else []
    return found[-1] if found else None


def train_resumable(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x,
    y,
    *,
    steps: int,
    batch_size: int,
    checkpoint_dir,
    every: int,
    scheduler=None,
    seed: int = 0,
    stop_after: int | None = None,
    keep: int = 2,
):
    """Entraîne ``steps`` pas en écrivant un point de reprise tous les ``every`` pas ; reprend au dernier s'il existe.

    - les lots suivent :func:`epoch_order` : l'époque ``e`` a toujours le même ordre ;
    - tous les ``every`` pas, ``checkpoint_dir/pas_<n>.pt`` reçoit :func:`save_checkpoint`
      avec l'historique des pertes ; seuls les ``keep`` derniers sont gardés ;
    - si ``checkpoint_dir`` contient déjà un point de reprise, l'entraînement **reprend**
      au dernier (pas, poids, optimiseur, planning, générateurs aléatoires) ;
    - ``stop_after`` simule une interruption : l'appel s'arrête après ce nombre de pas
      (comptés depuis le début de l'entraînement), en perdant ceux qui suivent le dernier point de reprise.

    Renvoie un ``DataFrame`` indexé par le pas : ``loss``, ``lr`` et ``repris`` (vrai
    pour les pas calculés après une reprise). Une reprise donne exactement les pertes
    qu'aurait données l'entraînement sans interruption (mêmes calculs, dans le même ordre).
    """
    import pandas as pd

    _check_training_objects(model, optimizer, scheduler)
    x, y = _training_data(x, y)
    steps = validate_int("steps", steps, minimum=1)
    batch_size = validate_int("batch_size", batch_size, minimum=1, maximum=len(x))
    every = validate_int("every", every, minimum=1)
    seed = validate_int("seed", seed, minimum=0)
    keep = validate_int("keep", keep, minimum=1)
    stop_after = None if stop_after is None else validate_int("stop_after", stop_after, minimum=1)
    folder = Path(checkpoint_dir)
    start, losses, lrs, resumed_from = 0, [], [], None
    last = latest_checkpoint(folder)
    if last is not None:
        state = load_checkpoint(last, model=model, optimizer=optimizer, scheduler=scheduler)
        start, losses, lrs, resumed_from = state["step"], list(state["losses"]), list(state["lrs"]), state["step"]
    per_epoch = -(-len(x) // batch_size)
    where = next(model.parameters()).device
    model.train()
    for step in range(start, steps):
        if stop_after is not None and step >= stop_after:
            break
        epoch, position = divmod(step, per_epoch)
        idx = epoch_order(len(x), epoch, seed)[position * batch_size : (position + 1) * batch_size]
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = nn.functional.cross_entropy(model(x[idx].to(where)), y[idx].to(where))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
        if (step + 1) % every == 0:
            save_checkpoint(folder / f"pas_{step + 1:06d}.pt", model=model, optimizer=optimizer, scheduler=scheduler,
                            step=step + 1, losses=losses, lrs=lrs)
            for old in sorted(folder.glob("pas_*.pt"))[:-keep]:
                old.unlink()
    model.eval()
    frame = pd.DataFrame({"loss": losses, "lr": lrs})
    frame["repris"] = resumed_from is not None and frame.index >= resumed_from
    frame.index.name = "pas"
    return frame


# =========================================================================== mémoire : budget simulé, lot adaptatif


class memory_budget:
    """Simule une mémoire de ``max_bytes`` octets : dépassée, elle lève ``torch.OutOfMemoryError``.

    Pendant le bloc, chaque tenseur que PyTorch **garde pour la rétropropagation**
    (activations, entrées des couches) est compté, une fois par zone mémoire ; quand le
    total dépasse ``max_bytes``, la propagation s'arrête sur la même erreur qu'un GPU
    plein (``torch.OutOfMemoryError``, alias de ``torch.cuda.OutOfMemoryError``). C'est
    cette mémoire-là qui grandit avec la taille du lot. ``peak`` donne le total atteint.

    >>> layer = nn.Linear(100, 100)
    >>> with memory_budget(10_000) as budget:
    ...     _ = layer(torch.randn(4, 100)).relu().sum()
    >>> budget.peak > 0
    True
    >>> with memory_budget(10_000):
    ...     _ = layer(torch.randn(512, 100)).relu().sum()
    Traceback (most recent call last):
    ...
    torch.OutOfMemoryError: mémoire simulée épuisée : ...
    """

    def __init__(self, max_bytes: int | None):
        self.max_bytes = None if max_bytes is None else validate_int("max_bytes", max_bytes, minimum=1)
        self.used, self.peak, self._seen = 0, 0, set()

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), storage.device.type)
        if key not in self._seen:
            self._seen.add(key)
            self.used += storage.nbytes()
            self.peak = max(self.peak, self.used)
            if self.max_bytes is not None and self.used > self.max_bytes:
                raise torch.OutOfMemoryError(
                    f"mémoire simulée épuisée : {self.used / 2**20:.1f} Mo gardés pour la rétropropagation, "
                    f"budget {self.max_bytes / 2**20:.1f} Mo."
                )
        return tensor

    def __enter__(self):
        self.used, self._seen = 0, set()
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)
        self._seen = set()
        return False


def train_adaptive_batch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x,
    y,
    *,
    batch_size: int,
    epochs: int = 1,
    min_batch_size: int = 1,
    memory_limit: int | None = None,
    seed: int = 0,
):
    """Entraîne en divisant la taille du lot par deux à chaque manque de mémoire, sans perdre d'exemple.

    Chaque époque parcourt les exemples dans l'ordre de :func:`epoch_order`. Quand un pas
    lève ``torch.OutOfMemoryError`` (un vrai GPU plein, ou ``memory_limit`` octets
    simulés par :class:`memory_budget`), ses gradients sont effacés, la taille du lot est
    divisée par deux et **les mêmes exemples** sont repris avec des lots plus petits ;
    la nouvelle taille vaut pour la suite. En dessous de ``min_batch_size``, une
    :class:`~labkit.errors.TrainingError` dit que le modèle ne tient pas en mémoire.

    Renvoie ``(journal, événements)`` : un ``DataFrame`` d'une ligne par pas réussi
    (``epoch``, ``batch_size``, ``loss``, ``seen``) et la liste des manques de mémoire
    rencontrés (``{"pas", "batch_size", "message"}``).
    """
    import contextlib

    import pandas as pd

    _check_training_objects(model, optimizer, None)
    x, y = _training_data(x, y)
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    epochs = validate_int("epochs", epochs, minimum=1)
    min_batch_size = validate_int("min_batch_size", min_batch_size, minimum=1, maximum=batch_size)
    memory_limit = None if memory_limit is None else validate_int("memory_limit", memory_limit, minimum=1)
    seed = validate_int("seed", seed, minimum=0)
    where = next(model.parameters()).device
    rows, events = [], []
    model.train()
    for epoch in range(epochs):
        order = epoch_order(len(x), epoch, seed)
        position = 0
        while position < len(x):
            idx = order[position : position + batch_size]
            budget = memory_budget(memory_limit) if memory_limit is not None else contextlib.nullcontext()
            try:
                with budget:
                    loss = nn.functional.cross_entropy(model(x[idx].to(where)), y[idx].to(where))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            except torch.OutOfMemoryError as error:
                loss = None
                optimizer.zero_grad(set_to_none=True)
                if where.type == "cuda":
                    torch.cuda.empty_cache()
                events.append({"pas": len(rows), "batch_size": batch_size, "message": str(error).splitlines()[0]})
                if batch_size // 2 < min_batch_size:
                    raise TrainingError(
                        f"Mémoire épuisée même avec des lots de {batch_size} exemples (`min_batch_size` = {min_batch_size}) : "
                        "réduisez le modèle ou activez le gradient checkpointing."
                    ) from error
                batch_size //= 2
                continue
            position += len(idx)
            rows.append({"epoch": epoch, "batch_size": len(idx), "loss": loss.item(), "seen": epoch * len(x) + position})
    model.eval()
    frame = pd.DataFrame(rows)
    frame.index.name = "pas"
    return frame, events


# =========================================================================== mémoire d'un pas, mesurée dans un processus neuf


def mlp_step(*, depth: int = 16, width: int = 1024, batch_size: int = 1024, segments: int = 0, seed: int = 0):
    """Prépare un pas d'entraînement d'un perceptron profond ; renvoie la fonction qui l'exécute.

    ``depth`` couches ``Linear(width, width)`` + ReLU sur un lot de ``batch_size`` vecteurs,
    SGD. Avec ``segments > 0``, la propagation passe par
    ``torch.utils.checkpoint.checkpoint_sequential`` : seules les entrées des ``segments``
    segments sont gardées, les activations intérieures sont **recalculées** pendant la
    rétropropagation (moins de mémoire, une propagation de plus). Les gradients sont
    alloués ici, pour qu'une mesure ne compte que le pas.

    >>> run = mlp_step(depth=2, width=8, batch_size=4, segments=2)
    >>> loss = run()
    >>> loss > 0
    True
    """
    from torch.utils.checkpoint import checkpoint_sequential

    depth = validate_int("depth", depth, minimum=1)
    width = validate_int("width", width, minimum=1)
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    segments = validate_int("segments", segments, minimum=0, maximum=2 * depth + 1)
    generator = torch.Generator().manual_seed(validate_int("seed", seed, minimum=0))
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    x = torch.randn(batch_size, width, generator=generator)
    y = torch.randint(0, 10, (batch_size,), generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)

    def run() -> float:
        out = checkpoint_sequential(model, segments, x, use_reentrant=False) if segments else model(x)
        loss = nn.functional.cross_entropy(out, y)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        optimizer.step()
        return loss.item()

    return run


def checkpointing_tradeoff(segments=(0, 8, 4, 2), *, depth: int = 16, width: int = 1024, batch_size: int = 1024,
                           repeats: int = 3, seed: int = 0):
    """Mémoire gardée pour la rétropropagation et durée d'un pas, selon le *gradient checkpointing* (notebook 04).

    Pour chaque valeur de ``segments`` (0 : sans checkpointing), le pas de :func:`mlp_step`
    est exécuté une fois sous :class:`memory_budget`, qui compte les octets que PyTorch
    **garde** pour la rétropropagation (la mémoire qui grandit avec la profondeur et le
    lot ; les poids et les gradients n'en font pas partie), puis ``repeats`` fois pour sa
    durée médiane. Le compte est exact et ne dépend pas de la machine ; la durée, si.

    Renvoie un ``DataFrame`` indexé par la variante : ``gardé (Mo)``, ``durée du pas (ms)``.

    >>> table = checkpointing_tradeoff((0, 2), depth=4, width=32, batch_size=16, repeats=1)
    >>> bool(table["gardé (Mo)"].iloc[1] < table["gardé (Mo)"].iloc[0])
    True
    """
    import pandas as pd

    if isinstance(segments, int) or not all(isinstance(s, int) and s >= 0 for s in segments) or not segments:
        raise LabkitError(f"`segments` doit être une liste d'entiers positifs ou nuls (0 : sans checkpointing), reçu {segments!r}.")
    repeats = validate_int("repeats", repeats, minimum=1)
    rows = {}
    for count in segments:
        run = mlp_step(depth=depth, width=width, batch_size=batch_size, segments=count, seed=seed)
        with memory_budget(None) as budget:
            run()
        durations = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            durations.append(time.perf_counter() - start)
        name = "sans checkpointing" if count == 0 else f"checkpointing, {count} segments"
        rows[name] = {"gardé (Mo)": budget.peak / 2**20, "durée du pas (ms)": float(np.median(durations)) * 1e3}
    table = pd.DataFrame(rows).T
    table.index.name = "pas d'entraînement"
    return table
