"""Correction nbgrader partagée par les tests : préparer un cours, déposer des copies, corriger, lire les notes."""

from pathlib import Path

import nbformat

from labkit.course import grading
from labkit.course.paths import solution_path

FIXTURE_SLUG = "00_temoin"
FIXTURE_POINTS = {"ex1_tests": 2, "ex2_tests": 2, "ex3_tests": 2}
REBIND = "### BEGIN HIDDEN TESTS\nfrom labkit.checks import *  # noqa: F401,F403\n### END HIDDEN TESTS\n"
HIDDEN = "### BEGIN HIDDEN TESTS\nfrom labkit.hidden_checks import *  # noqa: F401,F403\n"


def _answer(grade_id, source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
                                 "solution": True, "task": False}
    return cell


def _tests(grade_id, visible, hidden):
    cell = nbformat.v4.new_code_cell(REBIND + visible + "\n" + HIDDEN + hidden + "\n### END HIDDEN TESTS")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": 2, "schema_version": 3,
                                 "solution": False, "task": False}
    return cell


def fixture_notebook():
    """Un petit notebook noté, sans cadre de deep learning : trois exercices écrits comme ceux du cours."""
    params = nbformat.v4.new_code_cell("SMOKE = False")
    params.metadata["tags"] = ["parameters"]
    params.metadata["nbgrader"] = {"grade": False, "grade_id": "parameters", "locked": True, "schema_version": 3,
                                   "solution": False, "task": False}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Notebook témoin de la correction"),
        params,
        nbformat.v4.new_code_cell("import numpy as np\n\nimport labkit\nfrom labkit.checks import check, check_close, check_equal\n\n"
                                  "ctx = labkit.init(seed=0, smoke=SMOKE, framework=None)"),
        _answer("ex1_double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        _tests("ex1_tests", 'check_equal(double(2), 4, "double de 2")',
               'check_equal(double(-7), -14, "double de -7")\ncheck_equal(double(0.5), 1.0, "double de 0,5")'),
        _answer("ex2_mean", "def mean(values):\n    ### BEGIN SOLUTION\n    return float(np.mean(values))\n    ### END SOLUTION"),
        _tests("ex2_tests", 'check_close(mean([1, 2, 3]), 2.0, "moyenne")',
               'check_close(mean([10.0, -2.0]), 4.0, "moyenne de deux nombres")\n'
               'check(isinstance(mean([1]), float), "type", "renvoyez un float.")'),
        _answer("ex3_even", "def is_even(n):\n    ### BEGIN SOLUTION\n    return n % 2 == 0\n    ### END SOLUTION"),
        # Le mode est celui de la correction (LABKIT_SMOKE), jamais celui que la copie écrirait.
        _tests("ex3_tests", 'check_equal(is_even(4), True, "4 est pair")',
               'check_equal(is_even(7), False, "7 est impair")\ncheck_equal(SMOKE, False, "paramètre rétabli")\n'
               'check_equal(ctx.smoke, True, "mode de la correction")'),
    ])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return nb


def variant_notebook(path, replacements, target):
    """Une copie de ``path`` où les cellules de réponse ``{grade_id: code}`` sont remplacées."""
    nb = nbformat.read(path, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements[grade_id]
            found.add(grade_id)
    missing = set(replacements) - found
    assert not missing, f"cellules introuvables dans {path} : {sorted(missing)}"
    nbformat.write(nb, target)
    return target


def graded_course(root, course_root, slug, variants, *, timeout, solution=None, smoke=True, jobs=1):
    """Dépose la solution, la version étudiante non touchée et des variantes, puis corrige le tout.

    Une variante est soit ``{grade_id: code}`` (appliqué à la solution), soit un notebook déjà
    préparé (``Path``), soit une fonction ``f(release, target) -> Path`` qui part de la version
    étudiante. Renvoie ``(dossier du cours, notes, déroulé de la correction)``.
    """
    course = grading.prepare_course(root, course_root, [slug], timeout=timeout) if solution is None else course_root
    solution = solution or solution_path(root, slug)
    release = grading.generate_assignment(course, slug)
    work = Path(course) / "variantes"
    work.mkdir(exist_ok=True)
    submissions = {"solution": solution, "untouched": release}
    for name, variant in variants.items():
        target = work / f"{name}.ipynb"
        if isinstance(variant, Path):
            submissions[name] = variant
        elif callable(variant):
            submissions[name] = variant(release, target)
        else:
            submissions[name] = variant_notebook(solution, variant, target)
    for student, notebook in submissions.items():
        grading.submit(course, slug, student, notebook)
    run = grading.autograde(course, slug, smoke=smoke, progress=False, jobs=jobs)
    assert not run.failed, run.failed
    return course, grading.read_scores(course, slug), run


def points_of(notebook_path) -> dict:
    """Les points de chaque cellule de tests, lus dans les métadonnées nbgrader (jamais recopiés)."""
    nb = nbformat.read(notebook_path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}


def answer_tests_cell(answer_id: str) -> str:
    """La cellule de tests d'une cellule de réponse : ``ex2_early_stopping`` → ``ex2_tests``."""
    return answer_id.split("_", 1)[0] + "_tests"


def exercise_tests_cells(answer_id: str, points: dict) -> set[str]:
    """Les cellules de tests d'un exercice : ``ex2_early_stopping`` → ``{"ex2_tests"}`` ; un exercice à plusieurs
    critères (notebook 12) en a plusieurs, ``ex2_latency_tests``, ``ex2_size_tests``… (``points`` : :func:`points_of`)."""
    prefix = answer_id.split("_", 1)[0] + "_"
    cells = {cell for cell in points if cell.startswith(prefix) and cell.endswith("_tests")}
    assert cells, f"aucune cellule de tests pour {answer_id}"
    return cells


def assert_solution_full_and_untouched_zero(scores, points):
    assert scores["solution"]["max"] == sum(points.values())
    assert scores["solution"]["total"] == sum(points.values()), scores["solution"]["cells"]
    assert scores["untouched"]["total"] == 0


def assert_only_these_lose_their_points(score, points, lost):
    """Les cellules de tests ``lost`` ont 0, toutes les autres leurs points complets."""
    cells = score["cells"]
    for grade_id, full in points.items():
        assert cells[grade_id] == (0 if grade_id in lost else full), (grade_id, cells)
