"""Notebooks : exécution en mode rapide, sorties déterministes, version étudiante à jour."""

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest

from labkit.course.execute import execute_solutions
from labkit.course.paths import assignments, solution_path, student_path
from labkit.course.release import normalized_text, release_differences

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executed(root, tmp_path_factory):
    """Chaque solution exécutée une fois par papermill, en mode rapide."""
    out = tmp_path_factory.mktemp("executed")
    figures = tmp_path_factory.mktemp("figures")
    start = time.perf_counter()
    durations = execute_solutions(root, out, smoke=True, figures_dir=figures)
    return out, figures, durations, time.perf_counter() - start


def test_there_is_at_least_one_assignment(root):
    assert "01_surapprentissage" in assignments(root)


def test_solutions_run_in_smoke_mode_without_error(executed, root):
    """Aucune erreur en mode rapide. Les durées sont affichées, jamais comparées à un seuil :
    une machine occupée ne doit pas faire échouer la suite (le budget est celui des bancs d'essai)."""
    out, figures, durations, _ = executed
    print("Durées du mode rapide : " + ", ".join(f"{a} {d:.0f} s" for a, d in durations.items()))
    for assignment in assignments(root):
        nb = nbformat.read(out / f"{assignment}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{assignment} : {errors[0]['ename']} {errors[0]['evalue']}"
    assert (figures / "01_courbes_reference.png").is_file()


def test_smoke_parameter_was_injected(executed):
    out, *_ = executed
    nb = nbformat.read(out / "01_surapprentissage.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "SMOKE = True" in injected[0].source
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "mode rapide (smoke)" in printed


def test_deterministic_cells_reproduce_their_outputs_with_nbval(executed, root):
    """nbval ré-exécute le notebook et compare les cellules marquées « nbval-check-output ».

    Les cellules qui suivent la dernière cellule marquée ne peuvent pas changer ses sorties :
    nbval ne ré-exécute que le début du notebook, jusqu'à elle (la suite de tests reste sous
    les 20 minutes de CI).
    """
    out, *_ = executed
    for assignment in assignments(root):
        nb = nbformat.read(out / f"{assignment}.ipynb", as_version=4)
        marked = [i for i, c in enumerate(nb.cells) if "nbval-check-output" in c.metadata.get("tags", [])]
        assert marked, f"{assignment} : aucune cellule marquée pour nbval"
        nb.cells = nb.cells[: marked[-1] + 1]
        beginning = out / f"{assignment}.nbval.ipynb"
        nbformat.write(nb, beginning)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
             "-o", "addopts=", str(beginning)],
            capture_output=True, text=True, cwd=out, env={**os.environ, "LABKIT_SMOKE": "1"},
        )
        assert result.returncode == 0, result.stdout[-3000:]


def test_notebooks_are_committed_clean(root):
    for path in sorted(root.glob("solutions/*/*.ipynb")) + sorted(root.glob("notebooks/*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert text == normalized_text(path), f"{path} n'est pas normalisé : lancez make release"
        nb = json.loads(text)
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), path


def test_release_is_up_to_date(root):
    problems = release_differences(root)
    assert not problems, "\n".join(problems)


def test_student_version_has_stubs_and_no_solutions_or_hidden_tests(root):
    for assignment in assignments(root):
        student = student_path(root, assignment).read_text(encoding="utf-8")
        source = solution_path(root, assignment).read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" in source and "BEGIN HIDDEN TESTS" in source
        assert "BEGIN SOLUTION" not in student and "HIDDEN TESTS" not in student
        assert "VOTRE CODE ICI" in student


def test_every_notebook_has_a_parameters_cell_and_init(root):
    for assignment in assignments(root):
        nb = nbformat.read(solution_path(root, assignment), as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and "SMOKE = False" in params[0].source
        assert any("labkit.init(" in c.source for c in nb.cells if c.cell_type == "code")
