"""Les attaques qui ne dépendent pas du contenu d'un notebook, prouvées une fois sur un petit notebook témoin.

Le témoin a trois exercices écrits comme ceux du cours (tests visibles, puis tests cachés
qui relient leurs vérifications à :mod:`labkit.hidden_checks`). Un test statique
(``test_every_notebook_follows_the_safe_pattern``) vérifie que chaque notebook du cours
suit ce modèle : ce qui est prouvé ici vaut pour eux.
"""

import re

import nbformat
import pytest
from _grading import FIXTURE_POINTS as POINTS
from _grading import FIXTURE_SLUG as SLUG
from _grading import REBIND, fixture_notebook, graded_course

from labkit.course import grading, guard
from labkit.course.catalog import load_catalog
from labkit.course.paths import solution_path

pytestmark = pytest.mark.slow


def _with(release, target, edits=None, prepend=None, transform=None):
    """Une copie de la version étudiante : réponses ``edits`` ({grade_id: code}), cellule ajoutée, transformation."""
    nb = nbformat.read(release, as_version=4)
    answers = {
        "ex1_double": "def double(x):\n    return 2 * x",
        "ex2_mean": "def mean(values):\n    return float(np.mean(values))",
        "ex3_even": "def is_even(n):\n    return n % 2 == 0",
    }
    answers.update(edits or {})
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    if prepend:
        nb.cells.insert(3, nbformat.v4.new_code_cell(prepend))
    if transform:
        transform(nb)
    nbformat.write(nb, target)
    return target


WRONG_MEAN = "def mean(values):\n    return 0.0"

# Chaque variante : (réponses, cellule ajoutée, transformation) et les cellules de tests qui doivent valoir 0.
ATTACKS = {
    # Vérifications redéfinies dans une réponse : la cellule est neutralisée, la réponse fausse vaut 0.
    "redefinit": (
        {
            "ex1_double": "def double(x):\n    return 2 * x\ncheck = check_equal = check_close = lambda *a, **k: None",
            "ex2_mean": WRONG_MEAN,
        },
        None,
        None,
        {"ex1_tests", "ex2_tests"},
    ),
    # Modules modifiés (labkit.checks, numpy.testing, builtins).
    "modifie_modules": (
        {
            "ex2_mean": "import labkit.checks\nlabkit.checks.check_close = print\n" + WRONG_MEAN,
            "ex1_double": "np.testing.assert_allclose = print\ndef double(x):\n    return 2 * x",
            "ex3_even": "import builtins\nbuiltins.isinstance = lambda *a: True\ndef is_even(n):\n    return n % 2 == 0",
        },
        None,
        None,
        {"ex1_tests", "ex2_tests", "ex3_tests"},
    ),
    # Un objet dont l'égalité répond toujours oui, une fausse ligne ✅ affichée.
    "objet_truque": (
        {
            "ex1_double": "class Anything(int):\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = int.__hash__\n\ndef double(x):\n    print('✅ double de -7 : correct.')\n"
            "    return Anything(0)"
        },
        None,
        None,
        {"ex1_tests"},
    ),
    # Une réponse fausse que seuls les tests cachés voient : le retour ne donne pas la valeur attendue.
    "faux_cache": ({"ex2_mean": "def mean(values):\n    return 2.0"}, None, None, {"ex2_tests"}),
    # Cellules de tests vidées, supprimées, déplacées ; cellule de paramètres réécrite et déverrouillée ;
    # une cellule ajoutée qui redéfinit les vérifications ; le rôle d'une cellule changé dans ses métadonnées.
    "cellules_modifiees": (
        {"ex2_mean": WRONG_MEAN},
        "check = check_close = check_equal = lambda *a, **k: None",
        lambda nb: _edit_cells(nb),
        {"ex2_tests"},
    ),
    # Boucle sans fin (interrompue au délai), allocation géante (refusée), exceptions.
    "boucle_memoire": (
        {
            "ex1_double": "def double(x):\n    while True:\n        pass",
            "ex2_mean": "_waste = np.ones(2 * 1024**3)  # 16 Go\n" + WRONG_MEAN.replace("0.0", "float(np.mean(values))"),
            "ex3_even": "def is_even(n):\n    raise ValueError('oups')",
        },
        None,
        None,
        {"ex1_tests", "ex2_tests", "ex3_tests"},
    ),
    # Sortie du processus, affichage des erreurs détourné : neutralisés par la lecture des réponses.
    "sortie_et_traces": (
        {"ex1_double": "import os\nos._exit(0)", "ex2_mean": "get_ipython().showtraceback = lambda *a, **k: None\n" + WRONG_MEAN},
        None,
        None,
        {"ex1_tests", "ex2_tests"},
    ),
}


def _edit_cells(nb):
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    tests["ex1_tests"].source = ""  # vidée
    nb.cells.remove(tests["ex3_tests"])  # supprimée
    nb.cells.remove(tests["ex2_tests"])
    nb.cells.insert(1, tests["ex2_tests"])  # déplacée avant la réponse
    tests["ex2_tests"].source = "print('✅ tout est correct')"  # et réécrite
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = "SMOKE = True"
    params.metadata["nbgrader"]["locked"] = False
    params.metadata.pop("editable", None)
    for cell in nb.cells:  # une réponse déclarée « cellule de tests »
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex1_double":
            cell.metadata["nbgrader"].update({"solution": False, "grade": True, "points": 2})


@pytest.fixture(scope="module")
def fixture_course(root, tmp_path_factory):
    course = tmp_path_factory.mktemp("temoin")
    grading.write_config(course, timeout=20)
    source = course / "solutions" / SLUG / f"{SLUG}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(fixture_notebook(), source)
    return course, source


@pytest.fixture(scope="module")
def attacked(root, fixture_course):
    course, source = fixture_course
    variants = {name: (lambda release, target, a=attack: _with(release, target, a[0], a[1], a[2])) for name, attack in ATTACKS.items()}
    course, scores, run = graded_course(root, course, SLUG, variants, timeout=20, solution=source)
    return course, scores


def test_solution_full_and_untouched_zero(attacked):
    _, scores = attacked
    assert scores["solution"]["total"] == sum(POINTS.values()) == scores["solution"]["max"]
    assert scores["untouched"]["total"] == 0


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_earns_nothing_and_the_other_exercises_keep_their_points(attacked, attack):
    _, scores = attacked
    lost = ATTACKS[attack][3]
    for grade_id, full in POINTS.items():
        assert scores[attack]["cells"][grade_id] == (0 if grade_id in lost else full), (attack, scores[attack]["cells"])


def test_tampering_is_reported_in_the_summary(attacked):
    course, _ = attacked
    table = grading.summary_table(course, SLUG)
    for attack in ("redefinit", "modifie_modules", "sortie_et_traces"):
        assert "tentative de détournement" in table.loc[attack, "anomalies"], attack
    assert "délai dépassé" in table.loc["boucle_memoire", "anomalies"] or table.loc["boucle_memoire", "ex1_tests"] == 0
    assert table.loc["solution", "anomalies"] == ""


def test_feedback_shows_the_french_message_never_the_hidden_code_or_expected_values(attacked):
    course, _ = attacked
    pages = grading.generate_feedback(course, SLUG)
    html = {p.parts[-3]: p.read_text(encoding="utf-8") for p in pages}
    assert set(html) >= {"solution", "untouched", "redefinit"}
    for student, page in html.items():
        assert "hidden_checks" not in page and "double(-7)" not in page and "HIDDEN TESTS" not in page, student
    # La moyenne fausse : le message dit ce qui est faux, sans la valeur attendue (4,0).
    assert "moyenne de deux nombres" in html["faux_cache"] and "on attend 4" not in html["faux_cache"]


def test_runtime_layers_hold_even_without_the_answer_scan(root, tmp_path):
    """Sans la lecture des réponses, les protections d'exécution suffisent contre ces attaques."""
    course = tmp_path / "sans_lecture"
    grading.write_config(course, timeout=20)
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text(encoding="utf-8") + "get_config().ScanTampering.enabled = False\n", encoding="utf-8"
    )
    source = course / "solutions" / SLUG / f"{SLUG}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(fixture_notebook(), source)
    transformer = (
        "def _swallow(lines):\n    return ['try:\\n'] + ['    ' + l for l in lines] + ['except Exception:\\n    pass\\n']\n"
        "get_ipython().input_transformers_post.append(_swallow)\n"
    )
    variants = {
        # Le noyau meurt dans la réponse 1 : elle vaut 0, la copie est réexécutée, les autres gardent leurs points.
        "noyau_tue": lambda r, t: _with(r, t, {"ex1_double": "import os\nos._exit(0)"}),
        # Erreurs avalées par un transformateur d'entrée : le jeton des tests n'apparaît pas, 0.
        "erreurs_avalees": lambda r, t: _with(r, t, {"ex2_mean": transformer + WRONG_MEAN}),
        # Une boucle qui ignore l'interruption bloque le noyau : la cellule est neutralisée, la copie réexécutée.
        "bloque": lambda r, t: _with(
            r, t, {"ex3_even": "while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass"}
        ),
        # Vérifications redéfinies : les tests cachés les relient à nouveau, la réponse fausse vaut 0.
        "redefinit": lambda r, t: _with(r, t, {"ex2_mean": "check_close = check = lambda *a, **k: None\n" + WRONG_MEAN}),
    }
    _, scores, _ = graded_course(root, course, SLUG, variants, timeout=20, solution=source)
    assert scores["noyau_tue"]["cells"] == {"ex1_tests": 0, "ex2_tests": 2, "ex3_tests": 2}
    assert scores["erreurs_avalees"]["cells"]["ex2_tests"] == 0
    assert scores["bloque"]["cells"] == {"ex1_tests": 2, "ex2_tests": 2, "ex3_tests": 0}
    assert scores["redefinit"]["cells"]["ex2_tests"] == 0 and scores["redefinit"]["cells"]["ex1_tests"] == 2


# --------------------------------------------------------------------------- le modèle sûr, dans chaque notebook


def _hidden_blocks(source: str) -> list[str]:
    return re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, flags=re.S)


@pytest.mark.parametrize("slug", load_catalog().slugs)
def test_every_notebook_follows_the_safe_pattern(root, slug):
    """Chaque cellule de tests commence par relier les vérifications, chaque bloc caché par les versions cachées ;
    la cellule de paramètres est verrouillée ; les réponses de la solution passent la lecture anti-détournement."""
    nb = nbformat.read(solution_path(root, slug), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
    assert tests, slug
    for cell in tests:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert cell.source.startswith(REBIND.split("### END")[0]), (
            f"{slug} {grade_id} : la cellule doit commencer par relier les vérifications"
        )
        blocks = _hidden_blocks(cell.source)
        assert len(blocks) >= 2, f"{slug} {grade_id} : aucun test caché"
        for block in blocks[1:]:
            assert block.startswith("from labkit.hidden_checks import *"), f"{slug} {grade_id} : bloc caché sans vérifications cachées"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].metadata.get("nbgrader", {}).get("locked"), f"{slug} : paramètres non verrouillés"
    protected, imports = guard.notebook_names(nb.cells)
    for cell in nb.cells:
        if guard._is_answer(cell):
            assert guard.scan_answer(cell.source, protected, imports) == [], (slug, cell.metadata["nbgrader"]["grade_id"])


@pytest.mark.parametrize("source", [
    "b = type(project.budget)\nb.min_accuracy = 0.0",
    "m = getattr(labkit, 'project')\nm.evaluate_artifact = print",
    "object.__setattr__(project.budget, 'min_accuracy', 0.0)",
    "class Budget:\n    pass\n\nBudget.__init__ = print",
])
def test_the_scan_refuses_to_change_a_class_or_module_reached_through_a_call(source):
    """Une classe ou un module atteint par ``type()``, ``getattr()`` ou une méthode spéciale ne se modifie pas."""
    assert guard.scan_answer(source, {"project"}, {"labkit": "labkit"})


def test_the_scan_still_accepts_a_torch_module_that_calls_its_parent():
    source = ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\n\n"
              "kind = type(model)\nname = kind.__name__")
    assert guard.scan_answer(source, set(), {"nn": "torch.nn"}) == []
