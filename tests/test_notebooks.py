"""Notebooks : version étudiante à jour, sources propres, sorties déterministes, papermill.

L'exécution complète de chaque solution en mode rapide, sans aucune erreur, est prouvée par la
correction (``test_grading.py`` : la copie « solution » est exécutée en entier ; ses cellules déterministes
sont réexécutées et comparées par nbval) et, dans un environnement semblable à Colab, par ``test_colab.py`` :
elle n'est pas refaite ici.
"""

import json

import nbformat
import pytest

from labkit.course.catalog import load_catalog
from labkit.course.execute import execute_solutions
from labkit.course.paths import solution_path, student_path
from labkit.course.release import normalized_text, release_differences

CATALOG = load_catalog()


def test_notebooks_are_committed_clean(root):
    for path in sorted(root.glob("solutions/*/*.ipynb")) + sorted(root.glob("notebooks/*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert text == normalized_text(path), f"{path} n'est pas normalisé : lancez make release"
        nb = json.loads(text)
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), path


@pytest.mark.slow
def test_release_is_up_to_date(root):
    problems = release_differences(root)
    assert not problems, "\n".join(problems)


def test_student_version_has_stubs_and_no_solutions_or_hidden_tests(root):
    for slug in CATALOG.slugs:
        student = student_path(root, slug).read_text(encoding="utf-8")
        source = solution_path(root, slug).read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" in source and "BEGIN HIDDEN TESTS" in source
        assert "BEGIN SOLUTION" not in student and "HIDDEN TESTS" not in student and "hidden_checks" not in student
        assert "VOTRE CODE ICI" in student


def test_every_notebook_has_the_catalog_cells_and_init(root):
    for slug in CATALOG.slugs:
        nb = nbformat.read(solution_path(root, slug), as_version=4)
        for tag in ("header", "install", "parameters"):
            assert len([c for c in nb.cells if tag in c.metadata.get("tags", [])]) == 1, (slug, tag)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert params.source == "SMOKE = False"
        assert any("labkit.init(" in c.source for c in nb.cells if c.cell_type == "code")
        assert f"Notebook {slug[:2]} — {CATALOG.get(slug).title}" in nb.cells[0].source


@pytest.mark.slow
def test_papermill_injects_smoke_and_figures_are_written(root, tmp_path):
    """Le chemin de ``labkit-course execute`` : le paramètre papermill et les figures du site (notebook 01)."""
    first = CATALOG.slugs[0]
    execute_solutions(root, tmp_path / "out", smoke=True, figures_dir=tmp_path / "figures", only=[first])
    nb = nbformat.read(tmp_path / "out" / f"{first}.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "SMOKE = True" in injected[0].source
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "mode rapide (smoke)" in printed
    assert (tmp_path / "figures" / "01_courbes_reference.png").is_file()
