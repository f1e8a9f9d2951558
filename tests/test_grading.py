"""La correction nbgrader de chaque notebook du catalogue : un aller-retour, les mêmes assertions pour tous.

Pour chaque notebook, une seule correction (en mode rapide) reçoit la solution (tous les points),
la version étudiante non touchée (zéro) et le moins de copies possible qui cumulent les erreurs
classiques, les raccourcis et les conventions acceptées de ``tests/mistakes/<notebook>.py`` (chaque
erreur ou raccourci doit perdre exactement les points de son exercice, une convention acceptée aucun).
Les points sont lus dans les métadonnées nbgrader. Les attaques
qui ne dépendent pas du contenu sont prouvées une fois dans ``test_grading_guard.py``.

Chaque notebook forme un groupe de tests (voir ``conftest.py``) : les corrections se répartissent sur
les deux processus de test.
"""

import importlib.util
import os
import re
import subprocess
import sys

import nbformat
import pytest
from _grading import (
    assert_only_these_lose_their_points,
    assert_solution_full_and_untouched_zero,
    exercise_tests_cells,
    graded_course,
    points_of,
)

from labkit.course import grading
from labkit.course.catalog import load_catalog
from labkit.course.paths import solution_path

pytestmark = pytest.mark.slow
CATALOG = load_catalog()


def load_mistakes(root, slug):
    """Le fichier des erreurs classiques du notebook : ``MISTAKES``, ``SHORTCUTS`` et, s'il y en a, ``ACCEPTED``
    (réponses justes écrites autrement), chacun ``{grade_id: code}``."""
    path = root / CATALOG.get(slug).mistakes
    assert path.is_file(), f"{path} manque : chaque notebook a son fichier d'erreurs classiques"
    spec = importlib.util.spec_from_file_location(f"mistakes_{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.MISTAKES, f"{path} : au moins une erreur classique"
    return module.MISTAKES, module.SHORTCUTS, getattr(module, "ACCEPTED", {})


def copies(mistakes, shortcuts, accepted, points):
    """Le moins de copies possible : chaque réponse (erreur, raccourci, convention acceptée) va dans la première copie
    où son exercice n'est pas déjà visé. Renvoie ``{nom: {grade_id: code}}`` et, pour chaque copie, les cellules de
    tests qui doivent valoir 0 (celles des erreurs et des raccourcis ; une convention acceptée ne perd rien).

    Une erreur ou un raccourci perd toutes les cellules de tests de son exercice, sauf s'il est écrit
    ``(code, {cellules})`` : il ne perd alors que ces cellules (un exercice à plusieurs critères, notebook 12)."""
    packed, lost = [], []
    for kind, answers in (("wrong", mistakes), ("wrong", shortcuts), ("accepted", accepted)):
        for grade_id, entry in answers.items():
            code, cells = entry if isinstance(entry, tuple) else (entry, exercise_tests_cells(grade_id, points))
            index = next((i for i, copy in enumerate(packed) if grade_id not in copy), len(packed))
            if index == len(packed):
                packed.append({})
                lost.append(set())
            packed[index][grade_id] = code
            if kind == "wrong":
                lost[index] |= set(cells)
    names = [f"copie_{i + 1}" for i in range(len(packed))]
    return dict(zip(names, packed)), dict(zip(names, lost))


@pytest.fixture(scope="module", params=CATALOG.slugs)
def graded(request, root, tmp_path_factory):
    slug = request.param
    mistakes, shortcuts, accepted = load_mistakes(root, slug)
    variants, lost = copies(mistakes, shortcuts, accepted, points_of(solution_path(root, slug)))
    course, scores, run = graded_course(root, tmp_path_factory.mktemp(f"correction_{slug}"), slug, variants, timeout=300)
    holders = {grade_id: name for name, variant in variants.items() for grade_id in variant if grade_id in accepted
               and variant[grade_id] == accepted[grade_id]}
    return slug, course, scores, lost, holders


def test_solution_full_untouched_zero(root, graded):
    slug, _, scores, _, _ = graded
    assert_solution_full_and_untouched_zero(scores, points_of(solution_path(root, slug)))


def test_each_classic_mistake_and_shortcut_loses_exactly_its_exercise(root, graded):
    slug, _, scores, lost, _ = graded
    for name, cells in lost.items():
        assert_only_these_lose_their_points(scores[name], points_of(solution_path(root, slug)), cells)


def test_other_accepted_conventions_lose_nothing(root, graded):
    slug, _, scores, _, holders = graded
    points = points_of(solution_path(root, slug))
    for grade_id, name in holders.items():
        for tests_cell in exercise_tests_cells(grade_id, points):
            assert scores[name]["cells"][tests_cell] == points[tests_cell], (grade_id, name, scores[name]["cells"])


def test_the_solution_runs_without_error_or_anomaly(graded):
    """La solution corrigée ne produit aucune erreur (cellules notées ou non) ni anomalie de correction."""
    slug, course, _, _, _ = graded
    nb = nbformat.read(course / "grading" / "autograded" / "solution" / slug / f"{slug}.ipynb", as_version=4)
    errors = [(i, o.ename, o.evalue) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[:3]
    assert grading.anomalies(course, slug, "solution") == []
    # Ce que voit l'étudiant : ni journal de démarrage de TensorFlow, ni avertissement de bibliothèque.
    noise = {line.strip()[:160] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if o.output_type == "stream" and o.get("name") == "stderr" for line in o.text.splitlines()
             if re.search(r"Warning|WARNING|oneDNN|absl|cuda_|TF-TRT", line)}
    assert not noise, sorted(noise)[:5]


def test_deterministic_cells_reproduce_their_outputs_with_nbval(root, graded, tmp_path):
    """Les cellules marquées « nbval-check-output » redonnent, dans une exécution neuve, les sorties qu'elles avaient
    dans la copie « solution » corrigée (même graine, autre processus, autre dossier).

    Le début du notebook corrigé, jusqu'à la dernière cellule marquée, est réexécuté par nbval, qui compare (les
    cellules suivantes ne peuvent pas changer ces sorties). La correction fournit la première exécution : le
    notebook n'est pas exécuté une fois de plus pour cela.
    """
    slug, course, _, _, _ = graded
    nb = nbformat.read(course / "grading" / "autograded" / "solution" / slug / f"{slug}.ipynb", as_version=4)
    marked = [i for i, c in enumerate(nb.cells) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert marked, f"{slug} : aucune cellule marquée pour nbval"
    assert all(nb.cells[i].outputs for i in marked), f"{slug} : une cellule marquée n'a pas de sortie dans la copie corrigée"
    nb.cells = nb.cells[: marked[-1] + 1]
    beginning = tmp_path / f"{slug}.ipynb"
    nbformat.write(nb, beginning)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "-o", "addopts=", str(beginning)],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "LABKIT_SMOKE": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_feedback_hides_the_hidden_tests(graded):
    slug, course, _, _, _ = graded
    pages = grading.generate_feedback(course, slug)
    assert {p.parts[-3] for p in pages} >= {"solution", "untouched", "copie_1"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "hidden_checks" not in html and "HIDDEN TESTS" not in html, page
