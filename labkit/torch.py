"""Outils PyTorch du cours, rangés par leçon : modèles, entraînement, évaluation, mesure.

Un seul endroit pour la plomberie PyTorch, à la manière de ``d2l.torch`` : les
notebooks restent courts et montrent ce qui compte. Chaque outil indique le
notebook qui l'introduit.

Usage : ``from labkit import torch as lkt`` (ce module importe PyTorch ; ``import
labkit`` seul ne l'importe pas). Les outils suivent les règles de :mod:`labkit.runtime` :
sans ``device``, ils travaillent sur le matériel choisi par ``labkit.init`` (le GPU
quand il y en a un) ; sans ``seed``, ils ne refixent aucune graine.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import ConfigError, DataError, LabkitError, ModelError, TrainingError
from .models import register
from .runtime import resolve_device
from .validation import validate_bool, validate_float, validate_int

__all__ = [
    # notebook 01
    "device",
    "make_mlp",
    "count_parameters",
    "random_shift",
    "History",
    "fit",
    "evaluate",
    "predict",
    # notebook 02
    "make_cnn",
    "random_camera",
    "random_dihedral",
    # notebook 04
    "train_steps",
    "calibrate_loader",
    # notebook 08
    "count_macs",
    # notebooks 06 et 07
    "fit_cached",
    # notebook 12
    "PerImageNorm",
]

logger = logging.getLogger(__name__)


# =========================================================================== notebook 01 · surapprentissage


def device(name=None) -> torch.device:
    """Le ``torch.device`` du matériel ``name`` (``"cpu"``, ``"gpu"``), ou de ``labkit.init`` par défaut (notebook 01).

    >>> device("cpu")
    device(type='cpu')
    """
    chosen = resolve_device(name)
    if chosen == "gpu":
        if not torch.cuda.is_available():
            raise ConfigError("`device='gpu'` : PyTorch ne voit aucun GPU ici ; utilisez device='cpu'.")
        return torch.device("cuda")
    return torch.device("cpu")


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise ModelError(f"`model` doit être un torch.nn.Module, reçu {type(model).__name__}.")


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _as_inputs(x, name: str) -> torch.Tensor:
    """Valide un lot d'entrées (images (N, canaux, H, W) ou tableau (N, variables)) et le convertit en tenseur."""
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise DataError(f"`{name}` doit être un tableau NumPy ou un tenseur, reçu {type(x).__name__}.")
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim not in (2, 4):
        raise DataError(
            f"`{name}` doit être de forme (N, canaux, hauteur, largeur) pour des images ou (N, variables) "
            f"pour un tableau, reçu {tuple(x.shape)}."
        )
    return x


def _check_arrays(x, y, name_x: str, name_y: str):
    """Convertit et valide un couple (images, étiquettes) en tenseurs."""
    x = _as_inputs(x, name_x)
    if not isinstance(y, (np.ndarray, torch.Tensor)):
        raise DataError(f"`{name_y}` doit être un tableau NumPy ou un tenseur, reçu {type(y).__name__}.")
    y = torch.as_tensor(y)
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(
            f"`{name_y}` doit être un vecteur de {len(x)} étiquettes (une par image de `{name_x}`), reçu la forme {tuple(y.shape)}."
        )
    if y.dtype.is_floating_point:
        raise DataError(f"`{name_y}` doit contenir des entiers (numéros de classe), reçu {y.dtype}.")
    return x, y.long()


@register("mlp")
def make_mlp(*, in_features: int = 64, hidden: int = 512, depth: int = 2, dropout: float = 0.0, n_classes: int = 10) -> nn.Sequential:
    """Un perceptron multicouche : ``depth`` couches cachées de ``hidden`` neurones (notebook 01).

    Avec les réglages par défaut, environ 300 000 paramètres : bien trop pour une
    centaine d'images, d'où le surapprentissage du notebook 01.

    >>> tuple(make_mlp(hidden=16)(torch.zeros(3, 1, 8, 8)).shape)
    (3, 10)
    """
    in_features = validate_int("in_features", in_features, minimum=1)
    hidden = validate_int("hidden", hidden, minimum=1)
    depth = validate_int("depth", depth, minimum=1, maximum=10)
    dropout = validate_float("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    n_classes = validate_int("n_classes", n_classes, minimum=2)
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Nombre de paramètres **entraînables** du modèle (notebook 01).

    C'est le seul sens de « paramètres » dans le cours, en PyTorch comme en Keras
    (:func:`labkit.keras.count_parameters`) : les statistiques de normalisation ne
    sont pas des paramètres.

    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    _check_model(model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def random_shift(images: torch.Tensor, generator: torch.Generator | None = None, *, max_shift: int = 1) -> torch.Tensor:
    """Augmentation : décale chaque image d'au plus ``max_shift`` pixels (bords complétés par 0) (notebook 01).

    Un chiffre légèrement décalé reste le même chiffre ; une rotation de 180°, non
    (6 et 9) : une augmentation doit respecter les étiquettes.

    >>> tuple(random_shift(torch.zeros(2, 1, 8, 8), torch.Generator().manual_seed(0)).shape)
    (2, 1, 8, 8)
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise DataError(f"`images` doit être un tenseur (N, C, H, W), reçu {getattr(images, 'shape', type(images).__name__)}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise LabkitError(f"`generator` doit être un torch.Generator ou None, reçu {type(generator).__name__}.")
    max_shift = validate_int("max_shift", max_shift, minimum=0, maximum=min(images.shape[-2:]) - 1)
    n, h, w = len(images), images.shape[-2], images.shape[-1]
    padded = nn.functional.pad(images, (max_shift, max_shift, max_shift, max_shift))
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator)
    return torch.stack([padded[i, ..., dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


@dataclass
class History:
    """Historique d'entraînement, au format de Keras (``history.history["val_loss"]``) (notebook 01).

    ``best_epoch`` est l'indice (à partir de 0) de l'époque de plus faible perte de
    validation ; ``stopped_early`` indique un arrêt anticipé.
    """

    history: dict = field(default_factory=lambda: {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []})
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.history["loss"])

    def record(self, loss: float, accuracy: float, val: dict) -> None:
        """Ajoute une époque : perte et précision d'entraînement, puis celles de validation (``evaluate``)."""
        for key, value in (("loss", loss), ("accuracy", accuracy), ("val_loss", val["loss"]), ("val_accuracy", val["accuracy"])):
            self.history[key].append(value)

    def to_frame(self):
        """Le tableau des époques (pandas.DataFrame)."""
        import pandas as pd

        frame = pd.DataFrame(self.history)
        frame.index.name = "époque"
        return frame

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(vide)"
        h = self.history
        return (
            f"History({self.epochs} époques, précision entraînement {h['accuracy'][-1]:.3f}, "
            f"validation {h['val_accuracy'][-1]:.3f}, meilleure époque {self.best_epoch})"
        )


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@torch.no_grad()
def _eval_logits(model: nn.Module, x: torch.Tensor, batch_size: int):
    """Sorties de ``model`` lot par lot, en mode évaluation ; le mode d'origine est rétabli."""
    where = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        for idx in _batches(len(x), batch_size, None):
            yield idx, model(x[idx].to(where))
    finally:
        model.train(was_training)


def evaluate(model: nn.Module, x, y, *, batch_size: int = 512) -> dict:
    """Perte d'entropie croisée et précision de ``model`` sur (x, y), en mode évaluation (notebook 01).

    Le modèle est évalué là où il est (CPU ou GPU) ; son mode (entraînement ou
    évaluation) est rétabli ensuite.
    """
    _check_model(model)
    x, y = _check_arrays(x, y, "x", "y")
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    total_loss, correct = 0.0, 0
    for idx, logits in _eval_logits(model, x, batch_size):
        yb = y[idx].to(logits.device)
        total_loss += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    return {"loss": total_loss / len(x), "accuracy": correct / len(x)}


def predict(model: nn.Module, x, *, batch_size: int = 512) -> np.ndarray:
    """Classes prédites (tableau NumPy) pour les images ``x`` (notebook 01)."""
    _check_model(model)
    x = _as_inputs(x, "x")
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    return torch.cat([logits.argmax(1).cpu() for _, logits in _eval_logits(model, x, batch_size)]).numpy()


class _EarlyStopping:
    """Garde la meilleure perte de validation et, avec ``patience``, les poids correspondants."""

    def __init__(self, patience: int | None):
        self.patience, self.best_loss, self.best_state, self.waited = patience, float("inf"), None, 0

    def update(self, model: nn.Module, val_loss: float) -> tuple[bool, bool]:
        """Renvoie ``(amélioration, arrêter)``."""
        if val_loss < self.best_loss:
            self.best_loss, self.waited = val_loss, 0
            if self.patience is not None:
                self.best_state = copy.deepcopy(model.state_dict())
            return True, False
        self.waited += 1
        return False, self.patience is not None and self.waited >= self.patience


def _check_mixed(xb, targets, yb) -> None:
    """Ce que renvoie une fonction ``mix`` : un lot de ``len(yb)`` exemples et des cibles (N, classes) de probabilités."""
    if not (isinstance(xb, torch.Tensor) and isinstance(targets, torch.Tensor)):
        raise LabkitError("`mix` doit renvoyer deux tenseurs torch (lot mélangé, cibles).")
    if xb.shape[0] != len(yb) or targets.ndim != 2 or targets.shape[0] != len(yb):
        raise DataError(f"`mix` doit renvoyer un lot de {len(yb)} exemples et des cibles de forme ({len(yb)}, classes), "
                        f"reçu {tuple(xb.shape)} et {tuple(targets.shape)}.")
    if bool((targets < 0).any()) or not torch.allclose(targets.sum(dim=1), torch.ones(len(yb), dtype=targets.dtype), atol=1e-4):
        raise DataError("`mix` doit renvoyer des cibles positives dont chaque ligne somme à 1 (des probabilités par classe).")


def _train_epoch(model, x_train, y_train, optimizer, generator, batch_size, augment, loss_fn, mix=None):
    """Une époque ; renvoie (perte moyenne, précision) vues pendant l'époque."""
    where = _model_device(model)
    model.train()
    seen, loss_sum, correct = 0, 0.0, 0
    for idx in _batches(len(x_train), batch_size, generator):
        xb, yb = x_train[idx], y_train[idx]
        if augment is not None:
            xb = augment(xb, generator)
        targets = None
        if mix is not None:
            xb, targets = mix(xb, yb, generator)
            _check_mixed(xb, targets, yb)
        xb, yb = xb.to(where), yb.to(where)
        logits = model(xb)
        if targets is not None:
            if targets.shape[1] != logits.shape[1]:
                raise DataError(f"`mix` renvoie des cibles à {targets.shape[1]} classes, le modèle en prédit {logits.shape[1]}.")
            # Cibles « douces » : l'entropie croisée de PyTorch accepte des probabilités par classe.
            targets = targets.to(where, logits.dtype)
            yb = targets.argmax(1)  # la précision vue pendant l'époque compare à la classe dominante du mélange
        if loss_fn is not None:
            loss = loss_fn(logits, xb, yb, idx)
        else:
            loss = nn.functional.cross_entropy(logits, yb if targets is None else targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(yb)
        loss_sum += loss.item() * len(yb)
        correct += (logits.argmax(1) == yb).sum().item()
    return loss_sum / seen, correct / seen


def _move(model: nn.Module, name) -> None:
    try:
        model.to(device(name))
    except (RuntimeError, AssertionError) as error:
        raise ConfigError(f"`device={name!r}` n'est pas utilisable ici : {error}") from None


def fit(
    model: nn.Module,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    augment=None,
    mix=None,
    loss_fn=None,
    patience: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    description: str = "entraînement",
    device: str | None = None,
) -> History:
    """Entraîne ``model`` (Adam/AdamW, entropie croisée) et renvoie son :class:`History` (notebook 01).

    - ``weight_decay`` : régularisation L2 découplée (AdamW) ;
    - ``augment`` : fonction d'augmentation ``f(lot, générateur) -> lot`` appliquée à chaque
      lot d'entraînement (:func:`random_shift`, :func:`random_camera`) ; ``None`` pour aucune ;
    - ``mix`` : fonction ``f(lot, étiquettes, générateur) -> (lot, cibles)`` qui mélange les
      exemples d'un lot et renvoie des cibles douces de forme ``(N, classes)``, positives et
      sommant à 1 (le mixup du notebook 01) ; ``générateur`` est le ``torch.Generator`` des lots.
      Elle est appliquée après ``augment`` ; la perte est alors l'entropie croisée avec ces
      cibles, et la précision vue pendant l'époque compare à leur classe dominante. Incompatible
      avec ``loss_fn`` ;
    - ``loss_fn`` : perte ``f(logits, x, y, indices) -> tenseur`` à la place de l'entropie
      croisée (``indices`` : positions du lot dans ``x_train`` ; la distillation du notebook 07
      s'en sert) ; ``None`` pour l'entropie croisée ;
    - ``patience`` : arrêt anticipé après ``patience`` époques sans amélioration de la
      perte de validation, puis **restauration des meilleurs poids** ; ``None`` le désactive ;
    - ``seed`` : ``None`` (défaut) tire l'ordre des lots dans l'état courant, fixé par la graine
      du notebook ; un entier refixe la graine de PyTorch avant l'entraînement ;
    - ``device`` : ``"cpu"`` ou ``"gpu"`` ; ``None`` prend celui de ``labkit.init`` (le GPU
      quand il y en a un). Le modèle y est déplacé.

    Les métriques d'entraînement sont celles vues pendant l'époque (avec dropout et
    augmentation actifs), comme dans Keras.
    """
    _check_model(model)
    x_train, y_train = _check_arrays(x_train, y_train, "x_train", "y_train")
    x_val, y_val = _check_arrays(x_val, y_val, "x_val", "y_val")
    if x_train.shape[1:] != x_val.shape[1:]:
        raise DataError(
            f"`x_train` et `x_val` doivent avoir des images de même forme : {tuple(x_train.shape[1:])} ≠ {tuple(x_val.shape[1:])}."
        )
    epochs = validate_int("epochs", epochs, minimum=1)
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    lr = validate_float("lr", lr, minimum=0, exclusive_minimum=True)
    weight_decay = validate_float("weight_decay", weight_decay, minimum=0)
    patience = None if patience is None else validate_int("patience", patience, minimum=1)
    progress = validate_bool("progress", progress)
    if loss_fn is not None and not callable(loss_fn):
        raise LabkitError(f"`loss_fn` doit être une fonction f(logits, x, y, indices) -> perte, ou None ; reçu {loss_fn!r}.")
    if augment is not None and not callable(augment):
        raise LabkitError(
            f"`augment` doit être une fonction f(lot, générateur) -> lot (par exemple lkt.random_shift) ou None, reçu {augment!r}."
        )
    if mix is not None and not callable(mix):
        raise LabkitError(f"`mix` doit être une fonction f(lot, étiquettes, générateur) -> (lot, cibles) ou None, reçu {mix!r}.")
    if mix is not None and loss_fn is not None:
        raise ConfigError("`mix` et `loss_fn` ne se combinent pas : `loss_fn` ne recevrait pas les cibles mélangées.")
    if seed is not None:
        torch.manual_seed(validate_int("seed", seed, minimum=0))
    _move(model, device)

    from tqdm.auto import tqdm

    # Le générateur des lots est tiré de l'état courant : la graine du notebook (ou `seed`) le fixe.
    generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, stopper = History(), _EarlyStopping(patience)
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc=description, disable=not progress)
    for _ in bar:
        loss, accuracy = _train_epoch(model, x_train, y_train, optimizer, generator, batch_size, augment, loss_fn, mix)
        if not np.isfinite(loss):
            raise TrainingError(f"La perte est devenue infinie ou NaN à l'époque {history.epochs} : réduisez `lr`.")
        val = evaluate(model, x_val, y_val)
        history.record(loss, accuracy, val)
        bar.set_postfix(perte=f"{loss:.3f}", val_perte=f"{val['loss']:.3f}", val_préc=f"{val['accuracy']:.3f}")
        improved, stop = stopper.update(model, val["loss"])
        if improved:
            history.best_epoch = history.epochs - 1
        if stop:
            history.stopped_early = True
            logger.info("%s : arrêt anticipé après l'époque %d (%d époques sans amélioration).", description,
                        history.epochs - 1, patience)
            break
    bar.close()
    if stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
        logger.info("%s : poids de la meilleure époque (%s) restaurés.", description, history.best_epoch)
    model.eval()
    history.seconds = time.perf_counter() - start
    logger.debug("%s : %d époque(s) en %.1f s.", description, history.epochs, history.seconds)
    return history


# =========================================================================== notebook 02 · problèmes de données


@register("cnn")
def make_cnn(
    *,
    width: int = 16,
    depth: int = 3,
    dropout: float = 0.0,
    batch_norm: bool = True,
    n_classes: int = 6,
    in_channels: int = 1,
) -> nn.Sequential:
    """Un petit CNN pour les images de PCB : ``depth`` blocs convolutifs puis un max global (notebook 02).

    Bloc ``i`` : convolution 3×3 à ``width × 2**min(i, 1)`` canaux, normalisation de lot
    (``batch_norm``, qui rend l'entraînement bien plus rapide), ReLU, max-pooling 2×2.
    Le max global (``AdaptiveMaxPool2d``) répond « ce motif est-il présent quelque
    part ? », ce qui convient à un défaut petit et placé n'importe où ; il rend le
    modèle indépendant de la taille des images. ``dropout`` agit avant la couche finale.

    >>> model = make_cnn(width=8)
    >>> tuple(model(torch.zeros(2, 1, 64, 64)).shape)
    (2, 6)
    """
    width = validate_int("width", width, minimum=1)
    depth = validate_int("depth", depth, minimum=1, maximum=6)
    dropout = validate_float("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    n_classes = validate_int("n_classes", n_classes, minimum=2)
    in_channels = validate_int("in_channels", in_channels, minimum=1)
    layers: list[nn.Module] = []
    channels = in_channels
    for i in range(depth):
        out = width * 2 ** min(i, 1)
        layers.append(nn.Conv2d(channels, out, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        channels = out
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, n_classes)]
    return nn.Sequential(*layers)


def random_camera(
    images: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    brightness: float = 0.1,
    contrast: float = 0.3,
    blur: float = 0.3,
    noise: float = 0.1,
) -> torch.Tensor:
    """Augmentation : chaque image comme prise par une autre caméra (notebook 02).

    Tirés au hasard, image par image : un contraste multiplié par un facteur de
    ``[1 − contrast, 1 + contrast]``, une luminosité décalée de ``[−brightness, brightness]``,
    un flou 3×3 avec la probabilité ``blur``, un bruit gaussien d'écart-type dans
    ``[0, noise]``. Le défaut, lui, ne change pas : le modèle apprend à ne pas
    dépendre de la caméra. Images (N, C, H, W). Les réglages par défaut couvrent la
    ``NEW_CAMERA`` du cours ; plus forts, ils ralentissent l'apprentissage sans gagner
    en production (mesuré au notebook 02).

    >>> out = random_camera(torch.zeros(4, 1, 8, 8), torch.Generator().manual_seed(0))
    >>> tuple(out.shape)
    (4, 1, 8, 8)
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise DataError(f"`images` doit être un lot (N, C, H, W), reçu la forme {tuple(getattr(images, 'shape', ()))}.")
    for name, value in (("brightness", brightness), ("contrast", contrast), ("blur", blur), ("noise", noise)):
        validate_float(name, value, minimum=0, maximum=1)
    n, channels = images.shape[:2]
    shape = (n, 1, 1, 1)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=generator)

    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    out = (images - mean) * uniform(1 - contrast, 1 + contrast) + mean + uniform(-brightness, brightness)
    blurred = torch.rand(n, generator=generator) < blur
    if blurred.any():
        kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
        kernel = kernel.expand(channels, 1, 3, 3).to(images.dtype)
        padded = nn.functional.pad(out[blurred], (1, 1, 1, 1), mode="replicate")
        out[blurred] = nn.functional.conv2d(padded, kernel, groups=channels)
    return out + uniform(0, noise) * torch.randn(out.shape, generator=generator)


def random_dihedral(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Augmentation : rotation d'un multiple de 90° et retournement aléatoires, pour les images de PCB (notebook 02).

    Un défaut de PCB reste le même défaut vu de dessus, tourné ou retourné : ces
    huit symétries multiplient les exemples sans changer les étiquettes.
    """
    choice = torch.randint(0, 8, (len(images),), generator=generator)
    out = images.clone()
    for k in range(8):
        mask = choice == k
        if mask.any():
            transformed = torch.rot90(images[mask], k % 4, dims=(-2, -1))
            out[mask] = torch.flip(transformed, dims=(-1,)) if k >= 4 else transformed
    return out


# =========================================================================== notebook 04 · entraîner plus vite


def _grad_total_norm(parameters) -> torch.Tensor:
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach(), 2) for g in grads]), 2)


class _Step:
    """Un pas d'entraînement instrumenté : propagation (précision mixte possible), écrêtage, optimiseur."""

    def __init__(self, model, optimizer, scheduler, clip, autocast_dtype):
        self.model, self.optimizer, self.scheduler, self.clip = model, optimizer, scheduler, clip
        self.autocast_dtype = autocast_dtype
        self.where = _model_device(model)
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        # En float16, les petits gradients s'annulent : on multiplie la perte avant la rétropropagation (GradScaler).
        # bfloat16 a la plage du float32 et n'en a pas besoin.
        self.scaler = torch.amp.GradScaler(self.where.type) if autocast_dtype is torch.float16 else None

    def __call__(self, xb, yb) -> dict:
        lr = self.optimizer.param_groups[0]["lr"]
        with torch.autocast(self.where.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
            logits = self.model(xb)
            loss = nn.functional.cross_entropy(logits.float(), yb)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)  # la norme et l'écrêtage portent sur les vrais gradients
        else:
            loss.backward()
        norm = self._clip()
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        loss_value = loss.item()  # synchronise : le temps mesuré est bien celui du calcul
        return {"loss": loss_value, "accuracy": (logits.argmax(1) == yb).float().mean().item(), "grad_norm": float(norm), "lr": lr}

    def _clip(self):
        if callable(self.clip):
            return self.clip(self.parameters)
        norm = _grad_total_norm(self.parameters)
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.parameters, self.clip)
        return norm


def _timed_batches(loader, epochs: int, total: int):
    """``(époque, x, y, secondes d'attente du lot)`` jusqu'à ``total`` lots."""
    step = 0
    for epoch in range(epochs):
        batches = iter(loader)
        while step < total:
            start = time.perf_counter()
            try:
                xb, yb = next(batches)
            except StopIteration:
                break
            yield epoch, xb, yb, start
            step += 1
        if step >= total:
            return


def train_steps(
    model: nn.Module,
    loader,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int = 1,
    max_steps: int | None = None,
    scheduler=None,
    clip=None,
    autocast_dtype: torch.dtype | None = None,
    stop_on_nan: bool = True,
    progress: bool = True,
    description: str = "entraînement",
):
    """Une boucle d'entraînement instrumentée, pas à pas (notebook 04) ; renvoie un ``DataFrame``.

    Une ligne par pas : ``epoch``, ``loss``, ``accuracy`` (du lot), ``grad_norm`` (norme
    globale des gradients **avant** écrêtage), ``lr`` (le pas utilisé), ``data_s`` (attente
    du lot suivant) et ``compute_s`` (propagation, rétropropagation, optimiseur). La
    barre de progression montre en direct la perte, la norme des gradients et le débit.

    - ``loader`` : un itérable de lots ``(x, y)`` (``torch.utils.data.DataLoader``) ;
    - ``scheduler`` : un planning de ``torch.optim.lr_scheduler``, avancé **à chaque pas**
      (``OneCycleLR``, ``CosineAnnealingWarmRestarts`` avec des périodes en pas…) ;
    - ``clip`` : un nombre écrête la norme globale des gradients à cette valeur
      (``torch.nn.utils.clip_grad_norm_``) ; une fonction ``f(paramètres) -> norme avant écrêtage``
      fait l'écrêtage elle-même (celle que l'on écrit au notebook 04) ;
    - ``autocast_dtype`` : précision mixte, ``torch.bfloat16`` ou ``torch.float16`` (avec mise à l'échelle
      de la perte, ``torch.amp.GradScaler``, pour les GPU sans bfloat16 comme le T4 de Colab) ;
    - ``stop_on_nan`` : s'arrête au premier pas dont la perte n'est pas finie (la ligne est gardée).

    Le modèle est entraîné là où il est (déplacez-le avant, par exemple ``model.to(lkt.device())``).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    _check_model(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise LabkitError(f"`optimizer` doit être un torch.optim.Optimizer, reçu {type(optimizer).__name__}.")
    epochs = validate_int("epochs", epochs, minimum=1)
    max_steps = None if max_steps is None else validate_int("max_steps", max_steps, minimum=1)
    if clip is not None and not callable(clip):
        clip = validate_float("clip", clip, minimum=0, exclusive_minimum=True)
    if autocast_dtype not in (None, torch.bfloat16, torch.float16):
        raise LabkitError(f"`autocast_dtype` doit valoir None, torch.bfloat16 ou torch.float16 ; reçu {autocast_dtype!r}.")
    stop_on_nan, progress = validate_bool("stop_on_nan", stop_on_nan), validate_bool("progress", progress)
    try:
        steps_per_epoch = len(loader)
    except TypeError:
        raise DataError(f"`loader` doit être un DataLoader (ou un itérable de longueur connue), reçu {type(loader).__name__}.") from None
    total = steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs)
    step = _Step(model, optimizer, scheduler, clip, autocast_dtype)
    rows = []
    bar = tqdm(total=total, desc=description, disable=not progress)
    model.train()
    try:
        for epoch, xb, yb, start in _timed_batches(loader, epochs, total):
            xb, yb = xb.to(step.where, non_blocking=True), yb.to(step.where, non_blocking=True)
            loaded = time.perf_counter()
            row = step(xb, yb)
            done = time.perf_counter()
            rows.append({"epoch": epoch, **row, "data_s": loaded - start, "compute_s": done - loaded})
            bar.update(1)
            bar.set_postfix(perte=f"{row['loss']:.3f}", norme_grad=f"{row['grad_norm']:.2f}", img_s=f"{len(yb) / (done - start):.0f}")
            if stop_on_nan and not np.isfinite(row["loss"]):
                break
    finally:
        bar.close()
        model.eval()
    frame = pd.DataFrame(rows)
    frame.index.name = "pas"
    return frame


def calibrate_loader(
    dataset,
    *,
    batch_size: int = 64,
    workers=None,
    prefetch_factors=(2, 4),
    pin_memory=None,
    n_batches: int = 20,
    seed: int = 0,
    progress: bool = True,
):
    """Essaie quelques réglages de ``DataLoader`` et renvoie ``(meilleurs_réglages, tableau)`` (notebook 04).

    Pour chaque combinaison de ``num_workers`` (par défaut 0, 1, puis le nombre de
    cœurs, au plus 4), ``prefetch_factor`` (avec des processus auxiliaires seulement) et
    ``pin_memory`` (essayé seulement quand CUDA est là), mesure le temps de démarrage
    (premier lot) et le débit en images par seconde sur ``n_batches`` lots suivants.
    ``meilleurs_réglages`` se passe tel quel à ``DataLoader(dataset, **réglages)``.

    Une mesure courte est bruitée : c'est un choix raisonnable pour *cette* machine et
    *ce* jeu de données, pas une vérité générale. Sur une machine à 2 cœurs qui
    entraîne aussi le modèle, les processus auxiliaires se disputent les cœurs avec lui.
    """
    import os

    import pandas as pd
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    batch_size = validate_int("batch_size", batch_size, minimum=1)
    n_batches = validate_int("n_batches", n_batches, minimum=1)
    try:
        size = len(dataset)
    except TypeError:
        raise DataError(f"`dataset` doit avoir une longueur (torch.utils.data.Dataset), reçu {type(dataset).__name__}.") from None
    if size < batch_size * (n_batches + 1):
        raise DataError(
            f"`dataset` trop petit : {size} exemples pour {n_batches + 1} lots de {batch_size} ; réduisez `n_batches` ou `batch_size`."
        )
    cores = os.cpu_count() or 1
    workers = sorted({0, 1, min(cores, 4)}) if workers is None else [validate_int("workers", w, minimum=0) for w in workers]
    pins = ([False, True] if torch.cuda.is_available() else [False]) if pin_memory is None else [bool(pin_memory)]
    configs = []
    for w in workers:
        for pin in pins:
            for factor in prefetch_factors if w > 0 else (None,):
                configs.append({"num_workers": w, "pin_memory": pin, "prefetch_factor": factor})
    rows = []
    for config in tqdm(configs, desc="calibration du DataLoader", disable=not progress, leave=False):
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
            **{k: v for k, v in config.items() if v is not None},
        )
        start = time.perf_counter()
        batches = iter(loader)
        next(batches)
        first = time.perf_counter()
        for _ in range(n_batches):
            next(batches)
        end = time.perf_counter()
        del batches  # arrête les processus auxiliaires avant la combinaison suivante
        rows.append({**config, "démarrage (s)": first - start, "images/s": n_batches * batch_size / (end - first)})
    table = pd.DataFrame(rows)
    best = table.loc[table["images/s"].idxmax()]
    options = {"batch_size": batch_size, "num_workers": int(best["num_workers"]), "pin_memory": bool(best["pin_memory"])}
    if options["num_workers"] > 0:
        options["prefetch_factor"] = int(best["prefetch_factor"])
    return options, table


# =========================================================================== notebook 08 · architectures efficientes


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiplications-additions (MAC) d'une passe avant sur une image de forme ``input_shape`` (notebook 08).

    Compte les couches ``Conv2d`` (groupes compris : une convolution en profondeur
    coûte ``in_channels`` fois moins qu'une convolution pleine) et ``Linear``, qui font
    l'essentiel du calcul ; les biais, normalisations, activations et pooling sont
    négligés. Mesuré par des crochets (*hooks*) pendant une vraie passe avant, sur une
    image nulle, en mode évaluation ; le mode du modèle est rétabli ensuite.

    >>> count_macs(nn.Conv2d(3, 8, 3, padding=1, bias=False), (3, 10, 10))
    21600
    """
    _check_model(model)
    try:
        shape = tuple(int(n) for n in input_shape)
    except (TypeError, ValueError):
        raise LabkitError(
            f"`input_shape` doit être la forme d'une image sans le lot, par exemple (1, 64, 64), reçu {input_shape!r}."
        ) from None
    if not shape or min(shape) < 1:
        raise LabkitError(f"`input_shape` doit contenir des dimensions ≥ 1, par exemple (1, 64, 64), reçu {input_shape!r}.")
    total = 0

    def hook(module, _inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
            total += per_output * output[0].numel()
        else:
            total += module.in_features * output[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    device = next(model.parameters()).device
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=device))
    except RuntimeError as error:  # forme incompatible : le message de PyTorch est en anglais
        raise ModelError(
            f"Le modèle refuse une image de forme {shape} (`input_shape`, sans le lot) : {str(error).splitlines()[0]}"
        ) from None
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total)


# =========================================================================== réutiliser un entraînement (notebooks 06 et 07)


def _digest(*parts) -> str:
    import hashlib

    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().numpy()
        if isinstance(part, np.ndarray):
            sha.update(str(part.dtype).encode() + str(part.shape).encode())
            part = np.ascontiguousarray(part).tobytes()
        sha.update(part if isinstance(part, bytes) else repr(part).encode())
    return sha.hexdigest()[:24]


def fit_cached(model: nn.Module, x_train, y_train, x_val, y_val, *, cache_dir=None, **fit_options) -> History:
    """:func:`fit`, mais un entraînement déjà fait est relu au lieu d'être refait (notebooks 06 et 07).

    La clé couvre tout ce qui détermine le résultat : l'architecture et les poids de départ du
    modèle, les données, les options de :func:`fit`, l'état du générateur aléatoire de PyTorch,
    la version de PyTorch et son nombre de fils. Relu, le modèle a les mêmes poids, l'historique est le même et l'état
    du générateur aléatoire est celui qu'aurait laissé l'entraînement : la suite du notebook ne
    voit pas la différence. Le professeur des notebooks 06 et 07, identique, n'est ainsi entraîné
    qu'une fois par machine. Dossier : ``cache_dir``, ``LABKIT_CACHE_DIR`` ou ``~/.cache/labkit``.
    """
    import json
    import os
    import tempfile
    from pathlib import Path

    _check_model(model)
    folder = Path(cache_dir or os.environ.get("LABKIT_CACHE_DIR") or Path.home() / ".cache" / "labkit") / "entrainements"
    options = {k: (v.__name__ if callable(v) else v) for k, v in sorted(fit_options.items()) if k not in ("progress", "description")}
    # Le nombre de fils compte : il change l'ordre des sommes, donc les poids obtenus.
    key = _digest(repr(model), *model.state_dict().values(), x_train, y_train, x_val, y_val, options, torch.get_rng_state(),
                  torch.__version__, torch.get_num_threads())
    path = folder / f"{key}.pt"
    if path.is_file():
        saved = torch.load(path, weights_only=False)
        model.load_state_dict(saved["state"])
        model.to(device(fit_options.get("device"))).eval()
        torch.set_rng_state(saved["rng"])
        history = History(**json.loads(saved["history"]))
        logger.info("entraînement relu dans le cache : %s", path)
        return history
    history = fit(model, x_train, y_train, x_val, y_val, **fit_options)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"state": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "rng": torch.get_rng_state(),
               "history": json.dumps({"history": history.history, "best_epoch": history.best_epoch,
                                      "stopped_early": history.stopped_early, "seconds": history.seconds})}
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
        torch.save(payload, handle)
    os.replace(handle.name, path)  # atomique : deux processus peuvent écrire la même entrée
    return history


# =========================================================================== notebook 12 · projet final


class PerImageNorm(nn.Module):
    """Normalisation par image, dans le modèle : chaque image est centrée et réduite par ses propres pixels (notebook 12).

    Elle efface la luminosité et le contraste de la prise de vue (notebook 02) ; placée en tête
    du réseau, elle voyage avec l'artefact exporté : le service n'a rien à changer.

    >>> out = PerImageNorm()(torch.rand(3, 1, 8, 8) * 0.8 + 0.1)
    >>> round(abs(float(out.mean())), 3), round(float(out[0].std(unbiased=False)), 3)
    (0.0, 1.0)
    """

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = validate_float("eps", eps, minimum=0, exclusive_minimum=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps)
