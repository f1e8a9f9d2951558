"""Les outils du cours : le catalogue, l'ajout d'un notebook, la version étudiante, la publication."""

import hashlib
import importlib.util
import re
import shutil

import nbformat
import pytest
from _grading import (
    answer_tests_cell,
    assert_only_these_lose_their_points,
    assert_solution_full_and_untouched_zero,
    graded_course,
    points_of,
)

from labkit.course import publish
from labkit.course.catalog import load_catalog, parse_catalog
from labkit.course.execute import execute_solutions
from labkit.course.paths import solution_path
from labkit.course.release import build_release
from labkit.course.scaffold import scaffold
from labkit.errors import CourseError

CATALOG = load_catalog()


def test_every_catalog_entry_has_its_solution_lesson_and_mistakes(root):
    for nb in CATALOG.notebooks:
        assert (root / nb.solution).is_file(), nb.solution
        assert (root / "docs" / nb.lesson).is_file(), nb.lesson
        assert (root / nb.mistakes).is_file(), nb.mistakes
    for module in CATALOG.modules:
        assert (root / "docs" / module.page).is_file(), module.page
    assert sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir()) == CATALOG.slugs


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace('module = 1', 'module = 7', 1), "module 7 inconnu"),
    (lambda t: t.replace('extras = ["torch"]', 'extras = ["nbgrader"]', 1), "« extras » accepte"),
    (lambda t: t.replace('duration = ', 'duree = ', 1), "champ(s) inconnu(s)"),
    (lambda t: t.replace('repository = "', 'repository = "pas un dépôt ', 1), "propriétaire/nom"),
    (lambda t: t + "\n[[notebooks]\n", "TOML valide"),
])
def test_a_wrong_catalog_gets_a_french_error_naming_the_field(root, change, message):
    text = change((root / "course.toml").read_text(encoding="utf-8"))
    with pytest.raises(CourseError, match=re.escape(message)):
        parse_catalog(text, root)


def test_the_install_cell_asks_for_the_catalog_extras(root):
    for nb in CATALOG.notebooks:
        notebook = nbformat.read(root / nb.student, as_version=4)
        assert any("install" in c.metadata.get("tags", []) for c in notebook.cells), nb.slug
    published = publish.publish_cells(nbformat.read(root / CATALOG.notebooks[2].student, as_version=4), CATALOG,
                                      CATALOG.notebooks[2].slug, wheel_name="ameliorer_dl-0.1.0-py3-none-any.whl")
    install = next(c for c in published.cells if "install" in c.metadata.get("tags", []))
    assert "LABKIT_EXTRAS = [" + ", ".join(f'"{e}"' for e in CATALOG.notebooks[2].extras) + "]" in install.source
    assert CATALOG.publication.wheel_url("ameliorer_dl-0.1.0-py3-none-any.whl") in install.source


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_adding_a_notebook_touches_only_its_own_files_and_it_releases_runs_and_grades(root, tmp_path):
    """`labkit-course new` sur une copie du cours : quatre fichiers, puis publication, exécution rapide, correction."""
    course = tmp_path / "cours"
    course.mkdir()
    for name in ("course.toml", "pyproject.toml", "mkdocs.yml"):
        shutil.copy2(root / name, course / name)
    for folder in ("solutions", "docs", "tests/mistakes"):
        shutil.copytree(root / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = _snapshot(course)
    slug = f"{max(int(nb.number) for nb in CATALOG.notebooks) + 1:02d}_temporaire"
    written = scaffold(course, slug, "Un notebook temporaire", module=4)
    after = _snapshot(course)
    changed = {path for path in after if before.get(path) != after[path]}
    assert changed == {"course.toml", f"solutions/{slug}/{slug}.ipynb", f"docs/lecons/{slug.replace('_', '-')}.md",
                       f"tests/mistakes/{slug}.py"}, changed
    assert len(written) == 4
    catalog = load_catalog(course)
    assert catalog.slugs[-1] == slug and catalog.get(slug).module == 4
    with pytest.raises(CourseError, match="déjà"):
        scaffold(course, slug, "encore")

    released = build_release(course, tmp_path / "release", slugs=[slug])[0]
    text = released.read_text(encoding="utf-8")
    assert "VOTRE CODE ICI" in text and "BEGIN SOLUTION" not in text and "HIDDEN" not in text
    durations = execute_solutions(course, tmp_path / "executed", smoke=True, only=[slug])
    assert slug in durations
    executed = nbformat.read(tmp_path / "executed" / f"{slug}.ipynb", as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]

    spec = importlib.util.spec_from_file_location("mistakes_tmp", course / catalog.get(slug).mistakes)
    mistakes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mistakes)
    _, scores, _ = graded_course(course, tmp_path / "correction", slug, {"wrong": mistakes.MISTAKES}, timeout=120)
    points = points_of(solution_path(course, slug))
    assert_solution_full_and_untouched_zero(scores, points)
    assert_only_these_lose_their_points(scores["wrong"], points, {answer_tests_cell(g) for g in mistakes.MISTAKES})


def test_the_publication_check_finds_answers_wherever_they_hide(root, tmp_path):
    secret = sorted(publish.secret_lines(root))[0]
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "page.html").write_text("<p>Rien à voir.</p>", encoding="utf-8")
    assert publish.check_publication(tmp_path, root) == []
    shutil.copy2(root / CATALOG.notebooks[0].solution, tmp_path / "notebooks" / "copie.ipynb")
    (tmp_path / "fuite.html").write_text(f"<pre><span>{secret}</span></pre>", encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(tmp_path / "paquet.whl", "w") as archive:
        archive.writestr("labkit/fuite.py", secret)
    problems = publish.check_publication(tmp_path, root)
    assert any(p.startswith("notebooks/copie.ipynb") for p in problems)
    assert any(p.startswith("fuite.html") for p in problems) and any(p.startswith("paquet.whl") for p in problems)
