"""Artefact de modèle : **un seul fichier ONNX** qui porte aussi tout ce qu'il faut pour s'en servir.

Un modèle servi sans ses métadonnées est un piège : quelle taille d'image ? quelle
normalisation ? dans quel ordre sont les classes ? Ici, tout voyage dans le fichier,
dans les ``metadata_props`` d'ONNX (clés ``labkit.*``) : nom, version, format
(``onnx-fp32`` ou ``onnx-int8``), taille d'entrée, noms des classes (et leurs noms
français), moyenne et écart-type **des données d'entraînement**, version de labkit,
date de création.

:func:`export_classifier` écrit l'artefact (PyTorch et ``onnx`` nécessaires) ;
:func:`load_artifact` le relit avec ONNX Runtime seul : le service n'importe ni
PyTorch ni ``onnx``.

>>> import torch
>>> from labkit.torch import make_cnn
>>> from labkit.optimize.measure import temporary_path
>>> path = export_classifier(make_cnn(width=4).eval(), temporary_path(".onnx"), name="démo", version="1",
...                          mean=0.3, std=0.2)
>>> artifact = load_artifact(path)
>>> artifact.metadata.format, artifact.metadata.input_size
('onnx-fp32', 64)
>>> artifact.predict_proba(np.zeros((2, 1, 64, 64), np.float32)).shape
(2, 6)
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import LabkitError, ModelError
from ..validation import validate_array, validate_float, validate_int

__all__ = ["Artifact", "ArtifactError", "ArtifactMetadata", "FORMATS", "export_classifier", "load_artifact"]

logger = logging.getLogger("labkit.serve")

FORMATS = ("onnx-fp32", "onnx-int8")
_PREFIX = "labkit."
_REQUIRED = ("name", "version", "format", "input_size", "class_names", "class_names_fr", "mean", "std",
             "labkit_version", "created")


class ArtifactError(ModelError):
    """Artefact absent, illisible ou incomplet.

    ``reason`` résume la cause **sans le chemin du fichier** : c'est ce que le service
    peut montrer à un client sans révéler son arborescence.
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ArtifactMetadata:
    """Les métadonnées d'un artefact (voir le module)."""

    name: str
    version: str
    format: str
    input_size: int
    class_names: tuple[str, ...]
    class_names_fr: tuple[str, ...]
    mean: float
    std: float
    labkit_version: str
    created: str

    def to_props(self) -> dict[str, str]:
        """Les paires clé → texte rangées dans ``metadata_props`` (listes en JSON)."""
        props = {}
        for key, value in asdict(self).items():
            props[_PREFIX + key] = json.dumps(list(value), ensure_ascii=False) if isinstance(value, tuple) else str(value)
        return props

    @classmethod
    def from_props(cls, props: dict[str, str], path_text: str) -> "ArtifactMetadata":
        """Relit les métadonnées ; :class:`ArtifactError` si une clé manque ou est invalide."""
        missing = [k for k in _REQUIRED if _PREFIX + k not in props]
        if missing:
            raise ArtifactError(
                f"`path` : {path_text} n'a pas les métadonnées labkit ({', '.join(missing)}) ; "
                "exportez le modèle avec labkit.serve.export_classifier.",
                "métadonnées labkit absentes",
            )
        get = lambda key: props[_PREFIX + key]  # noqa: E731
        try:
            metadata = cls(
                name=get("name"), version=get("version"), format=get("format"), input_size=int(get("input_size")),
                class_names=tuple(json.loads(get("class_names"))), class_names_fr=tuple(json.loads(get("class_names_fr"))),
                mean=float(get("mean")), std=float(get("std")), labkit_version=get("labkit_version"), created=get("created"),
            )
        except (ValueError, TypeError):
            raise ArtifactError(f"`path` : métadonnées labkit invalides dans {path_text}.", "métadonnées labkit invalides") from None
        if metadata.format not in FORMATS or len(metadata.class_names) != len(metadata.class_names_fr) or metadata.std <= 0:
            raise ArtifactError(f"`path` : métadonnées labkit incohérentes dans {path_text}.", "métadonnées labkit incohérentes")
        return metadata


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Artifact:
    """Un artefact chargé : ``metadata`` et une session ONNX Runtime prête à prédire.

    Les sessions ONNX Runtime acceptent des appels simultanés depuis plusieurs fils.
    """

    def __init__(self, session, metadata: ArtifactMetadata, path: Path):
        self.session, self.metadata, self.path = session, metadata, path
        self.input_name = session.get_inputs()[0].name

    def __repr__(self) -> str:
        m = self.metadata
        return f"Artifact({m.name} v{m.version}, {m.format}, entrée {m.input_size}×{m.input_size}, {len(m.class_names)} classes)"

    def predict_proba(self, batch) -> np.ndarray:
        """Probabilités (N, classes) en ``float64`` pour un lot prétraité de forme (N, 1, S, S)."""
        size = self.metadata.input_size
        batch = validate_array("batch", batch, min_ndim=4, max_ndim=4)
        if batch.shape[1:] != (1, size, size):
            raise LabkitError(
                f"`batch` doit avoir la forme (N, 1, {size}, {size}) (voir labkit.serve.preprocess), reçu {batch.shape}."
            )
        logits = self.session.run(None, {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)})[0]
        return _softmax(logits)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_artifact(path, *, threads: int = 1) -> Artifact:
    """Charge un artefact ONNX écrit par :func:`export_classifier` (ONNX Runtime, ``threads`` fils de calcul).

    Un fichier absent, corrompu ou sans métadonnées lève :class:`ArtifactError`
    (une :class:`labkit.LabkitError`) qui nomme l'argument ``path``.
    """
    threads = validate_int("threads", threads, minimum=1, maximum=256)
    if not isinstance(path, (str, Path)):
        raise ArtifactError(f"`path` doit être un chemin de fichier, reçu {type(path).__name__}.", "chemin invalide")
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"`path` : fichier de modèle introuvable : {path}", "fichier de modèle introuvable")
    try:
        session = _session(path, threads)
    except Exception:  # ONNX Runtime lève ses propres exceptions (InvalidProtobuf, Fail…)
        raise ArtifactError(
            f"`path` : {path} n'est pas un modèle ONNX lisible (fichier corrompu ou tronqué ?).",
            "fichier ONNX illisible ou corrompu",
        ) from None
    props = dict(session.get_modelmeta().custom_metadata_map)
    metadata = ArtifactMetadata.from_props(props, str(path))
    artifact = Artifact(session, metadata, path)
    _check_runs(artifact, str(path))
    logger.info("Modèle chargé : %r (%d fil(s) de calcul).", artifact, threads)
    return artifact


def _check_runs(artifact: Artifact, path_text: str) -> None:
    """Une prédiction à blanc : un modèle qui se charge mais ne calcule pas est refusé dès le chargement."""
    size = artifact.metadata.input_size
    try:
        probabilities = artifact.predict_proba(np.zeros((1, 1, size, size), np.float32))
    except Exception:
        raise ArtifactError(f"`path` : le modèle {path_text} ne s'exécute pas sur une entrée {size}×{size}.",
                            "le modèle ne s'exécute pas") from None
    if probabilities.shape != (1, len(artifact.metadata.class_names)):
        raise ArtifactError(
            f"`path` : le modèle {path_text} renvoie {probabilities.shape[1]} sorties pour "
            f"{len(artifact.metadata.class_names)} classes déclarées.",
            "nombre de sorties incohérent",
        )


def _write_metadata(source: Path, target: Path, metadata: ArtifactMetadata) -> None:
    import onnx

    proto = onnx.load(str(source))
    del proto.metadata_props[:]
    for key, value in metadata.to_props().items():
        proto.metadata_props.add(key=key, value=value)
    proto.producer_name = "labkit"
    proto.doc_string = f"{metadata.name} {metadata.version} ({metadata.format})"
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(target))


def _class_names(class_names, class_names_fr) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from ..datasets.pcb import DEFECT_LABELS_FR

    if isinstance(class_names, str) or not all(isinstance(c, str) and c for c in class_names):
        raise LabkitError("`class_names` doit être une liste de noms de classes (textes non vides).")
    names = tuple(class_names)
    if class_names_fr is None:
        class_names_fr = [DEFECT_LABELS_FR.get(c, c) for c in names]
    if isinstance(class_names_fr, str) or len(class_names_fr) != len(names) or not all(isinstance(c, str) for c in class_names_fr):
        raise LabkitError(f"`class_names_fr` doit donner un nom français pour chacune des {len(names)} classes.")
    return names, tuple(class_names_fr)


def export_classifier(model, path, *, name: str, version: str, mean: float, std: float, calibration=None,
                      input_size: int = 64, class_names=None, class_names_fr=None) -> Path:
    """Exporte un classifieur PyTorch en artefact ONNX unique, métadonnées comprises.

    - ``mean``, ``std`` : statistiques de normalisation calculées **sur les données
      d'entraînement seulement** (:func:`labkit.serve.preprocess.normalization_stats`) ;
    - ``calibration`` : ``None`` pour un artefact ``onnx-fp32`` ; un lot d'images
      prétraitées (N, 1, S, S), N ≥ 8, pour un artefact ``onnx-int8`` statique
      (:func:`labkit.optimize.quantize.quantize_onnx_static`) ;
    - ``class_names`` : défaut les six défauts de PCB ; ``class_names_fr`` : défaut
      leurs noms français (ou le nom lui-même s'il n'est pas connu).

    Renvoie le chemin écrit. Exemple en tête du module.
    """
    import labkit

    from ..datasets.pcb import DEFECT_CLASSES
    from ..optimize.export import export_onnx

    if not isinstance(name, str) or not name.strip():
        raise LabkitError(f"`name` doit être un texte non vide, reçu {name!r}.")
    if not isinstance(version, str) or not version.strip():
        raise LabkitError(f"`version` doit être un texte non vide (par exemple \"1.0.0\"), reçu {version!r}.")
    mean = validate_float("mean", mean, minimum=0, maximum=1)
    std = validate_float("std", std, minimum=0, maximum=1, exclusive_minimum=True)
    input_size = validate_int("input_size", input_size, minimum=8, maximum=1024)
    names, names_fr = _class_names(DEFECT_CLASSES if class_names is None else class_names, class_names_fr)
    if calibration is not None:
        calibration = validate_array("calibration", calibration, min_ndim=4, max_ndim=4).astype(np.float32)
        if calibration.shape[1:] != (1, input_size, input_size):
            raise LabkitError(f"`calibration` doit avoir la forme (N, 1, {input_size}, {input_size}), reçu {calibration.shape}.")
    path = Path(path)
    metadata = ArtifactMetadata(
        name=name.strip(), version=version.strip(), format="onnx-fp32" if calibration is None else "onnx-int8",
        input_size=input_size, class_names=names, class_names_fr=names_fr, mean=mean, std=std,
        labkit_version=labkit.__version__, created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    with tempfile.TemporaryDirectory(prefix="labkit-export-") as tmp:
        example = calibration[:8] if calibration is not None else np.random.default_rng(0).standard_normal(
            (2, 1, input_size, input_size)).astype(np.float32)
        fp32 = export_onnx(model, example, Path(tmp) / "fp32.onnx")
        source = fp32
        if calibration is not None:
            from ..optimize.quantize import quantize_onnx_static

            source = quantize_onnx_static(fp32, calibration, Path(tmp) / "int8.onnx")
        _write_metadata(source, path, metadata)
    artifact = load_artifact(path)  # relecture : l'artefact écrit doit se charger et calculer
    logger.info("Artefact écrit : %r", artifact)
    return path
