"""Génère ``notebooks/`` (version étudiante) à partir de ``solutions/`` avec nbgrader.

La version étudiante n'est jamais modifiée à la main : un test la régénère et
échoue à la moindre différence.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from . import grading
from .paths import assignments, solution_path, student_path

_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Sorties effacées, compteurs remis à zéro, métadonnées réduites à l'essentiel."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "jupyter"):
            cell.metadata.pop(key, None)
    nb.metadata = nbformat.NotebookNode(
        {k: nb.metadata[k] for k in _KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    )
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = nbformat.NotebookNode({"name": "python"})
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def normalized_text(path: Path) -> str:
    nb = normalize(nbformat.read(path, as_version=4))
    return nbformat.writes(nb) + "\n"


def clean_solutions(root: Path) -> list[Path]:
    """Normalise les notebooks sources en place ; renvoie ceux qui ont changé."""
    changed = []
    for assignment in assignments(root):
        path = solution_path(root, assignment)
        text = normalized_text(path)
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def build_release(root: Path, destination: Path) -> list[Path]:
    """Écrit la version étudiante de chaque devoir sous ``destination/<devoir>/``."""
    written = []
    with tempfile.TemporaryDirectory(prefix="labkit-release-") as tmp:
        course_root = grading.prepare_course(root, Path(tmp), assignments(root))
        for assignment in assignments(root):
            released = grading.generate_assignment(course_root, assignment)
            target = Path(destination) / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(normalized_text(released), encoding="utf-8")
            written.append(target)
    return written


def release(root: Path) -> list[Path]:
    """Régénère ``notebooks/`` en place."""
    return build_release(root, root / "notebooks")


def release_differences(root: Path) -> list[str]:
    """Régénère dans un dossier temporaire et liste les notebooks étudiants qui diffèrent."""
    with tempfile.TemporaryDirectory(prefix="labkit-release-check-") as tmp:
        fresh = build_release(root, Path(tmp))
        problems = []
        for path in fresh:
            assignment = path.parent.name
            committed = student_path(root, assignment)
            if not committed.is_file():
                problems.append(f"{committed} manque")
            elif committed.read_text(encoding="utf-8") != path.read_text(encoding="utf-8"):
                problems.append(f"{committed} diffère de sa régénération")
        expected = {p.parent.name for p in fresh}
        for extra in (root / "notebooks").glob("*/*.ipynb"):
            if extra.parent.name not in expected:
                problems.append(f"{extra} n'a pas de source dans solutions/")
    return problems
