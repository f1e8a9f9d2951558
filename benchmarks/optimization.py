"""Banc d'essai de l'optimisation : quantification, QAT, élagage, distillation, sur les images de PCB.

    .venv/bin/python benchmarks/optimization.py            # configuration complète (< 15 min, 2 cœurs)
    .venv/bin/python benchmarks/optimization.py --smoke    # mode rapide (tests)
    .venv/bin/python benchmarks/optimization.py --config reglages.yaml   # d'autres réglages (YAML validé)

Un professeur (``make_cnn``) est entraîné, puis chaque technique est appliquée et
mesurée avec le protocole de :mod:`labkit.optimize.measure` : un fil, échauffement,
médianes. Chaque variante est comparée au fp32 **exécuté par le même moteur**
(ONNX Runtime contre ONNX Runtime, PyTorch eager contre PyTorch eager, LiteRT contre
LiteRT). Le chemin LiteRT part du **même professeur**, copié en Keras 3
(:func:`labkit.keras.from_torch`, vérifié à 1e-4 près) puis converti par Keras. Écrit
``benchmarks/results/optimization.md`` et ``optimization.png`` (``--smoke`` :
``optimization_smoke.*``, non versionnés), avec la machine et le verdict de chaque objectif.

Les réglages sont un schéma validé (:class:`OptimizationConfig`, :mod:`labkit.config`) :
``FULL`` et ``SMOKE`` en sont deux instances, et un fichier YAML passé par ``--config``
(les champs absents prennent la valeur de ``FULL``) est vérifié avant la première mesure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pydantic import Field

from labkit.config import Schema, load_config
from labkit.errors import ConfigError

RESULTS = Path(__file__).resolve().parent / "results"


class OptimizationConfig(Schema):
    """Les réglages du banc : tailles des jeux, largeurs et époques des modèles, taux d'élagage, répétitions."""

    n_train: int = Field(3000, ge=100)
    n_val: int = Field(1000, ge=100)
    n_transfer: int = Field(6000, ge=100)
    difficulty: float = Field(0.5, ge=0, le=1)
    teacher_width: int = Field(48, ge=2)
    teacher_epochs: int = Field(10, ge=1)
    student_width: int = Field(8, ge=1)
    student_epochs: int = Field(24, ge=1)
    finetune_epochs: int = Field(4, ge=1)
    n_qat: int = Field(1500, ge=100)
    qat_epochs: int = Field(1, ge=1)
    low_bits: int = Field(3, ge=2, le=7)
    low_bits_epochs: int = Field(1, ge=1)
    runs: int = Field(40, ge=3)
    sparsity: float = Field(0.8, gt=0, lt=1)
    keep_ratio: float = Field(0.5, gt=0, le=1)


FULL = OptimizationConfig()
SMOKE = OptimizationConfig(
    n_train=1000,
    n_val=300,
    n_transfer=1000,
    difficulty=0.2,
    teacher_width=16,
    teacher_epochs=8,
    student_width=4,
    student_epochs=2,
    finetune_epochs=1,
    n_qat=1000,
    runs=5,
)

#: Objectifs de l'issue 4 : (description, fonction du tableau de résultats → (valeur lue, atteint ?)).
TARGETS = {
    "int8 ONNX Runtime : ≥ 3,5× plus petit, ≥ 2× plus rapide (b1 et b64), ≤ 1 point perdu": "int8",
    "int8 LiteRT (Keras 3) : ≥ 3,5× plus petit, ≥ 2× plus rapide (b1 et b64), ≤ 1 point perdu": "litert",
    "élagage non structuré : ≥ 80 % de zéros, ≤ 1 point perdu, ≥ 3× plus petit zippé": "sparse",
    "élagage structuré : ≥ 1,5× plus rapide en b1, ≤ 1 point perdu": "channels",
    "distillation : élève ≥ 10× plus petit, comble ≥ la moitié de l'écart": "distill",
    "élagage + int8 : ≥ 8× plus petit zippé, ≤ 1,5 point perdu": "combined",
}


def run(config: OptimizationConfig, out_dir: Path, progress: bool = True) -> dict:
    import numpy as np
    import torch

    import labkit
    from labkit import torch as lkt
    from labkit.datasets import make_pcb_defects
    from labkit.optimize.distill import distill
    from labkit.optimize.export import export_onnx
    from labkit.optimize.measure import LiteRTRunner, OnnxRunner, TorchRunner, accuracy, compare
    from labkit.optimize.prune import global_magnitude_prune, prune_channels, remove_masks, sparsity
    from labkit.optimize.qat import calibrate, convert_qat, prepare_qat
    from labkit.optimize.quantize import quantize_onnx_dynamic, quantize_onnx_static

    c = config
    labkit.init(seed=0, threads=2, verbose=False)
    train = make_pcb_defects(c.n_train, difficulty=c.difficulty, seed=1)
    val = make_pcb_defects(c.n_val, difficulty=c.difficulty, seed=2)
    test = make_pcb_defects(c.n_val, difficulty=c.difficulty, seed=3)
    x_train, x_val, x_test = (d.images[:, None] for d in (train, val, test))
    fit = dict(batch_size=64, lr=3e-3, progress=progress)
    timings = {}

    def timed(name, function):
        start = time.perf_counter()
        result = function()
        timings[name] = time.perf_counter() - start
        return result

    teacher = lkt.make_cnn(width=c.teacher_width)
    timed(
        "professeur",
        lambda: lkt.fit(teacher, x_train, train.labels, x_val, val.labels, epochs=c.teacher_epochs, description="professeur", **fit),
    )
    teacher.eval()

    # int8 statique, ONNX Runtime (QDQ), calibré sur 256 images d'entraînement.
    fp32_onnx = export_onnx(teacher, torch.from_numpy(x_val[:8]), out_dir / "teacher_fp32.onnx")
    int8_onnx = timed("int8", lambda: quantize_onnx_static(fp32_onnx, x_train[:256], out_dir / "teacher_int8.onnx"))
    # Le piège : int8 « dynamique » (activations quantifiées à la volée) sur des convolutions.
    dynamic_onnx = quantize_onnx_dynamic(fp32_onnx, out_dir / "teacher_dynamic.onnx")

    # Le même professeur en Keras 3, exporté en LiteRT : fp32, float16, dynamique, int8 calibré.
    from labkit import keras as lkk
    from labkit.optimize.litert import export_litert

    def litert_exports():
        keras_teacher = lkk.from_torch(teacher, input_shape=x_train.shape[2:] + (1,))
        calibration = x_train[:256].transpose(0, 2, 3, 1)
        return {
            mode or "fp32": export_litert(
                keras_teacher,
                out_dir / f"teacher_{mode or 'fp32'}.tflite",
                quantize=mode,
                calibration_data=calibration if mode == "int8" else None,
            )
            for mode in (None, "float16", "dynamic", "int8")
        }

    litert = timed("LiteRT", litert_exports)

    # QAT à 8 bits puis vrai int8 (ONNX Runtime) ; et, à très peu de bits, PTQ contre QAT en simulation.
    def quantization_aware(bits, epochs):
        model = prepare_qat(teacher, bits=bits)
        calibrate(model, x_train[:256])
        ptq = accuracy(TorchRunner(model), x_test, test.labels)
        # Le QAT part d'un modèle entraîné : une partie des images d'entraînement suffit.
        lkt.fit(
            model,
            x_train[: c.n_qat],
            train.labels[: c.n_qat],
            x_val,
            val.labels,
            epochs=epochs,
            description=f"QAT {bits} bits",
            **{**fit, "lr": 3e-4},
        )
        return model, ptq, accuracy(TorchRunner(model), x_test, test.labels)

    qat_model, _, _ = timed("QAT 8 bits", lambda: quantization_aware(8, c.qat_epochs))
    qat_fp32 = export_onnx(convert_qat(qat_model), torch.from_numpy(x_val[:8]), out_dir / "qat_fp32.onnx")
    qat_onnx = quantize_onnx_static(qat_fp32, x_train[:256], out_dir / "qat_int8.onnx")
    _, low_ptq, low_qat = timed(f"QAT {c.low_bits} bits", lambda: quantization_aware(c.low_bits, c.low_bits_epochs))

    # Élagage global non structuré, réentraîné avec les masques, puis rendu définitif.
    sparse = lkt.make_cnn(width=c.teacher_width)
    sparse.load_state_dict(teacher.state_dict())
    global_magnitude_prune(sparse, c.sparsity)
    timed(
        "élagage",
        lambda: lkt.fit(
            sparse,
            x_train,
            train.labels,
            x_val,
            val.labels,
            epochs=c.finetune_epochs,
            description="élagage + réentraînement",
            **{**fit, "lr": 1e-3},
        ),
    )
    remove_masks(sparse).eval()

    # Élagage structuré : moitié des canaux retirés, réentraîné.
    slim = prune_channels(teacher, c.keep_ratio)
    timed(
        "canaux",
        lambda: lkt.fit(
            slim,
            x_train,
            train.labels,
            x_val,
            val.labels,
            epochs=c.finetune_epochs,
            description="canaux + réentraînement",
            **{**fit, "lr": 1e-3},
        ),
    )
    slim.eval()

    # Distillation. Le même élève, à nombre de pas de gradient égal : seul sur les images étiquetées ;
    # distillé sur les mêmes ; distillé avec des images sans étiquettes (transfert) ; et, pour séparer
    # les deux effets, entraîné sur les étiquettes du professeur sans probabilités adoucies.
    from labkit.optimize.distill import with_teacher_labels

    unlabeled = make_pcb_defects(c.n_transfer, difficulty=c.difficulty, seed=4).images[:, None]
    transfer_epochs = max(1, round(c.student_epochs * c.n_train / (c.n_train + c.n_transfer)))
    students = {name: lkt.make_cnn(width=c.student_width) for name in ("seul", "distillé", "transfert", "pseudo")}
    timed(
        "élève seul",
        lambda: lkt.fit(
            students["seul"], x_train, train.labels, x_val, val.labels, epochs=c.student_epochs, description="élève seul", **fit
        ),
    )
    timed(
        "élève distillé",
        lambda: distill(
            students["distillé"],
            teacher,
            x_train,
            train.labels,
            x_val,
            val.labels,
            epochs=c.student_epochs,
            description="élève distillé",
            **fit,
        ),
    )
    timed(
        "élève transfert",
        lambda: distill(
            students["transfert"],
            teacher,
            x_train,
            train.labels,
            x_val,
            val.labels,
            x_transfer=unlabeled,
            epochs=transfer_epochs,
            description="élève distillé + transfert",
            **fit,
        ),
    )
    x_pseudo, y_pseudo = with_teacher_labels(teacher, x_train, train.labels, unlabeled)
    timed(
        "élève pseudo",
        lambda: lkt.fit(
            students["pseudo"],
            x_pseudo,
            y_pseudo,
            x_val,
            val.labels,
            epochs=transfer_epochs,
            description="élève, étiquettes du professeur",
            **fit,
        ),
    )
    for model in students.values():
        model.eval()

    # Élagage puis int8.
    sparse_onnx = export_onnx(sparse, torch.from_numpy(x_val[:8]), out_dir / "sparse_fp32.onnx")
    combined_onnx = quantize_onnx_static(sparse_onnx, x_train[:256], out_dir / "sparse_int8.onnx")

    variants = {
        "fp32 (PyTorch)": TorchRunner(teacher, "fp32"),
        "élagué 80 % (PyTorch)": TorchRunner(sparse, "élagué"),
        "canaux ÷2 (PyTorch)": TorchRunner(slim, "canaux"),
        "élève seul (PyTorch)": TorchRunner(students["seul"], "élève seul"),
        "élève distillé (PyTorch)": TorchRunner(students["distillé"], "élève distillé"),
        "élève distillé + transfert (PyTorch)": TorchRunner(students["transfert"], "élève distillé + transfert"),
        "élève, étiquettes du professeur (PyTorch)": TorchRunner(students["pseudo"], "élève pseudo-étiquettes"),
        "fp32 (ONNX Runtime)": OnnxRunner(fp32_onnx, "fp32"),
        "int8 (ONNX Runtime)": OnnxRunner(int8_onnx, "int8"),
        "int8 dynamique (ONNX Runtime)": OnnxRunner(dynamic_onnx, "int8 dynamique"),
        "QAT puis int8 (ONNX Runtime)": OnnxRunner(qat_onnx, "QAT int8"),
        "élagué + int8 (ONNX Runtime)": OnnxRunner(combined_onnx, "élagué + int8"),
        "fp32 (LiteRT)": LiteRTRunner(litert["fp32"], "fp32"),
        "float16 (LiteRT)": LiteRTRunner(litert["float16"], "float16"),
        "int8 dynamique (LiteRT)": LiteRTRunner(litert["dynamic"], "int8 dynamique"),
        "int8 (LiteRT)": LiteRTRunner(litert["int8"], "int8"),
    }
    comparison = compare(variants, x_test, test.labels, runs=c.runs, warmup=max(2, c.runs // 10), threads=1, progress=progress)
    table = comparison.table
    table["paramètres"] = [sum(p.numel() for p in m.model.parameters()) if hasattr(m, "model") else np.nan for m in variants.values()]
    return {
        "comparison": comparison,
        "timings": timings,
        "sparsity": sparsity(sparse),
        "accuracy_check": accuracy(OnnxRunner(fp32_onnx), x_test, test.labels),
        "low_bits": {"bits": c.low_bits, "ptq": low_ptq, "qat": low_qat, "fp32": accuracy(TorchRunner(teacher), x_test, test.labels)},
    }


def _int8_verdict(key: str, fp32, int8) -> tuple[str, str, bool]:
    """Taille et vitesse (b1, b64) contre le fp32 du même moteur, points perdus."""
    size = fp32["taille (ko)"] / int8["taille (ko)"]
    b1, b64 = (fp32[f"latence {b} (ms)"] / int8[f"latence {b} (ms)"] for b in ("b1", "b64"))
    loss = (fp32["précision"] - int8["précision"]) * 100
    return (
        key,
        f"{size:.2f}× plus petit, {b1:.2f}× (b1) et {b64:.2f}× (b64) plus rapide, {loss:+.1f} point(s) perdus",
        size >= 3.5 and b1 >= 2 and b64 >= 2 and loss <= 1,
    )


def verdicts(result: dict) -> list[tuple[str, str, bool]]:
    t = result["comparison"].table
    ort, pt = t.loc["fp32 (ONNX Runtime)"], t.loc["fp32 (PyTorch)"]
    out = [
        _int8_verdict("int8", ort, t.loc["int8 (ONNX Runtime)"]),
        _int8_verdict("litert", t.loc["fp32 (LiteRT)"], t.loc["int8 (LiteRT)"]),
    ]
    sp = t.loc["élagué 80 % (PyTorch)"]
    zipped, loss = pt["zippé (ko)"] / sp["zippé (ko)"], (pt["précision"] - sp["précision"]) * 100
    out.append(
        (
            "sparse",
            f"{result['sparsity']:.1%} de zéros, {zipped:.2f}× plus petit zippé, {loss:+.1f} point(s) perdus",
            result["sparsity"] >= 0.8 and zipped >= 3 and loss <= 1,
        )
    )
    slim = t.loc["canaux ÷2 (PyTorch)"]
    speed, loss = pt["latence b1 (ms)"] / slim["latence b1 (ms)"], (pt["précision"] - slim["précision"]) * 100
    out.append(
        (
            "channels",
            f"{speed:.2f}× plus rapide en b1 ({pt['latence b64 (ms)'] / slim['latence b64 (ms)']:.2f}× en b64), "
            f"{loss:+.1f} point(s) perdus",
            speed >= 1.5 and loss <= 1,
        )
    )
    alone, plain = t.loc["élève seul (PyTorch)"], t.loc["élève distillé (PyTorch)"]
    student, pseudo = t.loc["élève distillé + transfert (PyTorch)"], t.loc["élève, étiquettes du professeur (PyTorch)"]
    ratio = pt["paramètres"] / student["paramètres"]
    gap = pt["précision"] - alone["précision"]

    def closed(row):
        return (row["précision"] - alone["précision"]) / gap if gap > 0 else float("nan")

    out.append(
        (
            "distill",
            f"{ratio:.1f}× moins de paramètres ; seul {alone['précision']:.3f}, professeur {pt['précision']:.3f} ; "
            f"distillé avec images sans étiquettes {student['précision']:.3f} ({closed(student):.0%} de l'écart comblé) ; "
            f"distillé sur les seules images étiquetées {plain['précision']:.3f} ({closed(plain):.0%}) ; "
            f"étiquettes du professeur sans adoucissement {pseudo['précision']:.3f} ({closed(pseudo):.0%})",
            ratio >= 10 and closed(student) >= 0.5,
        )
    )
    comb = t.loc["élagué + int8 (ONNX Runtime)"]
    zipped, loss = ort["zippé (ko)"] / comb["zippé (ko)"], (ort["précision"] - comb["précision"]) * 100
    out.append(("combined", f"{zipped:.2f}× plus petit zippé, {loss:+.1f} point(s) perdus", zipped >= 8 and loss <= 1.5))
    return out


def write_report(result: dict, config: OptimizationConfig, name: str, seconds: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    comparison = result["comparison"]
    env = comparison.environment
    checks = dict((key, (text, ok)) for key, text, ok in verdicts(result))
    low = result["low_bits"]
    lines = [
        "# Banc d'essai de l'optimisation",
        "",
        f"Machine : {env['processeur']}, {env['cœurs']} cœurs ; Python {env['python']}, NumPy {env['numpy']}, "
        f"PyTorch {env.get('torch')}, ONNX Runtime {env.get('onnxruntime')}, TensorFlow {env.get('tensorflow')}, "
        f"Keras {env.get('keras')}, LiteRT {env.get('litert')}. Latences sur **un fil**, "
        f"médiane de {config.runs} exécutions après échauffement ; {config.n_val} images de test d'une autre graine.",
        "",
        f"Configuration : {config.model_dump()}. Durée totale : {seconds / 60:.1f} min.",
        "",
        comparison.to_markdown(),
        "",
        "## Objectifs",
        "",
        "| objectif | mesuré | atteint |",
        "|---|---|---|",
        *[f"| {goal} | {checks[key][0]} | {'✅' if checks[key][1] else '❌'} |" for goal, key in TARGETS.items()],
        "",
        f"## Très peu de bits : post-entraînement contre QAT ({low['bits']} bits, simulation)",
        "",
        f"Poids et activations arrondis à {low['bits']} bits (quantification simulée de `labkit.optimize.qat`), "
        f"précision sur les images de test. Aucun moteur n'exécute ces modèles plus vite : la question est la précision.",
        "",
        "| modèle | précision |",
        "|---|---|",
        f"| fp32 | {low['fp32']:.3f} |",
        f"| {low['bits']} bits après entraînement (PTQ, calibré) | {low['ptq']:.3f} |",
        f"| {low['bits']} bits après {config.low_bits_epochs} époque(s) de QAT | {low['qat']:.3f} |",
        "",
        "## Durées des étapes",
        "",
        "| étape | durée (s) |",
        "|---|---|",
        *[f"| {stage} | {seconds:.0f} |" for stage, seconds in result["timings"].items()],
    ]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fig = comparison.plot("latence b1 (ms)", "précision")
    fig.savefig(RESULTS / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Banc d'essai de l'optimisation (quantification, élagage, distillation).")
    parser.add_argument("--smoke", action="store_true", help="mode rapide (smoke), pour les tests")
    parser.add_argument("--config", type=Path, help="fichier YAML de réglages (OptimizationConfig), à la place de FULL")
    args = parser.parse_args(argv)
    config, name = (SMOKE, "optimization_smoke") if args.smoke else (FULL, "optimization")
    if args.config is not None:
        try:
            config, name = load_config(args.config, OptimizationConfig), args.config.stem
        except ConfigError as error:
            parser.error(str(error))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = run(config, Path(folder), progress=not args.smoke)
    path = write_report(result, config, name, time.perf_counter() - start)
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
