"""Le projet final (notebook 12) : juger un modèle livré contre le budget de la ligne.

Les mêmes fonctions servent à l'étudiant (sur les images de contrôle de la ligne) et à la
correction (sur des images de la ligne qu'elle génère elle-même) :

- :func:`evaluate_artifact` : précision et rappel de chaque classe d'un artefact ONNX ;
- :func:`reference_artifact` : le modèle de référence du budget de latence, exporté à l'identique partout ;
- :func:`latency_ratio` : latence de l'artefact (lot de 1, un fil) divisée par celle de la référence,
  mesurées en alternance dans la même exécution : le rapport ne dépend presque pas de la machine ;
- :func:`budget_table` : chaque critère du budget, la valeur mesurée, la limite et le verdict ;
- :func:`artifact_fingerprint` : l'empreinte d'un fichier (le rapport nomme l'artefact qu'il décrit) ;
- :func:`budget_measurements` : les mesures d'un tableau de budget, avec leur provenance, pour le rapport.

>>> from labkit.project import artifact_fingerprint
>>> len(artifact_fingerprint(__file__))
16
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from .errors import LabkitError
from .validation import validate_file, validate_int

#: Largeur du CNN de référence (celui des notebooks 10 et 11, en 64×64) pour le budget de latence.
REFERENCE_WIDTH = 32
REFERENCE_INPUT_SIZE = 64


def artifact_fingerprint(path) -> str:
    """Les 16 premiers caractères hexadécimaux du SHA-256 du fichier ``path``."""
    return hashlib.sha256(validate_file("path", path).read_bytes()).hexdigest()[:16]


def size_kb(path) -> float:
    """Taille du modèle en ko (1 ko = 1 000 octets) : le fichier, plus les fichiers de poids externes qu'il nomme.

    Un ONNX peut ranger ses poids à côté de lui (*external data*) : ils comptent dans la taille livrée.
    """
    path = validate_file("path", path)
    total = path.stat().st_size
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # pas un ONNX lisible : sa taille est celle du fichier
        return total / 1000
    locations = {entry.value for tensor in model.graph.initializer if tensor.data_location == onnx.TensorProto.EXTERNAL
                 for entry in tensor.external_data if entry.key == "location"}
    for location in locations:
        external = path.parent / location
        total += external.stat().st_size if external.is_file() else 0
    return total / 1000


def _model_bytes(path: Path) -> bytes:
    """Le modèle ONNX sans ses métadonnées (date d'export…) ; les octets du fichier s'il n'est pas lisible en ONNX."""
    try:
        import onnx

        model = onnx.load(str(path))
    except Exception:  # pas un ONNX lisible : la correction échouera plus loin, avec son propre message
        return path.read_bytes()
    del model.metadata_props[:]
    return model.SerializeToString()


def artifact_seed(path, salt: str) -> int:
    """Une graine tirée du modèle de l'artefact (graphe et poids) et de ``salt`` : connue seulement une fois le modèle écrit.

    La correction génère ses images de la ligne avec cette graine : on ne peut pas entraîner un
    modèle sur les images qui le jugeront, puisqu'elles dépendent de ses poids. Les métadonnées
    (la date d'export) n'y entrent pas : le même entraînement, réexporté, est jugé sur les mêmes images.
    """
    digest = hashlib.sha256(salt.encode() + _model_bytes(validate_file("path", path))).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _prepared(artifact, data) -> tuple[np.ndarray, np.ndarray]:
    from .serve.preprocess import preprocess_arrays

    meta = artifact.metadata
    x = preprocess_arrays(data.images, input_size=meta.input_size, mean=meta.mean, std=meta.std)
    return x, np.asarray(data.labels)


def evaluate_artifact(path, data, *, batch_size: int = 256) -> dict:
    """Précision, rappel de chaque classe et prédictions d'un artefact sur ``data`` (un ``PCBDefects``).

    Les images passent par le prétraitement du service, avec la taille d'entrée et la
    normalisation écrites dans l'artefact. Renvoie ``{"accuracy", "class_recall", "min_class_recall",
    "predictions"}``.
    """
    from .serve.artifact import load_artifact

    batch_size = validate_int("batch_size", batch_size, minimum=1)
    if not hasattr(data, "images") or not hasattr(data, "labels"):
        raise LabkitError(f"`data` doit être un jeu d'images étiquetées (PCBDefects), reçu {type(data).__name__}.")
    if len(data.labels) == 0:
        raise LabkitError("`data` est vide : il faut au moins une image étiquetée.")
    artifact = load_artifact(validate_file("path", path))
    x, y = _prepared(artifact, data)
    predictions = np.concatenate([artifact.predict_proba(x[i : i + batch_size]).argmax(axis=1)
                                  for i in range(0, len(x), batch_size)])
    n_classes = len(artifact.metadata.class_names)
    present = [c for c in range(n_classes) if (y == c).any()]
    recall = np.full(n_classes, np.nan)
    recall[present] = [float((predictions[y == c] == c).mean()) for c in present]
    return {"accuracy": float((predictions == y).mean()), "class_recall": recall,
            "min_class_recall": float(recall[present].min()), "predictions": predictions}


def reference_artifact(path) -> Path:
    """Exporte le modèle de référence du budget de latence en ``path`` (ONNX fp32, entrée 64×64).

    C'est le CNN du cours (``make_cnn``, largeur 32), tel que livré avant l'amélioration. Ses poids,
    tirés d'une graine fixe, ne comptent pas : il ne sert qu'à mesurer une latence de comparaison.
    """
    import torch

    from .serve.artifact import export_classifier
    from .torch import make_cnn

    with torch.random.fork_rng():  # ne touche pas à l'état aléatoire du notebook
        torch.manual_seed(0)
        model = make_cnn(width=REFERENCE_WIDTH).eval()
    return export_classifier(model, path, name="reference", version="1.0.0", mean=0.5, std=0.25,
                             input_size=REFERENCE_INPUT_SIZE)


def _median_ms(session, name, batch, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {name: batch})
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def latency_ratio(path, reference_path, *, runs: int = 100, rounds: int = 7, warmup: int = 20) -> dict:
    """Latence d'une image (lot de 1, un fil, ONNX Runtime) de ``path`` divisée par celle de ``reference_path``.

    Les deux modèles sont mesurés **en alternance** (``rounds`` tours de ``runs`` appels chacun,
    après ``warmup`` appels d'échauffement) : une machine lente ou chargée ralentit les deux. Renvoie
    la médiane des rapports de chaque tour (``ratio``), leur minimum et maximum, et les latences
    médianes (ms, pour information : elles dépendent de la machine, le rapport presque pas).
    """
    from .serve.artifact import load_artifact

    runs = validate_int("runs", runs, minimum=5)
    rounds = validate_int("rounds", rounds, minimum=1)
    warmup = validate_int("warmup", warmup, minimum=0)
    models, rng = {}, np.random.default_rng()  # une image que le modèle ne peut pas reconnaître d'avance
    files = (("model", validate_file("path", path)), ("reference", validate_file("reference_path", reference_path)))
    for key, file in files:
        artifact = load_artifact(file, threads=1)
        size = artifact.metadata.input_size
        batch = rng.standard_normal((1, 1, size, size)).astype(np.float32)
        models[key] = (artifact.session, artifact.input_name, batch)
    for session, name, batch in models.values():
        for _ in range(warmup):
            session.run(None, {name: batch})
    ratios, medians = [], {"model": [], "reference": []}
    for round_index in range(rounds):
        order = ("model", "reference") if round_index % 2 == 0 else ("reference", "model")  # l'ordre alterne aussi
        for key in order:
            session, name, batch = models[key]
            medians[key].append(_median_ms(session, name, batch, runs))
        ratios.append(medians["model"][-1] / medians["reference"][-1])
    return {"ratio": float(np.median(ratios)), "ratio_min": float(min(ratios)), "ratio_max": float(max(ratios)),
            "model_ms": float(np.median(medians["model"])), "reference_ms": float(np.median(medians["reference"])),
            "rounds": rounds, "runs": runs}


def budget_table(path, data, reference_path, budget, *, latency=None):
    """Chaque critère du budget : valeur mesurée, limite, verdict (tableau pandas indexé par critère).

    ``data`` : images étiquetées de la ligne ; ``budget`` : un ``LineBudget`` ;
    ``latency`` : un résultat de :func:`latency_ratio` déjà mesuré (sinon il est mesuré ici).
    """
    import pandas as pd

    from .datasets.line import LineBudget
    from .report.model import format_number

    if not isinstance(budget, LineBudget):
        raise LabkitError(f"`budget` doit être un LineBudget (project.budget), reçu {type(budget).__name__}.")
    scores = evaluate_artifact(path, data)
    latency = latency_ratio(path, reference_path) if latency is None else latency
    if not isinstance(latency, dict) or "ratio" not in latency:
        raise LabkitError(f"`latency` doit être le résultat de latency_ratio (un dictionnaire avec « ratio »), reçu {latency!r:.80}.")
    rows = [
        ("précision sur la ligne", scores["accuracy"], f"≥ {format_number(budget.min_accuracy, 2)}",
         scores["accuracy"] >= budget.min_accuracy),
        ("rappel minimal par classe", scores["min_class_recall"], f"≥ {format_number(budget.min_class_recall, 2)}",
         scores["min_class_recall"] >= budget.min_class_recall),
        ("latence b1 / latence de la référence", latency["ratio"], f"≤ {format_number(budget.max_latency_ratio, 2)}",
         latency["ratio"] <= budget.max_latency_ratio),
        ("taille du fichier (ko)", size_kb(path), f"≤ {budget.max_size_kb:.0f}", size_kb(path) <= budget.max_size_kb),
    ]
    table = pd.DataFrame(rows, columns=["critère", "mesure", "limite", "tenu"]).set_index("critère")
    table["tenu"] = table["tenu"].map({True: "✅", False: "❌"})
    return table


#: Les grandeurs du budget, dans l'ordre de :func:`budget_table` : (critère du tableau, grandeur du rapport, unité).
BUDGET_QUANTITIES = (
    ("précision sur la ligne", "précision sur la ligne", "proportion"),
    ("rappel minimal par classe", "rappel minimal par classe", "proportion"),
    ("latence b1 / latence de la référence", "latence b1 / latence de la référence", ""),
    ("taille du fichier (ko)", "taille du fichier", "ko"),
)


def budget_measurements(table, *, data, artifact) -> dict:
    """Les mesures d'un :func:`budget_table`, en :class:`labkit.report.Measurement` prêtes pour un rapport.

    ``data`` : le :class:`labkit.report.DataRef` des images mesurées ; ``artifact`` : le fichier mesuré,
    nommé par son empreinte dans la provenance. Renvoie ``{grandeur du rapport: Measurement}``.
    """
    import datetime as _dt

    from .report.model import DataRef, Machine, Measurement, Source

    artifact = validate_file("artifact", artifact)
    if not isinstance(data, DataRef):
        raise LabkitError(f"`data` doit être un DataRef de labkit.report (les images mesurées), reçu {type(data).__name__}.")
    if not hasattr(table, "index") or "mesure" not in getattr(table, "columns", ()):
        raise LabkitError("`table` doit être le tableau de labkit.project.budget_table (colonnes « mesure », « limite », « tenu »).")
    machine = Machine.current()
    measured_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    source = Source("compare", f"budget_table · {artifact.name} · {artifact_fingerprint(artifact)}")
    measurements = {}
    for criterion, quantity, unit in BUDGET_QUANTITIES:
        if criterion not in table.index:
            raise LabkitError(f"`table` n'a pas la ligne « {criterion} » : passez le tableau de labkit.project.budget_table.")
        engine = "ONNX Runtime" if "latence" in criterion else None
        threads = 1 if "latence" in criterion else None
        measurements[quantity] = Measurement(float(table.loc[criterion, "mesure"]), unit, quantity, data, machine, source,
                                             measured_at, engine=engine, threads=threads)
    return measurements


__all__ = [
    "BUDGET_QUANTITIES",
    "REFERENCE_INPUT_SIZE",
    "REFERENCE_WIDTH",
    "artifact_fingerprint",
    "artifact_seed",
    "budget_measurements",
    "budget_table",
    "evaluate_artifact",
    "latency_ratio",
    "reference_artifact",
    "size_kb",
]
