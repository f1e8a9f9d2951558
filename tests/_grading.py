"""Aller-retour nbgrader partagé par les tests de correction : soumettre, corriger, comparer les notes."""

from pathlib import Path

import nbformat

from labkit.course import grading
from labkit.course.paths import solution_path


def variant_notebook(path, replacements, target):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements[grade_id]
    nbformat.write(nb, target)
    return target


def graded_course(root, tmp_path_factory, assignment, variants, *, timeout):
    """Soumet la solution, la version étudiante non touchée et des variantes fautives, puis les corrige."""
    course = grading.prepare_course(root, tmp_path_factory.mktemp(f"course_{assignment}"), [assignment], timeout=timeout)
    work = tmp_path_factory.mktemp(f"submissions_{assignment}")
    solution = solution_path(root, assignment)
    submissions = {"solution": solution, "untouched": grading.generate_assignment(course, assignment)}
    for name, variant in variants.items():
        # Une variante est soit {grade_id: nouveau code}, soit un notebook déjà préparé.
        submissions[name] = variant if isinstance(variant, Path) else variant_notebook(solution, variant, work / f"{name}.ipynb")
    for student, notebook in submissions.items():
        grading.submit(course, assignment, student, notebook)
    grading.autograde(course, assignment, smoke=True)
    return course


def assert_solution_full_and_untouched_zero(scores, points):
    assert scores["solution"]["max"] == sum(points.values())
    assert scores["solution"]["total"] == sum(points.values())
    assert scores["untouched"]["total"] == 0


def assert_only_these_lose_their_points(scores, points, lost):
    """Les exercices `lost` ont 0, tous les autres leurs points complets."""
    cells = scores["cells"]
    for grade_id, full in points.items():
        assert cells[grade_id] == (0 if grade_id in lost else full), grade_id
