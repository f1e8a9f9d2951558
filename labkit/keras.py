"""Outils Keras 3 du cours : le même petit CNN qu'en PyTorch, l'entraînement, la distillation.

Le pendant de :mod:`labkit.torch` pour les notebooks où Keras est l'outil naturel
(régularisation du notebook 03, export LiteRT du notebook 05). Les images
sont rangées (N, H, W, canaux), l'ordre de Keras ; :func:`labkit.adapters.to_keras_arrays`
convertit celles du cours.

Usage : ``from labkit import keras as lkk`` (ce module importe Keras, donc son
moteur, TensorFlow par défaut ; ``import labkit`` seul ne l'importe pas). L'export
LiteRT (:mod:`labkit.optimize.litert`) demande le moteur TensorFlow.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # avant l'import : sinon les journaux C++ polluent les notebooks

import keras  # noqa: E402
import numpy as np  # noqa: E402

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf  # noqa: E402

    # « triggered tf.function retracing » : attendu quand on évalue plusieurs modèles, sans intérêt pour l'étudiant.
    tf.get_logger().setLevel("ERROR")

from .errors import LabkitError, TrainingError  # noqa: E402
from .models import register  # noqa: E402
from .validation import validate_array, validate_bool, validate_float, validate_int, validate_labels  # noqa: E402

__all__ = ["make_cnn", "fit", "fit_tracked", "evaluate", "distill", "from_torch", "count_parameters", "ProgressBar"]


def count_parameters(model) -> int:
    """Nombre de paramètres **entraînables**, comme :func:`labkit.torch.count_parameters` (notebook 03).

    Les statistiques de normalisation (moyennes et variances mobiles) ne sont pas des
    paramètres : ``model.count_params()`` de Keras les compte, pas cette fonction.
    """
    _check_model(model)
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


@register("cnn", framework="keras")
def make_cnn(
    *,
    width: int = 16,
    depth: int = 3,
    dropout: float = 0.0,
    batch_norm: bool = True,
    n_classes: int = 6,
    input_shape: tuple = (64, 64, 1),
    name: str = "cnn",
) -> keras.Sequential:
    """Un petit CNN pour les images de PCB, identique à :func:`labkit.torch.make_cnn` (notebook 05).

    ``depth`` blocs convolution 3×3 (``width × 2**min(i, 1)`` canaux), normalisation de lot,
    ReLU, max-pooling 2×2 ; puis un max global, ``dropout`` et une couche dense qui
    renvoie des **logits** (pas de softmax : la perte s'en charge, et la distillation
    en a besoin).

    >>> model = make_cnn(width=8)
    >>> model.output_shape
    (None, 6)
    """
    width = validate_int("width", width, minimum=1)
    depth = validate_int("depth", depth, minimum=1, maximum=6)
    dropout = validate_float("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    n_classes = validate_int("n_classes", n_classes, minimum=2)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
        isinstance(d, (int, np.integer)) and d > 0 for d in input_shape
    ):
        raise LabkitError(f"`input_shape` doit être (hauteur, largeur, canaux), des entiers positifs ; reçu {input_shape!r}.")
    layers = [keras.Input(shape=tuple(int(d) for d in input_shape))]
    for i in range(depth):
        layers.append(keras.layers.Conv2D(width * 2 ** min(i, 1), 3, padding="same", use_bias=not batch_norm))
        if batch_norm:
            # Même inertie que PyTorch (0,9 ; 0,99 par défaut dans Keras) : sinon, sur un entraînement court,
            # les statistiques d'inférence sont encore fausses et la validation stagne au hasard.
            layers.append(keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5))
        layers += [keras.layers.ReLU(), keras.layers.MaxPooling2D(2)]
    layers += [keras.layers.GlobalMaxPooling2D(), keras.layers.Dropout(dropout), keras.layers.Dense(n_classes)]
    return keras.Sequential(layers, name=name)


def _check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise LabkitError(f"`model` doit être un keras.Model, reçu {type(model).__name__}.")


def _check_images(x, y, name_x: str, name_y: str, model=None):
    x = validate_array(name_x, x, min_ndim=2).astype(np.float32)
    y = validate_labels(name_y, y, length=len(x))
    if model is not None:
        expected = tuple(model.input_shape[1:])
        if tuple(x.shape[1:]) != expected:
            hint = ""
            if x.ndim == 4 and tuple(x.shape[1:]) == (expected[2], expected[0], expected[1]):
                hint = " Les images semblent rangées (N, C, H, W) : convertissez-les avec labkit.adapters.to_keras_arrays."
            raise LabkitError(f"`{name_x}` : le modèle attend des exemples de forme {expected}, reçu {tuple(x.shape[1:])}.{hint}")
    return x, y


class ProgressBar(keras.callbacks.Callback):
    """Une barre de progression par époque (tqdm), avec les métriques du moment."""

    def __init__(self, epochs: int, description: str = "entraînement"):
        super().__init__()
        self.epochs, self.description = epochs, description

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs, desc=self.description)  # la dernière ligne reste : on voit où l'entraînement a fini

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        names = {"loss": "perte", "val_loss": "val_perte", "val_accuracy": "val_préc"}
        self.bar.set_postfix({short: f"{logs[key]:.3f}" for key, short in names.items() if key in logs})
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


#: Les optimiseurs comparés au notebook 03, par leur nom : Adam, RMSprop, et la descente de gradient
#: stochastique avec un moment de 0,9 (la valeur d'usage).
OPTIMIZERS = {
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
}


def _check_optimizer(optimizer: str) -> str:
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise LabkitError(f"`optimizer` doit être l'un de {sorted(OPTIMIZERS)}, reçu {optimizer!r}.")
    return optimizer.lower()


def _compile(model, lr: float, optimizer: str = "adam") -> None:
    model.compile(
        optimizer=OPTIMIZERS[optimizer](lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def fit(
    model,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-3,
    optimizer: str = "adam",
    callbacks=(),
    seed: int | None = None,
    progress: bool = True,
    description: str = "entraînement",
):
    """Compile ``model`` (entropie croisée sur logits, précision) et l'entraîne (notebook 03).

    ``optimizer`` : ``"adam"`` (par défaut), ``"rmsprop"`` ou ``"sgd"`` (avec un moment de 0,9),
    au pas ``lr``.

    Renvoie l'objet ``History`` de Keras (``history.history["val_loss"]``…), comme
    :func:`labkit.torch.fit`. ``callbacks`` s'ajoute à la barre de progression
    (arrêt anticipé, planning du pas…). Sans ``seed``, le mélange des lots suit l'état
    fixé par la graine du notebook (:mod:`labkit.runtime`) ; un entier le refixe.
    Keras entraîne sur le GPU quand TensorFlow en voit un.
    """
    _check_model(model)
    return _train(model, model, x_train, y_train, x_val, y_val, epochs=epochs, batch_size=batch_size, lr=lr,
                  optimizer=optimizer, callbacks=callbacks, seed=seed, progress=progress, description=description)


def fit_tracked(
    run_name: str,
    model,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    test_data,
    params: dict | None = None,
    save_model: bool = True,
    **fit_options,
) -> dict:
    """:func:`fit` dans un run MLflow du magasin courant, puis l'évaluation sur des données tenues à l'écart (notebook 03).

    Le run ``run_name`` reçoit :

    - les paramètres ``params`` (la recette : ``{"dropout": 0.5, ...}``), plus ``epochs``,
      ``batch_size``, ``lr``, ``optimizer`` et le nombre de paramètres du modèle ;
    - à chaque époque : ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` et le pas ``lr`` ;
    - à la fin : ``test_loss`` et ``test_accuracy`` sur ``test_data = (x_test, y_test)``,
      ``best_val_loss``, ``best_epoch`` et ``epochs_run`` (plus court que ``epochs`` si
      l'arrêt anticipé a joué) ;
    - le modèle au format ``.keras`` (``save_model=True``), rechargeable par ``keras.saving.load_model``.

    Renvoie ``{"run_id", "history", "test_loss", "test_accuracy"}``. Appelez d'abord
    :func:`labkit.tracking.use_local_store`. Les autres options vont à :func:`fit`.
    """
    import tempfile
    from pathlib import Path

    from . import tracking

    mlflow = tracking._mlflow()
    _check_model(model)
    if not isinstance(run_name, str) or not run_name.strip():
        raise LabkitError(f"`run_name` doit être un nom non vide, reçu {run_name!r}.")
    if not isinstance(test_data, (tuple, list)) or len(test_data) != 2:
        raise LabkitError("`test_data` doit être un couple (x_test, y_test), tenu à l'écart de l'entraînement et de la validation.")
    x_test, y_test = _check_images(test_data[0], test_data[1], "test_data[0]", "test_data[1]", model)
    if params is not None and not isinstance(params, dict):
        raise LabkitError(f"`params` doit être un dictionnaire {{nom: valeur}}, reçu {type(params).__name__}.")
    unknown = sorted(set(fit_options) - _FIT_OPTIONS)
    if unknown:
        raise LabkitError(f"Options inconnues : {unknown} ; options possibles : {sorted(_FIT_OPTIONS)}.")
    if mlflow.active_run() is not None:
        mlflow.end_run()  # un run resté ouvert après une erreur : on le ferme plutôt que d'y mélanger deux entraînements
    with mlflow.start_run(run_name=run_name) as run:
        recipe = {"epochs": fit_options.get("epochs", 30), "batch_size": fit_options.get("batch_size", 32),
                  "lr": fit_options.get("lr", 1e-3), "optimizer": _check_optimizer(fit_options.get("optimizer", "adam"))}
        mlflow.log_params({**recipe, **(params or {}), "n_parameters": count_parameters(model)})
        callbacks = list(fit_options.pop("callbacks", ())) + [tracking.log_metrics_every_epoch()]
        fit_options.setdefault("description", run_name)
        history = fit(model, x_train, y_train, x_val, y_val, callbacks=callbacks, **fit_options)
        scores = evaluate(model, x_test, y_test)
        val_losses = history.history["val_loss"]
        mlflow.log_metrics({
            "test_loss": scores["loss"],
            "test_accuracy": scores["accuracy"],
            "best_val_loss": float(np.min(val_losses)),
            "best_epoch": int(np.argmin(val_losses)),
            "epochs_run": len(val_losses),
        })
        if save_model:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                model.save(path)
                mlflow.log_artifact(str(path))
    return {"run_id": run.info.run_id, "history": history, "test_loss": scores["loss"], "test_accuracy": scores["accuracy"]}


_FIT_OPTIONS = {"epochs", "batch_size", "lr", "optimizer", "callbacks", "seed", "progress", "description"}


def _train(trained, shaped, x_train, y_train, x_val, y_val, *, epochs=30, batch_size=32, lr=1e-3, optimizer="adam",
           callbacks=(), seed=None, progress=True, description="entraînement"):
    """Valide les arguments et entraîne ``trained`` ; ``shaped`` donne la forme d'entrée attendue."""
    x_train, y_train = _check_images(x_train, y_train, "x_train", "y_train", shaped)
    x_val, y_val = _check_images(x_val, y_val, "x_val", "y_val", shaped)
    epochs = validate_int("epochs", epochs, minimum=1)
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    lr = validate_float("lr", lr, minimum=0, exclusive_minimum=True)
    optimizer = _check_optimizer(optimizer)
    progress = validate_bool("progress", progress)
    if seed is not None:
        keras.utils.set_random_seed(validate_int("seed", seed, minimum=0))
    _compile(trained, lr, optimizer)
    extra = list(callbacks) + ([ProgressBar(epochs, description)] if progress else [])
    history = trained.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
                          validation_batch_size=max(batch_size, 256),
                          callbacks=extra, verbose=0)
    if not np.isfinite(history.history["loss"][-1]):
        raise TrainingError("La perte est devenue infinie ou NaN : réduisez `lr`.")
    return history


def evaluate(model, x, y, *, batch_size: int = 256) -> dict:
    """Perte d'entropie croisée et précision de ``model`` sur (x, y), en mode inférence (notebook 03)."""
    _check_model(model)
    x, y = _check_images(x, y, "x", "y", model)
    batch_size = validate_int("batch_size", batch_size, minimum=1)
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    return {"loss": float(keras.ops.convert_to_numpy(loss)), "accuracy": float(np.mean(logits.argmax(axis=1) == y))}


def distill(
    student,
    teacher,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
    **fit_options,
):
    """Entraîne ``student`` à imiter ``teacher`` avec ``keras.distillation`` (notebook 07).

    Même perte que :func:`labkit.optimize.distill.distillation_loss` :
    ``alpha × T² × KL(professeur ‖ élève) + (1 − alpha) × entropie croisée``. Le
    professeur reste figé. Les autres options (époques, lot, pas…) vont à :func:`fit`.
    Renvoie l'historique ; ``student`` est entraîné sur place.
    """
    from keras import distillation

    _check_model(student)
    _check_model(teacher)
    temperature = validate_float("temperature", temperature, minimum=0, exclusive_minimum=True)
    alpha = validate_float("alpha", alpha, minimum=0, maximum=1)
    if student.output_shape != teacher.output_shape:
        raise LabkitError(
            f"Élève et professeur doivent avoir le même nombre de classes : {student.output_shape} ≠ {teacher.output_shape}."
        )
    unknown = sorted(set(fit_options) - _FIT_OPTIONS)
    if unknown:
        raise LabkitError(f"Options inconnues : {unknown} ; options possibles : {sorted(_FIT_OPTIONS)}.")
    distiller = distillation.Distiller(
        teacher=teacher,
        student=student,
        distillation_losses=distillation.LogitsDistillation(temperature=temperature),
        student_loss_weight=1.0 - alpha,
    )
    return _train(distiller, student, x_train, y_train, x_val, y_val, **fit_options)


def from_torch(model, *, input_shape: tuple = (64, 64, 1), atol: float = 1e-4, name: str = "depuis_pytorch") -> keras.Sequential:
    """Le même réseau en Keras, poids copiés depuis un CNN PyTorch séquentiel (notebook 05).

    Sert à comparer **le même modèle** dans trois moteurs (PyTorch, ONNX Runtime,
    LiteRT) sans le réentraîner. Couches reconnues : celles de
    :func:`labkit.torch.make_cnn`, y compris après :func:`labkit.optimize.prune.prune_channels`
    (Conv2d 3×3 de remplissage 1, BatchNorm2d, ReLU, MaxPool2d, AdaptiveMaxPool2d(1),
    Flatten, Dropout, Linear). Les sorties des deux modèles sont comparées : un écart
    supérieur à ``atol`` lève une erreur.
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise LabkitError(f"`model` doit être un torch.nn.Sequential (comme labkit.torch.make_cnn), reçu {type(model).__name__}.")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in input_shape
    ):
        raise LabkitError(f"`input_shape` doit être (hauteur, largeur, canaux), des entiers positifs ; reçu {input_shape!r}.")
    input_shape = tuple(int(d) for d in input_shape)
    atol = validate_float("atol", atol, minimum=0, exclusive_minimum=True)
    if model.training:
        raise LabkitError("`model` est en mode entraînement : appelez `model.eval()` avant la conversion.")
    layers, weights = [keras.Input(shape=tuple(input_shape))], []
    modules = list(model)
    for i, module in enumerate(modules):
        if isinstance(module, nn.Conv2d):
            if module.kernel_size != (3, 3) or module.padding != (1, 1) or module.stride != (1, 1) or module.groups != 1:
                raise LabkitError(f"Couche {i} ({module}) : seules les convolutions 3×3, pas 1, remplissage 1 sont reconnues.")
            layers.append(keras.layers.Conv2D(module.out_channels, 3, padding="same", use_bias=module.bias is not None))
            kernel = module.weight.detach().numpy().transpose(2, 3, 1, 0)  # (O, I, h, l) -> (h, l, I, O)
            weights.append([kernel] + ([module.bias.detach().numpy()] if module.bias is not None else []))
        elif isinstance(module, nn.BatchNorm2d):
            layers.append(keras.layers.BatchNormalization(momentum=1 - (module.momentum or 0.1), epsilon=module.eps))
            weights.append([t.detach().numpy() for t in (module.weight, module.bias, module.running_mean, module.running_var)])
        elif isinstance(module, nn.ReLU):
            layers.append(keras.layers.ReLU())
            weights.append(None)
        elif isinstance(module, nn.MaxPool2d) and module.kernel_size in (2, (2, 2)) and module.stride in (2, (2, 2)):
            layers.append(keras.layers.MaxPooling2D(2))
            weights.append(None)
        elif isinstance(module, nn.AdaptiveMaxPool2d) and module.output_size in (1, (1, 1)):
            if i + 1 >= len(modules) or not isinstance(modules[i + 1], nn.Flatten):
                raise LabkitError(f"Couche {i} : AdaptiveMaxPool2d(1) doit être suivie de Flatten.")
            layers.append(keras.layers.GlobalMaxPooling2D())
            weights.append(None)
        elif isinstance(module, nn.Flatten) and i > 0 and isinstance(modules[i - 1], nn.AdaptiveMaxPool2d):
            continue
        elif isinstance(module, nn.Dropout):
            layers.append(keras.layers.Dropout(module.p))
            weights.append(None)
        elif isinstance(module, nn.Linear):
            layers.append(keras.layers.Dense(module.out_features))
            weights.append([module.weight.detach().numpy().T, module.bias.detach().numpy()])
        else:
            raise LabkitError(
                f"Couche {i} ({type(module).__name__}) non reconnue : from_torch ne convertit que les CNN de labkit.torch.make_cnn."
            )
    converted = keras.Sequential(layers, name=name)
    for layer, values in zip(converted.layers, weights):
        if values is not None:
            layer.set_weights(values)
    probe = np.random.default_rng(0).normal(size=(2, *input_shape)).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(probe.transpose(0, 3, 1, 2).copy())).numpy()
    gap = float(np.abs(np.asarray(converted(probe, training=False)) - expected).max())
    if gap > atol:
        raise LabkitError(f"Conversion infidèle : écart maximal {gap:.2e} > tolérance {atol:g} entre PyTorch et Keras.")
    return converted
