"""Rapports : chaque chiffre vient d'une mesure, les améliorations sont calculées, les rendus tiennent hors ligne."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from labkit import LabkitError
from labkit.diagnosis import class_balance_report, diagnose_history
from labkit.optimize import measure
from labkit.report import (
    Comparison,
    DataRef,
    ImprovementReport,
    Machine,
    Measurement,
    OptimizationSheet,
    Problem,
    Solution,
    Technique,
    format_number,
    format_value,
    pdf_page_count,
    render_report,
)

TYPED = "un nombre tapé à la main ne peut pas entrer dans un rapport"
TEST = DataRef("PCB, test", 500, seed=1)
ENV_A = {"processeur": "AMD EPYC 7B13", "cœurs": 2, "python": "3.11.7", "numpy": "2.4.6", "torch": "2.13.0+cpu", "onnxruntime": "1.32.0"}
ENV_B = {"processeur": "Apple M2", "cœurs": 8, "python": "3.11.7", "numpy": "2.4.6", "torch": "2.13.0", "onnxruntime": "1.32.0"}
COLUMNS = ["moteur", "taille (ko)", "zippé (ko)", "précision", "latence b1 (ms)", "p90 b1 (ms)", "latence b64 (ms)", "p90 b64 (ms)"]
ROWS = {
    "fp32": ["ONNX Runtime", 517.0, 472.0, 0.951, 1.24, 1.35, 82.9, 86.5],
    "int8": ["ONNX Runtime", 147.0, 119.0, 0.946, 0.472, 0.535, 32.5, 38.0],
    "int8 bruité": ["ONNX Runtime", 147.0, 119.0, 0.953, 1.20, 1.60, 80.0, 99.0],
    "fp32 (PyTorch)": ["PyTorch (eager)", 512.0, 473.0, 0.951, 3.43, 4.01, 346.0, 397.0],
    "cassé": ["ONNX Runtime", 150.0, 120.0, float("nan"), 0.5, 0.6, 30.0, 35.0],
}


def fake_compare(env=ENV_A, rows=ROWS, columns=COLUMNS):
    """Un résultat de measure.compare, sans modèle ni mesure de temps : même forme, mêmes colonnes."""
    table = pd.DataFrame({name: dict(zip(COLUMNS, values)) for name, values in rows.items()}).T[columns]
    table.index.name = "variante"
    numeric = [c for c in columns if c != "moteur"]
    table[numeric] = table[numeric].apply(pd.to_numeric)
    return measure.Comparison(table, dict(env))


def m(row, column, *, env=ENV_A, data=TEST, threads=1):
    return Measurement.from_compare_table(
        fake_compare(env), row, column, data=data, threads=threads, measured_at="2026-12-01T10:00:00+00:00"
    )


def cmp(before, after, column, **kwargs):
    return Comparison(m(before, column, **kwargs), m(after, column, **kwargs))


def sample_report(rows=None, **changes):
    history = {
        "loss": [1.0, 0.5, 0.2, 0.05],
        "accuracy": [0.5, 0.8, 0.95, 1.0],
        "val_loss": [1.0, 0.7, 0.8, 1.1],
        "val_accuracy": [0.5, 0.6, 0.6, 0.58],
    }
    latency = cmp("fp32", "int8", "latence b1 (ms)")
    fields = dict(
        title="Rapport d'amélioration : détecteur PCB",
        author="Équipe test",
        problems=[Problem.from_diagnosis(diagnose_history(history), data=DataRef("PCB, validation", 400, seed=0))],
        solutions=[Solution("Quantification int8 statique", "Poids et activations en int8, calibrés sur l'entraînement.", [latency])],
        comparison_rows=rows or [cmp("fp32", "int8", "précision"), latency, cmp("fp32", "int8", "taille (ko)")],
        conclusion="Le modèle quantifié est plus rapide et plus petit ; la précision baisse un peu.",
        recommendations=["Garder la référence fp32 exécutée par le même moteur."],
    )
    fields.update(changes)
    return ImprovementReport(**fields)


# --------------------------------------------------------------------------- un nombre tapé ne passe pas


@pytest.mark.parametrize(
    "build",
    [
        lambda: Comparison(0.951, 0.946),
        lambda: Comparison(m("fp32", "précision"), np.float64(0.946)),
        lambda: sample_report(comparison_rows=[0.946]),
        lambda: sample_report(comparison_rows=[cmp("fp32", "int8", "précision"), 2.6]),
        lambda: Solution("int8", "Quantification.", impact=[1.2]),
        lambda: Problem("Surapprentissage", evidence=0.42),
        lambda: Technique(
            "int8",
            "Quantification.",
            size=512,
            latency=[cmp("fp32", "int8", "latence b1 (ms)")],
            accuracy=cmp("fp32", "int8", "précision"),
            when_to_use="Sur CPU.",
        ),
    ],
)
def test_a_typed_number_cannot_enter_a_report(build):
    with pytest.raises(LabkitError, match=TYPED):
        build()


@pytest.mark.parametrize(
    "prose",
    ["La latence passe à 0,47 ms.", "Le modèle est ×2,6 plus rapide.", "On gagne 1,2 point de précision.", "Précision finale : 95 %."],
)
def test_a_result_typed_in_the_prose_is_refused(prose):
    with pytest.raises(LabkitError, match=TYPED):
        sample_report(conclusion=prose)
    with pytest.raises(LabkitError, match=TYPED):
        sample_report(recommendations=[prose])
    assert sample_report(conclusion="Le modèle quantifié est plus rapide, sans perte mesurable.").conclusion


def test_a_source_must_be_a_measurement_the_course_produces():
    from labkit.report import Source

    with pytest.raises(LabkitError, match="source.kind"):
        Source("à la main", "mon cahier")


# --------------------------------------------------------------------------- une mesure manquante est une erreur


def test_a_missing_measurement_is_an_error_never_a_blank():
    with pytest.raises(LabkitError, match="ne contient pas de mesure"):
        m("cassé", "précision")  # NaN dans le tableau
    with pytest.raises(LabkitError, match="pas de variante"):
        m("int4", "précision")
    with pytest.raises(LabkitError, match="p90 b1"):
        Measurement.from_compare_table(fake_compare(columns=COLUMNS[:5]), "fp32", "latence b1 (ms)", data=TEST, threads=1)
    with pytest.raises(LabkitError, match="`threads` manque"):
        m("fp32", "latence b1 (ms)", threads=None)
    with pytest.raises(LabkitError, match="calculée"):
        m("fp32", "p90 b1 (ms)")
    with pytest.raises(LabkitError, match="`machine` manque"):
        Measurement.from_compare_table(fake_compare().table, "fp32", "précision", data=TEST)
    with pytest.raises(LabkitError, match="au moins 1"):
        sample_report(comparison_rows=[])
    with pytest.raises(LabkitError, match="mesure manquante"):
        Technique(
            "int8",
            "Quantification.",
            size=cmp("fp32", "int8", "taille (ko)"),
            latency=[cmp("fp32", "int8", "latence b1 (ms)")],
            accuracy=None,
            when_to_use="Sur CPU.",
        )
    with pytest.raises(LabkitError, match="NaN"):
        Measurement(float("nan"), "ms", "latence b1 médiane", TEST, Machine("x"), m("fp32", "précision").source, "2026-12-01T10:00:00")


def test_a_timing_needs_engine_threads_spread_and_batch():
    base = m("fp32", "latence b1 (ms)")
    with pytest.raises(LabkitError, match="`spread`"):
        Measurement(
            base.value, "ms", base.quantity, TEST, base.machine, base.source, base.measured_at, engine=base.engine, threads=1, batch_size=1
        )
    with pytest.raises(LabkitError, match="`batch_size`"):
        Measurement(
            base.value,
            "ms",
            base.quantity,
            TEST,
            base.machine,
            base.source,
            base.measured_at,
            engine=base.engine,
            threads=1,
            spread=base.spread,
        )


def test_before_and_after_must_be_measured_alike():
    with pytest.raises(LabkitError, match="Unités différentes"):
        Comparison(m("fp32", "taille (ko)"), m("int8", "précision"))
    with pytest.raises(LabkitError, match="mêmes données"):
        Comparison(m("fp32", "précision"), m("int8", "précision", data=DataRef("PCB, test", 500, seed=2)))
    with pytest.raises(LabkitError, match="nombres de fils"):
        Comparison(m("fp32", "latence b1 (ms)"), m("int8", "latence b1 (ms)", threads=2))
    with pytest.raises(LabkitError, match="moteurs"):
        cmp("fp32 (PyTorch)", "int8", "latence b1 (ms)")
    with pytest.raises(LabkitError, match="même chose"):
        Comparison(m("fp32", "latence b1 (ms)"), m("int8", "latence b64 (ms)"))
    # une précision ne dépend pas du nombre de fils : un autre moteur est permis
    assert cmp("fp32 (PyTorch)", "int8", "précision").verdict == "régression"


# --------------------------------------------------------------------------- améliorations calculées


def test_a_latency_that_goes_down_is_an_improvement():
    c = cmp("fp32", "int8", "latence b1 (ms)")
    assert c.difference == pytest.approx(0.472 - 1.24) and c.difference < 0
    assert c.improved is True and c.verdict == "amélioration"
    assert c.factor_text == "×2,63 plus rapide"
    assert c.change_text == "−0,768\u00a0ms (−61,9\u00a0%)"
    assert "plus rapide" in c.summary() and c.summary().startswith("latence b1 médiane (ONNX Runtime 1.32.0, 1 fil)")


def test_an_accuracy_that_goes_down_is_a_regression_and_sizes_use_factors():
    accuracy = cmp("fp32", "int8", "précision")
    assert accuracy.improved is False and accuracy.verdict == "régression"
    assert accuracy.change_text == "−0,5\u00a0point" and accuracy.factor_text == ""
    up = cmp("int8", "int8 bruité", "précision")
    assert up.improved is True and up.change_text == "+0,7\u00a0point"
    smaller, bigger = cmp("fp32", "int8", "taille (ko)"), cmp("int8", "fp32", "taille (ko)")
    assert smaller.improved and smaller.factor_text == "×3,52 plus petit"
    assert bigger.improved is False and bigger.factor_text == "×3,52 plus gros" and bigger.change_text.startswith("+370")
    same = cmp("fp32", "fp32 (PyTorch)", "précision")
    assert same.improved is None and same.verdict == "inchangé" and same.change_text == "aucun écart"


def test_significance_comes_from_the_measured_spread():
    clear = cmp("fp32", "int8", "latence b1 (ms)")  # [1,24 ; 1,35] contre [0,472 ; 0,535]
    noisy = cmp("fp32", "int8 bruité", "latence b1 (ms)")  # [1,24 ; 1,35] contre [1,20 ; 1,60]
    assert clear.significant is True and clear.significance_text == "écart soutenu par la dispersion mesurée"
    assert noisy.improved is True and noisy.significant is False
    assert "non significatif d'après la dispersion mesurée" in noisy.summary()
    assert cmp("fp32", "int8", "précision").significant is None


def test_measurements_from_two_machines_add_a_warning():
    across = Comparison(m("fp32", "latence b1 (ms)", env=ENV_A), m("int8", "latence b1 (ms)", env=ENV_B))
    assert not across.same_machine and "machines différentes" in across.warnings[0]
    assert cmp("fp32", "int8", "latence b1 (ms)").warnings == ()
    report = sample_report(rows=[across])
    assert any("machines différentes" in w for w in report.warnings)
    assert sample_report().warnings == ()


def test_french_number_formatting():
    assert format_number(1234567) == "1\u202f234\u202f567"
    assert format_number(-0.004721) == "−0,00472"
    assert format_value(0.951, "proportion") == "95,1\u00a0%"
    assert format_value(82.94, "ms") == "82,9\u00a0ms"


# --------------------------------------------------------------------------- sources : MLflow, banc d'essai, diagnostic, latence


@pytest.fixture
def mlflow_store(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    from labkit import tracking

    previous = mlflow.get_tracking_uri()
    uri = tracking.use_local_store(tmp_path / "suivi", experiment="rapport")
    yield mlflow, uri
    mlflow.set_tracking_uri(previous)


def test_from_mlflow_run_reads_the_value_and_its_provenance_in_the_store(mlflow_store):
    mlflow, uri = mlflow_store
    from labkit.report import log_provenance

    machine = Machine.from_environment(ENV_A)
    with mlflow.start_run(run_name="avec provenance") as run:
        for step, value in enumerate([0.61, 0.74, 0.82]):
            mlflow.log_metric("val_accuracy", value, step=step)
        log_provenance(DataRef("PCB, validation", 400, seed=0), machine)
    with mlflow.start_run(run_name="sans provenance") as bare:
        mlflow.log_metric("val_accuracy", 0.9, step=0)
    got = Measurement.from_mlflow_run(run.info.run_id, "val_accuracy", tracking_uri=uri)
    assert got.value == pytest.approx(0.82) and got.unit == "proportion" and got.quantity == "précision de validation"
    assert got.machine == machine and got.data == DataRef("PCB, validation", 400, seed=0)
    assert got.source.kind == "mlflow" and got.source.reference == run.info.run_id and "rapport" in got.source.detail
    assert Measurement.from_mlflow_run(run.info.run_id, "val_accuracy", step=0).value == pytest.approx(0.61)
    with pytest.raises(LabkitError, match="pas de métrique « val_loss »"):
        Measurement.from_mlflow_run(run.info.run_id, "val_loss", unit="")
    with pytest.raises(LabkitError, match="machine"):
        Measurement.from_mlflow_run(bare.info.run_id, "val_accuracy", data=TEST)
    with pytest.raises(LabkitError, match="aucun run"):
        Measurement.from_mlflow_run("0" * 32, "val_accuracy")


BENCHMARK = """# Banc d'essai

Machine : AMD EPYC, 2 cœurs ; Python 3.11.7, NumPy 2.4.6, PyTorch 2.13.0+cpu, ONNX Runtime 1.32.0.
Latences sur **un fil**, médiane de 40 exécutions après échauffement.

| variante | moteur | taille (ko) | précision | latence b1 (ms) | p90 b1 (ms) | × plus rapide b1 |
|---|---|---|---|---|---|---|
| fp32 (ONNX Runtime) | ONNX Runtime | 517 | 0.951 | 1.24 | 1.35 | 1 |
| int8 (ONNX Runtime) | ONNX Runtime | 147 | — | 0.472 | 0.535 | 2.63 |
"""


def test_from_benchmark_file_reads_machine_engine_threads_and_spread(tmp_path):
    path = tmp_path / "optimization.md"
    path.write_text(BENCHMARK, encoding="utf-8")
    latency = Measurement.from_benchmark_file(path, "fp32 (ONNX Runtime)", "latence b1 (ms)", data=TEST)
    assert latency.value == pytest.approx(1.24) and latency.unit == "ms" and latency.batch_size == 1
    assert latency.engine == "ONNX Runtime 1.32.0" and latency.threads == 1
    assert (latency.spread.low, latency.spread.high, latency.spread.runs) == (1.24, 1.35, 40)
    assert latency.machine == Machine("AMD EPYC", 2, None, "3.11.7") and str(path) in latency.source.reference
    size = Measurement.from_benchmark_file(path, "int8 (ONNX Runtime)", "taille (ko)", data=TEST)
    assert size.value == 147 and size.unit == "ko"
    with pytest.raises(LabkitError, match="ne contient pas de mesure"):
        Measurement.from_benchmark_file(path, "int8 (ONNX Runtime)", "précision", data=TEST)
    with pytest.raises(LabkitError, match="calculée"):
        Measurement.from_benchmark_file(path, "int8 (ONNX Runtime)", "× plus rapide b1", data=TEST)
    with pytest.raises(LabkitError, match="pas de ligne"):
        Measurement.from_benchmark_file(path, "int4", "taille (ko)", data=TEST)


def test_the_course_benchmark_ships_with_labkit_and_is_the_committed_one(root):
    """Le notebook 11 lit le banc d'essai du cours là où il tourne (Colab compris) : la copie livrée avec labkit."""
    from labkit.report import course_benchmark

    path = course_benchmark("optimization")
    assert path.read_bytes() == (root / "benchmarks" / "results" / "optimization.md").read_bytes(), (
        "labkit/report/bancs/optimization.md diffère de benchmarks/results/optimization.md : recopiez le résultat du banc d'essai."
    )
    latency = Measurement.from_benchmark_file(path, "int8 (ONNX Runtime)", "latence b1 (ms)", data=TEST)
    assert latency.source.reference == "labkit/report/bancs/optimization.md" and "date du fichier" in latency.source.detail
    assert latency.machine.processor == "AMD EPYC" and latency.threads == 1 and latency.spread.runs == 40
    with pytest.raises(LabkitError, match="bancs disponibles"):
        course_benchmark("absent")


def test_problems_come_from_real_diagnosis_reports():
    history = {
        "loss": [1.0, 0.5, 0.2, 0.05],
        "accuracy": [0.5, 0.8, 0.95, 1.0],
        "val_loss": [1.0, 0.7, 0.8, 1.1],
        "val_accuracy": [0.5, 0.6, 0.6, 0.58],
    }
    validation = DataRef("PCB, validation", 400, seed=0)
    problem = Problem.from_diagnosis(diagnose_history(history), data=validation)
    assert problem.description == "Historique d'entraînement — surapprentissage"
    gap = next(e for e in problem.evidence if e.source.detail == "valeur « gap »")
    assert gap.value == pytest.approx(42.0) and gap.format() == "42,0\u00a0points" and gap.source.kind == "diagnosis"
    balance = Problem.from_diagnosis(class_balance_report([0] * 95 + [1] * 5, [0] * 100), data=validation, keys=["min_recall"])
    assert [e.format() for e in balance.evidence] == ["0,0\u00a0%"] and balance.advice
    healthy = class_balance_report([0] * 50 + [1] * 50)
    with pytest.raises(LabkitError, match="ne signale aucun problème"):
        Problem.from_diagnosis(healthy, data=validation)
    with pytest.raises(LabkitError, match="from_diagnosis"):
        Problem("Classes déséquilibrées", evidence=class_balance_report([0] * 95 + [1] * 5))


def test_from_latency_stats_takes_measure_latency_output():
    runner = measure.FunctionRunner(lambda x: np.zeros((len(x), 2), np.float32), name="zéro")
    stats = measure.measure_latency(runner, np.zeros((4, 1, 8, 8), np.float32), runs=5, warmup=1)
    got = Measurement.from_latency_stats(stats, engine="Python", data=TEST)
    assert got.batch_size == 4 and got.threads == 1 and got.spread.runs == 5
    assert got.value == stats["median_ms"] and got.spread.high == stats["p90_ms"] and got.machine == Machine.current()


# --------------------------------------------------------------------------- rendus


EXTERNAL = re.compile(r"""(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import|https?://""", re.I)


def test_markdown_render_is_french_and_writes_the_figure(tmp_path):
    path = render_report(sample_report(), "md", tmp_path / "rapport.md")
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "rapport.md" and text.startswith("# Rapport d'amélioration\u00a0: détecteur PCB")
    for section in (
        "## Problèmes identifiés",
        "## Solutions mises en œuvre",
        "## Avant / après",
        "## Conclusion",
        "## Provenance des mesures",
        "## Environnement du rapport",
    ):
        assert section in text
    assert "| 1,24\u00a0ms | 0,472\u00a0ms | −0,768\u00a0ms (−61,9\u00a0%) | ×2,63 plus rapide | amélioration |" in text
    assert "Impact mesuré\u00a0:" in text and " :" not in text  # typographie : jamais d'espace sécable avant « : »
    assert "ONNX Runtime 1.32.0" in text and "0.951" not in text and "1.24" not in text
    figure = tmp_path / "rapport_figure.png"
    assert "](rapport_figure.png)" in text and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_standalone_and_requests_no_other_host(tmp_path):
    html = render_report(
        sample_report(rows=[Comparison(m("fp32", "latence b1 (ms)", env=ENV_A), m("int8", "latence b1 (ms)", env=ENV_B))]),
        "html",
        tmp_path / "rapport.html",
    ).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html and "<style>" in html
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)
    assert EXTERNAL.search('<img src="//cdn.example.org/a.png">') and EXTERNAL.search("<link href='https://example.org/a.css'>")
    assert "machines différentes" in html and 'class="amelioration"' in html


def test_pdf_render_has_pages_and_embedded_fonts(tmp_path):
    pytest.importorskip("typst")
    path = render_report(sample_report(), "pdf", tmp_path / "rapport.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and pdf_page_count(path) >= 1
    assert re.search(rb"/FontFile[23]?", data)
    with pytest.raises(LabkitError, match="PDF"):
        pdf_page_count(b"<html></html>")


def test_optimization_sheet_renders_and_checks_its_quantities(tmp_path):
    technique = Technique(
        "int8 statique (ONNX Runtime)",
        "Poids et activations en int8, calibrés sur des images d'entraînement.",
        size=cmp("fp32", "int8", "zippé (ko)"),
        latency=[cmp("fp32", "int8", "latence b1 (ms)"), cmp("fp32", "int8", "latence b64 (ms)")],
        accuracy=cmp("fp32", "int8", "précision"),
        when_to_use="Sur un CPU sans accélérateur.",
        pitfalls=["L'int8 dynamique ralentit un réseau convolutif."],
    )
    sheet = OptimizationSheet("Fiche d'optimisation", "Équipe test", [technique])
    text = render_report(sheet, "md", tmp_path / "fiche.md").read_text(encoding="utf-8")
    assert "## int8 statique (ONNX Runtime)" in text and "472\u00a0ko → 119\u00a0ko (×3,97 plus petit)" in text
    assert "<h2>int8 statique (ONNX Runtime)</h2>" in render_report(sheet, "html", tmp_path / "fiche.html").read_text(encoding="utf-8")
    with pytest.raises(LabkitError, match="`size` doit comparer une taille"):
        Technique(
            "x",
            "y.",
            size=cmp("fp32", "int8", "précision"),
            latency=cmp("fp32", "int8", "latence b1 (ms)"),
            accuracy=cmp("fp32", "int8", "précision"),
            when_to_use="z.",
        )


def test_a_teacher_can_replace_a_template(tmp_path):
    template = tmp_path / "mon_gabarit.md.j2"
    template.write_text(
        "{{ title }}\n{% for c in rows %}{{ c.quantity }} = {{ c.after }} ({{ c.verdict }})\n{% endfor %}", encoding="utf-8"
    )
    text = render_report(sample_report(), "md", tmp_path / "sortie.md", template=template).read_text(encoding="utf-8")
    assert text == (
        "Rapport d'amélioration : détecteur PCB\nprécision = 94,6\u00a0% (régression)\n"
        "latence b1 médiane = 0,472\u00a0ms (amélioration)\ntaille du fichier = 147\u00a0ko (amélioration)\n"
    )
    extends = tmp_path / "maison.html.j2"
    extends.write_text(
        '{% extends "_base.html.j2" %}{% block content %}<p id="maison">{{ conclusion }}</p>{% endblock %}', encoding="utf-8"
    )
    html = render_report(sample_report(), "html", tmp_path / "maison.html", template=extends).read_text(encoding="utf-8")
    assert '<p id="maison">Le modèle quantifié' in html and "Provenance des mesures" in html
    broken = tmp_path / "faux.md.j2"
    broken.write_text("{{ chiffre_tape_a_la_main }}", encoding="utf-8")
    with pytest.raises(LabkitError, match="chiffre_tape_a_la_main"):
        render_report(sample_report(), "md", tmp_path / "faux.md", template=broken)
    with pytest.raises(LabkitError, match="introuvable"):
        render_report(sample_report(), "md", tmp_path / "x.md", template=tmp_path / "absent.md.j2")
    with pytest.raises(LabkitError, match="`fmt`"):
        render_report(sample_report(), "docx", tmp_path / "x.docx")


def test_a_teacher_can_replace_the_typst_template(tmp_path):
    pytest.importorskip("typst")
    template = tmp_path / "sobre.typ"
    template.write_text(
        '#let d = json("rapport.json")\n= #d.title\n#for c in d.rows [- #c.summary\n]\n#pagebreak()\nFin.\n', encoding="utf-8"
    )
    path = render_report(sample_report(), "pdf", tmp_path / "sobre.pdf", template=template)
    assert pdf_page_count(path) == 2


def test_importing_labkit_report_stays_light():
    code = (
        "import sys, labkit.report; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'mlflow', 'matplotlib', 'typst', 'jinja2', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"import labkit.report a importé : {out}"
