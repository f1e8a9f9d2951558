"""Le travail de l'enseignant, de la liste des étudiants au fichier de notes pour Moodle, avec les commandes documentées.

Sur le notebook témoin (rapide, sans cadre de deep learning) : liste des étudiants, archive Moodle
avec un rendu en retard et un participant inconnu, correction, retours, exports ; une correction
recommencée ne touche pas aux autres ; une correction interrompue (processus tué) puis relancée
finit avec toutes les notes, sans doublon ; la correction en parallèle donne les mêmes notes ;
le nettoyage n'efface jamais les notes.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import nbformat
import pytest
from _grading import FIXTURE_SLUG, fixture_notebook

from labkit.course import classroom, grading
from labkit.course.catalog import parse_catalog

pytestmark = pytest.mark.slow

STUDENTS = [("ana", "Martin", "Ana", "ana.martin@exemple.fr"), ("leo", "Durand", "Léo", "leo.durand@exemple.fr"),
            ("ines", "Petit", "Inès", "ines.petit@exemple.fr"), ("tom", "Moreau", "Tom", "tom.moreau@exemple.fr")]
WRONG = {"ana": {}, "leo": {"ex2_mean": "def mean(values):\n    return 0.0"}, "ines": {"ex1_double": "def double(x):\n    return x"},
         "tom": {"ex3_even": "def is_even(n):\n    return True"}}

CATALOG = """[publication]
repository = "exemple/cours"
branch = "main"
site_url = "https://exemple.invalid/cours/"
colab_url = "https://colab.exemple.invalid/{repository}/{branch}/{path}"

[[modules]]
number = 1
title = "Témoin"
page = "modules/1.md"

[[notebooks]]
slug = "00_temoin"
title = "Notebook témoin"
module = 1
frameworks = ["torch"]
extras = []
lesson = "lecons/00.md"
duration = "5 min"
"""


def _course(tmp_path):
    course = tmp_path / "cours"
    (course / "solutions" / FIXTURE_SLUG).mkdir(parents=True)
    nbformat.write(fixture_notebook(), course / "solutions" / FIXTURE_SLUG / f"{FIXTURE_SLUG}.ipynb")
    (course / "course.toml").write_text(CATALOG, encoding="utf-8")
    parse_catalog(CATALOG, course)
    grading.write_config(course, timeout=30)
    release = grading.generate_assignment(course, FIXTURE_SLUG)
    return course, release


def _copy(release, edits, target):
    nb = nbformat.read(release, as_version=4)
    answers = {"ex1_double": "def double(x):\n    return 2 * x", "ex2_mean": "def mean(values):\n    return float(np.mean(values))",
               "ex3_even": "def is_even(n):\n    return n % 2 == 0", **edits}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in answers:
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(nb, target)
    return target.read_bytes()


def _cli(course, *args, **kwargs):
    env = {**os.environ, "COURSE_ROOT": str(course)}
    return subprocess.run([sys.executable, "-m", "labkit.course", *args], cwd=course, env=env, capture_output=True, text=True,
                          **kwargs)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    """De la liste des étudiants et d'une archive Moodle aux exports, avec les commandes documentées."""
    tmp = tmp_path_factory.mktemp("enseignant")
    course, release = _course(tmp)
    roster = tmp / "liste.csv"
    with roster.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["identifiant", "nom", "prénom", "courriel"])
        writer.writerows(STUDENTS)
    entries = {}
    for number, (identifier, last, first, _) in enumerate(STUDENTS):
        folder = f"{first} {last}_{1000 + number}_assignsubmission_file_"
        entries[f"{folder}/{FIXTURE_SLUG}.ipynb"] = _copy(release, WRONG[identifier], tmp / f"{identifier}.ipynb")
    entries["Zoé Inconnue_1999_assignsubmission_file_/00_temoin.ipynb"] = entries[next(iter(entries))]
    archive = classroom.archive_of_moodle_layout(entries, tmp / "moodle.zip", datetime(2026, 12, 10, 9, 30))
    # Léo rend en retard : une seconde archive, datée après l'échéance, ne contient que lui.
    leo_again = _copy(release, {"ex2_mean": "def mean(values):\n    return 0.0  # nouvelle version"}, tmp / "leo2.ipynb")
    late = classroom.archive_of_moodle_layout({k: leo_again for k in entries if k.startswith("Léo")}, tmp / "retard.zip",
                                              datetime(2026, 12, 16, 8, 0))
    outputs = {}
    outputs["roster"] = _cli(course, "roster", str(roster))
    outputs["collect"] = _cli(course, "collect", FIXTURE_SLUG, str(archive), "--due", "2026-12-15 23:59")
    outputs["collect_late"] = _cli(course, "collect", FIXTURE_SLUG, str(late), "--due", "2026-12-15 23:59")
    outputs["grade"] = _cli(course, "grade", FIXTURE_SLUG, "--smoke", "--jobs", "2")
    outputs["feedback"] = _cli(course, "feedback", FIXTURE_SLUG)
    outputs["export"] = _cli(course, "export", FIXTURE_SLUG)
    return course, outputs


def test_every_command_succeeds_and_speaks_french(workflow):
    _, outputs = workflow
    for name, result in outputs.items():
        assert result.returncode == 0, (name, result.stdout, result.stderr[-2000:])
    assert "4 étudiant(s) enregistré(s)" in outputs["roster"].stdout
    assert "inconnu de la liste : Zoé Inconnue" in outputs["collect"].stdout
    assert "en retard : leo" in outputs["collect_late"].stdout
    assert "4 copie(s) corrigée(s)" in outputs["grade"].stdout


def test_grades_per_exercise_and_the_moodle_file(workflow):
    course, _ = workflow
    exports = course / "grading" / "exports"
    rows = {r["identifiant"]: r for r in csv.DictReader((exports / f"{FIXTURE_SLUG}_exercices.csv").open(encoding="utf-8"))}
    assert rows["ana"]["total"] == "6.0" and rows["ana"]["courriel"] == "ana.martin@exemple.fr"
    assert rows["leo"]["ex2_tests"] == "0.0" and rows["leo"]["ex1_tests"] == "2.0"
    assert rows["ines"]["ex1_tests"] == "0.0" and rows["tom"]["ex3_tests"] == "0.0"
    assert float(rows["leo"]["retard (h)"]) > 0 and float(rows["ana"]["retard (h)"]) == 0
    moodle = list(csv.reader((exports / f"moodle_{FIXTURE_SLUG}.csv").open(encoding="utf-8")))
    assert moodle[0] == ["Adresse de courriel", FIXTURE_SLUG]
    assert dict(moodle[1:]) == {"ana.martin@exemple.fr": "6", "leo.durand@exemple.fr": "4", "ines.petit@exemple.fr": "4",
                                "tom.moreau@exemple.fr": "4"}
    assert (course / "grading" / "unmatched" / FIXTURE_SLUG).is_dir()
    assert len(list((course / "grading" / "feedback").glob(f"*/{FIXTURE_SLUG}/*.html"))) == 4


def test_a_replaced_submission_is_archived_not_lost(workflow):
    course, _ = workflow
    archived = list((course / "grading" / "archive").glob(f"*/leo/{FIXTURE_SLUG}/{FIXTURE_SLUG}.ipynb"))
    assert archived, "le premier rendu de Léo doit être gardé"


def test_regrading_one_student_leaves_the_others_intact(workflow):
    course, _ = workflow
    before = grading.read_scores(course, FIXTURE_SLUG)
    stamp = (course / "grading" / "autograded" / "ana" / FIXTURE_SLUG / f"{FIXTURE_SLUG}.ipynb").stat().st_mtime
    result = _cli(course, "grade", FIXTURE_SLUG, "--smoke", "--student", "tom", "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    after = grading.read_scores(course, FIXTURE_SLUG)
    assert after == before
    assert (course / "grading" / "autograded" / "ana" / FIXTURE_SLUG / f"{FIXTURE_SLUG}.ipynb").stat().st_mtime == stamp


def test_clean_never_deletes_the_grades(workflow):
    course, _ = workflow
    (course / "build").mkdir(exist_ok=True)
    result = _cli(course, "clean")
    assert result.returncode == 0 and (course / "grading" / "gradebook.db").is_file()
    with pytest.raises(Exception, match="notes"):
        classroom.safe_clean(course, ["grading"])


def test_an_interrupted_batch_resumes_with_every_grade_once(tmp_path):
    course, release = _course(tmp_path)
    for identifier, edits in WRONG.items():
        path = tmp_path / f"{identifier}.ipynb"
        _copy(release, edits, path)
        grading.submit(course, FIXTURE_SLUG, identifier, path)
    env = {**os.environ, "COURSE_ROOT": str(course)}
    process = subprocess.Popen([sys.executable, "-m", "labkit.course", "grade", FIXTURE_SLUG, "--smoke"], cwd=course, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(grading.is_graded(course, FIXTURE_SLUG, s) for s in WRONG):
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)  # la correction et son noyau, tués au milieu du lot
    process.wait()
    done_before = [s for s in WRONG if grading.is_graded(course, FIXTURE_SLUG, s)]
    assert 0 < len(done_before) < len(WRONG), done_before
    result = _cli(course, "grade", FIXTURE_SLUG, "--smoke")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(done_before)} déjà notée(s)" in result.stdout
    scores = grading.read_scores(course, FIXTURE_SLUG)
    assert sorted(scores) == sorted(WRONG)  # une soumission par étudiant, aucune en double
    assert all(grading.is_graded(course, FIXTURE_SLUG, s) for s in WRONG)
    assert scores["ana"]["total"] == 6 and scores["leo"]["cells"]["ex2_tests"] == 0


def test_parallel_grading_gives_the_same_grades_as_serial(tmp_path):
    tables = []
    for jobs in (1, 2):
        course, release = _course(tmp_path / f"jobs{jobs}")
        for identifier, edits in WRONG.items():
            path = tmp_path / f"jobs{jobs}" / f"{identifier}.ipynb"
            _copy(release, edits, path)
            grading.submit(course, FIXTURE_SLUG, identifier, path)
        run = grading.autograde(course, FIXTURE_SLUG, jobs=jobs, smoke=True, progress=False)
        assert not run.failed and sorted(run.graded) == sorted(WRONG)
        tables.append(grading.summary_table(course, FIXTURE_SLUG).drop(columns=["anomalies"]))
    assert tables[0].equals(tables[1])


def test_plain_nbgrader_works_on_the_same_gradebook(workflow):
    """Les commandes nbgrader elles-mêmes (export, formgrader…) voient le carnet que labkit-course remplit."""
    course, _ = workflow
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    result = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = list(csv.DictReader((course / "grades.csv").open(encoding="utf-8")))
    assert {r["student_id"] for r in rows} == {s[0] for s in STUDENTS}


def test_the_repository_config_makes_the_repository_an_nbgrader_course(root, tmp_path):
    shutil.copy2(root / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(root / "solutions" / "01_surapprentissage", tmp_path / "solutions" / "01_surapprentissage")
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "01_surapprentissage", "--force"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "grading" / "release" / "01_surapprentissage" / "01_surapprentissage.ipynb").is_file()
    assert (tmp_path / "grading" / "gradebook.db").is_file()
