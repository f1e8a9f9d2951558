"""Protocole de mesure : taille, latence, précision — le même pour PyTorch, ONNX Runtime et LiteRT.

Règles (la page « Mesurer honnêtement » du site les explique) : nombre de fils fixé (1 par défaut),
échauffement, médiane et 90ᵉ centile sur assez d'exécutions, environnement noté,
et chaque variante comparée à la référence fp32 **exécutée par le même moteur**.

>>> import numpy as np
>>> runner = FunctionRunner(lambda x: np.zeros((len(x), 6), dtype=np.float32), name="zéro")
>>> stats = measure_latency(runner, np.zeros((1, 1, 8, 8), np.float32), runs=5, warmup=1)
>>> sorted(stats)
['batch', 'median_ms', 'p90_ms', 'runs', 'threads']
"""

from __future__ import annotations

import io
import os
import platform
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import LabkitError
from ..validation import validate_array, validate_int, validate_labels


class Runner:
    """Un modèle prêt à prédire : ``runner(x)`` renvoie les logits (tableau NumPy) d'un lot ``x``."""

    name: str = "modèle"
    engine: str = "?"

    def __call__(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def set_threads(self, threads: int) -> None:
        """Fixe le nombre de fils du moteur (1 par défaut pour des mesures stables)."""

    def shared_threads(self) -> int | None:
        """Le nombre de fils que ce moteur partage avec le reste du notebook (PyTorch : un réglage global),
        ``None`` quand le moteur a les siens (une session ONNX Runtime, un interpréteur LiteRT)."""
        return None

    def size_bytes(self) -> int | None:
        """Taille sérialisée, en octets, ou ``None`` si elle n'a pas de sens."""
        return None

    def zipped_bytes(self) -> int | None:
        """Taille une fois compressée (zip, deflate) : là où les zéros d'un modèle élagué se voient."""
        return None


@dataclass
class FunctionRunner(Runner):
    """Enveloppe une fonction ``f(x) -> logits`` (pour les tests et les comparaisons simples)."""

    function: object
    name: str = "fonction"
    engine: str = "Python"

    def __call__(self, x):
        return np.asarray(self.function(x))


def _zip_size(payload: bytes) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("model", payload)
    return len(buffer.getvalue())


class TorchRunner(Runner):
    """Un ``torch.nn.Module`` en mode évaluation, exécuté sans gradient.

    La taille est celle du ``state_dict`` sauvegardé (``torch.save``) : les poids, sans
    le code. Un modèle élagué structurellement a des couches plus petites ; pour le
    recharger, sauvegardez le module entier, car ses formes ont changé.

    Le protocole mesure sur le processeur : un modèle entraîné sur GPU est mesuré sur
    une **copie** placée sur le CPU (le modèle d'origine ne bouge pas).
    """

    engine = "PyTorch (eager)"

    def __init__(self, model, name: str = "PyTorch", engine: str | None = None):
        import torch

        if not isinstance(model, torch.nn.Module):
            raise LabkitError(f"`model` doit être un torch.nn.Module, reçu {type(model).__name__}.")
        if model.training:
            raise LabkitError("`model` est en mode entraînement : appelez `model.eval()` avant de le mesurer (dropout, BatchNorm).")
        if any(p.device.type != "cpu" for p in model.parameters()):
            import copy

            model = copy.deepcopy(model).cpu()
        self.model, self.name = model, name
        if engine:
            self.engine = engine

    def __call__(self, x):
        import torch

        x = np.ascontiguousarray(x, dtype=np.float32)
        try:
            with torch.inference_mode():
                return self.model(torch.from_numpy(x)).float().numpy()
        except RuntimeError as error:  # formes incompatibles : le message de PyTorch est en anglais et cryptique
            raise LabkitError(
                f"Le modèle « {self.name} » refuse des entrées de forme {tuple(x.shape)} : {str(error).splitlines()[0]}"
            ) from None

    def set_threads(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)

    def shared_threads(self) -> int:
        import torch

        return torch.get_num_threads()

    def _payload(self) -> bytes:
        import torch

        buffer = io.BytesIO()
        torch.save(self.model.state_dict(), buffer)
        return buffer.getvalue()

    def size_bytes(self) -> int:
        return len(self._payload())

    def zipped_bytes(self) -> int:
        return _zip_size(self._payload())


class _FileRunner(Runner):
    """Un modèle sérialisé dans un fichier : la taille mesurée est celle du fichier."""

    file_kind = "modèle"

    def __init__(self, path, name: str, threads: int = 1):
        path = Path(path)
        if not path.is_file():
            raise LabkitError(f"`path` : fichier {self.file_kind} introuvable : {path}")
        self.path, self.name = path, name
        self.set_threads(threads)

    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def zipped_bytes(self) -> int:
        return _zip_size(self.path.read_bytes())


class OnnxRunner(_FileRunner):
    """Une session ONNX Runtime (CPU) sur un fichier ``.onnx``."""

    engine = "ONNX Runtime"
    file_kind = "ONNX"

    def __init__(self, path, name: str = "ONNX", threads: int = 1):
        super().__init__(path, name, threads)

    def set_threads(self, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        expected = self.session.get_inputs()[0].shape[1:]
        if x.ndim != len(expected) + 1 or any(isinstance(d, int) and d != got for d, got in zip(expected, x.shape[1:])):
            raise LabkitError(f"Le modèle ONNX « {self.name} » attend des exemples de forme {tuple(expected)}, reçu {tuple(x.shape[1:])}.")
        return self.session.run(None, {self.input_name: x})[0]


class LiteRTRunner(_FileRunner):
    """Un modèle LiteRT (``.tflite``) exécuté par l'interpréteur d'``ai-edge-litert``.

    Accepte les images du cours rangées (N, C, H, W) comme celles de Keras (N, H, W, C) :
    elles sont transposées si c'est ce que le modèle attend. L'interpréteur a des formes
    fixes ; un lot d'une autre taille le redimensionne (une fois par taille).
    """

    engine = "LiteRT"
    file_kind = "LiteRT"

    def __init__(self, path, name: str = "LiteRT", threads: int = 1):
        super().__init__(path, name, threads)

    def set_threads(self, threads: int) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise LabkitError(
                'L\'interpréteur LiteRT manque : installez-le avec pip install "ameliorer-dl[tf]" (paquet ai-edge-litert).'
            ) from None
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.example_shape = tuple(int(d) for d in self.input["shape"][1:])

    def _arrange(self, x: np.ndarray) -> np.ndarray:
        if tuple(x.shape[1:]) == self.example_shape:
            return x
        if x.ndim == 4 and tuple(x.shape[1:]) == (self.example_shape[2], *self.example_shape[:2]):
            return x.transpose(0, 2, 3, 1)
        raise LabkitError(f"Le modèle LiteRT attend des exemples de forme {self.example_shape}, reçu {tuple(x.shape[1:])}.")

    def __call__(self, x):
        x = np.ascontiguousarray(self._arrange(np.asarray(x, dtype=np.float32)))
        if int(self.input["shape"][0]) != len(x):
            self.interpreter.resize_tensor_input(self.input["index"], [len(x), *self.example_shape])
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
            self.output = self.interpreter.get_output_details()[0]
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"]).copy()


def as_runner(model, name: str | None = None) -> Runner:
    """Accepte un :class:`Runner`, un ``torch.nn.Module`` ou un chemin de fichier ``.onnx`` ou ``.tflite``."""
    if isinstance(model, Runner):
        return model
    if isinstance(model, (str, Path)) and str(model).endswith(".onnx"):
        return OnnxRunner(model, name=name or Path(model).stem)
    if isinstance(model, (str, Path)) and str(model).endswith(".tflite"):
        return LiteRTRunner(model, name=name or Path(model).stem)
    if type(model).__module__.startswith("torch") or hasattr(model, "state_dict"):
        return TorchRunner(model, name=name or type(model).__name__)
    raise LabkitError(
        f"`model` doit être un torch.nn.Module, un chemin vers un fichier .onnx ou .tflite, ou un Runner de "
        f"labkit, reçu {type(model).__name__}."
    )


_ENGINES = {
    "torch": ("torch",),
    "onnxruntime": ("onnxruntime",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "litert": ("ai-edge-litert",),
}


def environment() -> dict:
    """Ce qui a servi à mesurer : processeur, cœurs, versions (à noter à côté de chaque chiffre)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"processeur": cpu, "cœurs": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}
    # Versions lues dans les métadonnées : noter l'environnement n'importe aucun cadre.
    from importlib.metadata import PackageNotFoundError, version

    for key, distributions in _ENGINES.items():
        for distribution in distributions:
            try:
                info[key] = version(distribution)
                break
            except PackageNotFoundError:
                pass
    return info


@contextmanager
def measuring_threads(runner: Runner, threads: int):
    """Le temps d'une mesure, ``runner`` calcule sur ``threads`` fils ; ensuite, le notebook retrouve les siens.

    PyTorch règle ses fils pour tout le processus : sans cette restitution, un entraînement
    lancé après une mesure sur un fil tournerait lui aussi sur un fil (deux fois plus lent).
    """
    previous = runner.shared_threads()
    runner.set_threads(threads)
    try:
        yield runner
    finally:
        if previous is not None and previous != threads:
            runner.set_threads(previous)


def measure_latency(runner, batch, *, runs: int = 50, warmup: int = 5, threads: int = 1) -> dict:
    """Latence d'un lot : ``warmup`` exécutions ignorées, puis médiane et 90ᵉ centile sur ``runs`` (en ms).

    La mesure se fait sur ``threads`` fils (1 par défaut) ; le nombre de fils d'entraînement du
    notebook est rétabli après (:func:`measuring_threads`).
    """
    runner = as_runner(runner)
    batch = validate_array("batch", batch, min_ndim=2).astype(np.float32)
    runs = validate_int("runs", runs, minimum=3)
    warmup = validate_int("warmup", warmup, minimum=0)
    threads = validate_int("threads", threads, minimum=1)
    times = []
    with measuring_threads(runner, threads):
        for _ in range(warmup):
            runner(batch)
        for _ in range(runs):
            start = time.perf_counter()
            runner(batch)
            times.append((time.perf_counter() - start) * 1000)
    return {
        "batch": len(batch),
        "threads": threads,
        "runs": runs,
        "median_ms": float(np.median(times)),
        "p90_ms": float(np.percentile(times, 90)),
    }


def accuracy(runner, x, y, *, batch_size: int = 256) -> float:
    """Précision de ``runner`` sur (x, y), par lots."""
    runner = as_runner(runner)
    x = validate_array("x", x, min_ndim=2).astype(np.float32)
    y = validate_labels("y", y, length=len(x))
    correct = 0
    for start in range(0, len(x), batch_size):
        correct += int((runner(x[start : start + batch_size]).argmax(axis=1) == y[start : start + batch_size]).sum())
    return correct / len(x)


def _parameters(model) -> int | None:
    """Paramètres entraînables d'un module PyTorch (:func:`labkit.torch.count_parameters`), ``None`` pour un autre moteur."""
    if hasattr(model, "parameters"):
        from ..torch import count_parameters

        return count_parameters(model)
    return None


@dataclass
class Comparison:
    """Le résultat de :func:`compare` : un ``DataFrame``, sa version Markdown et la figure du compromis."""

    table: object
    environment: dict = field(default_factory=dict)

    def to_markdown(self) -> str:
        from .._tables import markdown_table

        return markdown_table(self.table, ".3g")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def plot(self, x: str = "latence b1 (ms)", y: str = "précision"):
        """Compromis précision / latence (ou taille) : un point numéroté par variante, la légende à droite.

        Des étiquettes posées à côté des points se chevauchent dès que deux variantes se
        ressemblent (fp32 PyTorch et ONNX Runtime) : chaque point porte un numéro, la légende
        donne le nom complet.
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter

        if x not in self.table.columns or y not in self.table.columns:
            raise LabkitError(f"`x` et `y` doivent être des colonnes du tableau : {list(self.table.columns)}.")
        fig, ax = plt.subplots(figsize=(8.5, 4))
        markers = "osD^v<>Pp*hX"
        for number, (name, row) in enumerate(self.table.iterrows(), start=1):
            ax.scatter(row[x], row[y], marker=markers[(number - 1) % len(markers)], s=55, label=f"{number}. {name}", zorder=3)
            ax.annotate(str(number), (row[x], row[y]), textcoords="offset points", xytext=(5, 5 if number % 2 else -12), fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}".replace(".", ","))
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        fig.tight_layout()
        return fig


def compare(
    variants: dict,
    x_test,
    y_test,
    *,
    batch_sizes=(1, 64),
    runs: int = 50,
    warmup: int = 5,
    threads: int = 1,
    reference: str | None = None,
    progress: bool = True,
) -> Comparison:
    """Mesure chaque variante ``{nom: modèle}`` avec le même protocole et renvoie le tableau comparatif.

    Colonnes : moteur, paramètres, taille (ko), taille zippée (ko), précision, latence
    médiane et p90 pour chaque taille de lot. Avec ``reference`` (un nom), ajoute les
    rapports de taille et de vitesse par rapport à elle ; ne comparez que des
    variantes exécutées par le même moteur.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if not isinstance(variants, dict) or not variants:
        raise LabkitError("`variants` doit être un dictionnaire non vide {nom: modèle}.")
    if reference is not None and reference not in variants:
        raise LabkitError(f"`reference` doit être l'un des noms de `variants` : {list(variants)} ; reçu {reference!r}.")
    x_test = validate_array("x_test", x_test, min_ndim=2).astype(np.float32)
    rows = {}
    for name, model in tqdm(variants.items(), desc="mesures", disable=not progress, leave=False):
        runner = as_runner(model, name)
        row = {
            "moteur": runner.engine,
            "paramètres": _parameters(getattr(runner, "model", None)),
            "taille (ko)": (runner.size_bytes() or np.nan) / 1000,
            "zippé (ko)": (runner.zipped_bytes() or np.nan) / 1000,
        }
        with measuring_threads(runner, threads):
            row["précision"] = accuracy(runner, x_test, y_test)
            for b in batch_sizes:
                stats = measure_latency(runner, x_test[:b], runs=runs, warmup=warmup, threads=threads)
                row[f"latence b{b} (ms)"] = stats["median_ms"]
                row[f"p90 b{b} (ms)"] = stats["p90_ms"]
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.index.name = "variante"
    if reference is not None:
        ref = table.loc[reference]
        table["× plus petit (zippé)"] = ref["zippé (ko)"] / table["zippé (ko)"]
        for b in batch_sizes:
            table[f"× plus rapide b{b}"] = ref[f"latence b{b} (ms)"] / table[f"latence b{b} (ms)"]
    numeric = [c for c in table.columns if c != "moteur"]
    table[numeric] = table[numeric].apply(pd.to_numeric)
    return Comparison(table, environment())


def temporary_path(suffix: str) -> Path:
    """Un chemin de fichier temporaire (le dossier est nettoyé par le système)."""
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="labkit-")
    os.close(handle)
    return Path(name)
