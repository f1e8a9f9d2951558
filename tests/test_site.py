"""Le site : construction stricte, notebook rendu avec ses liens, figures présentes."""

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_home_page_is_french_and_loads_no_external_font(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in html
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    for word in ("Prérequis", "Colab", "make course"):
        assert word in html


def test_student_notebook_page_has_download_and_colab_links(site):
    page = site / "notebooks" / "01_surapprentissage" / "01_surapprentissage" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert re.search(r'href="[^"]*01_surapprentissage\.ipynb" download', html)
    assert "colab.research.google.com/github/ameliorer-dl/ameliorer-dl/blob/main/notebooks/01_surapprentissage/01_surapprentissage.ipynb" in html
    assert (page.parent / "01_surapprentissage.ipynb").is_file()
    assert "VOTRE CODE ICI" in html and "BEGIN SOLUTION" not in html


def test_lesson_shows_figures_and_the_measured_table(site):
    html = (site / "lecons" / "01-surapprentissage" / "index.html").read_text(encoding="utf-8")
    for figure in re.findall(r'src="\.\./\.\./(figures/[^"]+\.png)"', html):
        assert (site / figure).is_file(), figure
    assert html.count('.png"') >= 3
    assert "arrêt anticipé" in html and "<table>" in html


# Pour chaque leçon : ses figures, et des lignes des tableaux produits par l'exécution complète du
# notebook (course/figures/<nn>_*.md, inclus par la page) ; le nombre minimal de tableaux rendus.
LESSONS = {
    "02-problemes-donnees": (("02_cameras.png", "02_stratification.png"),
                             ("normalisé + augmenté", "découpage par carte", "perte pondérée", "optimisme de la validation"), 5),
    "03-regulariser-suivre": (("03_reference.png", "03_plannings.png", "03_comparaison.png"),
                              ("référence", "dropout (0,5)", "cosinus + échauffement", "amélioré", "gain (points)",
                               "03_regulariser_suivre.ipynb"), 1),
    "04-entrainer-plus-vite": (("04_goulot.png", "04_normes.png", "04_plannings.png"),
                               ("cache des images décodées", "+ cache + prefetch", "pas 0,5 écrêté à 1", "torch.compile"), 4),
    "05-quantifier": (("05_bits.png", "05_compromis.png"),
                      ("int8 statique (ONNX Runtime)", "int8 dynamique (ONNX Runtime)", "int8 (LiteRT)", "QAT 3 bits",
                       "par canal (4 bits)"), 6),
    "06-elaguer": (("06_histogramme.png", "06_balayage.png", "06_compromis.png"),
                   ("élagués (taux global 80 %)", "précision après réentraînement", "(non structuré)", "canaux × 0.5 (structuré)",
                    "p90 b1 (ms)", "18, 36, 36"), 6),
    "07-distiller": (("07_temperature.png", "07_connaissance.png", "07_courbes.png", "07_reglages.png", "07_compromis.png"),
                     ("professeur", "élève seul", "élève distillé + images sans étiquettes", "précision de validation"), 3),
    "08-architectures-efficientes": (("08_courbes.png", "08_macs_latence.png"),
                                     ("séparable en profondeur, 32 → 64", "CNN efficient (ONNX Runtime)", "CNN standard élagué (PyTorch)",
                                      "MAC (millions)"), 4),
}


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_lesson_shows_its_figures_and_the_measured_tables(site, lesson):
    figures, rows, min_tables = LESSONS[lesson]
    html = (site / "lecons" / lesson / "index.html").read_text(encoding="utf-8")
    for figure in figures:
        assert f"figures/{figure}" in html and (site / "figures" / figure).is_file(), figure
    for row in rows:
        assert row in html, row
    assert html.count("<table>") >= min_tables


def test_data_page_shows_the_example_grid_and_the_measured_cases_table(site):
    html = (site / "donnees" / "index.html").read_text(encoding="utf-8")
    for figure in ("donnees_exemples.png", "donnees_cameras.png"):
        assert f"figures/{figure}" in html and (site / "figures" / figure).is_file()
    # Le tableau des cas vient de course/figures/donnees_cas.md (produit par le code), la calibration du banc d'essai.
    for case in ("surapprentissage", "normalisation", "déséquilibre", "décalage", "fuite (groupes)", "fuite (prétraitement)"):
        assert case in html
    assert html.count("⚠️") >= 6 and html.count("✅") >= 6
    assert "précision de validation" in html and "(défaut)" in html


def test_measurement_page_includes_the_committed_benchmark(site, root):
    html = (site / "mesurer" / "index.html").read_text(encoding="utf-8")
    assert "Un fil" in html and "int8 (ONNX Runtime)" in html
    assert (root / "benchmarks" / "results" / "optimization.md").is_file()
