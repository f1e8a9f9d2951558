"""La version étudiante : ``notebooks/`` régénéré depuis ``solutions/`` avec nbgrader, sans réponse.

La version étudiante n'est jamais modifiée à la main : un test la régénère et échoue
à la moindre différence. Les cellules écrites par le catalogue (en-tête, installation,
paramètres : :mod:`labkit.course.cells`) sont d'abord réécrites dans les solutions ;
la publication (:mod:`labkit.course.publish`) y ajoute ensuite l'adresse de publication.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import nbformat

from ..errors import CourseError
from . import grading
from .catalog import Catalog, load_catalog
from .cells import HEADER_TAG, INSTALL_TAG, generated_cells, header_source, install_source, write_generated_cells
from .paths import solution_path, student_path

_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def package_version(root: Path) -> str:
    """La version de labkit que ce dépôt construit (``pyproject.toml``)."""
    return tomllib.loads((Path(root) / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Sorties effacées, compteurs remis à zéro, métadonnées réduites à l'essentiel (fichiers stables)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "jupyter"):
            cell.metadata.pop(key, None)
        cell.pop("id", None)
    nb.metadata = nbformat.NotebookNode({k: nb.metadata[k] for k in _KEPT_NOTEBOOK_METADATA if k in nb.metadata})
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = nbformat.NotebookNode({"name": "python"})
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(normalize(nb)) + "\n"


def normalized_text(path: Path) -> str:
    return notebook_text(nbformat.read(path, as_version=4))


def refresh_solution(catalog: Catalog, slug: str) -> nbformat.NotebookNode:
    """La solution ``slug`` avec ses cellules écrites par le catalogue (sans adresse de publication)."""
    entry = catalog.get(slug)
    path = solution_path(catalog.root, slug)
    nb = nbformat.read(path, as_version=4)
    missing = write_generated_cells(nb, generated_cells(catalog, entry, package_version(catalog.root)))
    if missing:
        raise CourseError(f"{path} : cellule(s) {missing} introuvable(s) (une cellule étiquetée de chaque : header, install, parameters).")
    return nb


def clean_solutions(root: Path) -> list[Path]:
    """Réécrit les cellules du catalogue et normalise les solutions en place ; renvoie celles qui ont changé."""
    catalog = load_catalog(root)
    changed = []
    for slug in catalog.slugs:
        path = solution_path(root, slug)
        text = notebook_text(refresh_solution(catalog, slug))
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def publish_cells(nb: nbformat.NotebookNode, catalog: Catalog, slug: str, *, wheel_name: str) -> nbformat.NotebookNode:
    """Réécrit l'en-tête (lien Colab) et l'installation (roue publiée) d'un notebook étudiant."""
    entry = catalog.get(slug)
    publication = catalog.publication
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if HEADER_TAG in tags:
            cell.source = header_source(catalog, entry, publication.colab_link(f"notebooks/{slug}/{slug}.ipynb"))
        elif INSTALL_TAG in tags:
            cell.source = install_source(entry, package_version(catalog.root), publication.wheel_url(wheel_name))
    return nb


def build_release(root: Path, destination: Path, *, slugs: list[str] | None = None) -> list[Path]:
    """Écrit la version étudiante de chaque notebook sous ``destination/<slug>/<slug>.ipynb``."""
    catalog = load_catalog(root)
    slugs = catalog.slugs if slugs is None else slugs
    written = []
    with tempfile.TemporaryDirectory(prefix="labkit-release-") as tmp:
        course = grading.prepare_course(root, Path(tmp), [])
        for slug in slugs:
            source = course / "solutions" / slug / f"{slug}.ipynb"
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_text(notebook_text(refresh_solution(catalog, slug)), encoding="utf-8")
            released = grading.generate_assignment(course, slug)
            target = Path(destination) / slug / f"{slug}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(normalized_text(released), encoding="utf-8")
            written.append(target)
    return written


def release(root: Path) -> list[Path]:
    """Régénère ``notebooks/`` en place (et retire les notebooks qui ne sont plus au catalogue)."""
    written = build_release(root, Path(root) / "notebooks")
    keep = {p.parent.name for p in written}
    for extra in (Path(root) / "notebooks").glob("*/*.ipynb"):
        if extra.parent.name not in keep:
            extra.unlink()
    return written


def release_differences(root: Path) -> list[str]:
    """Régénère dans un dossier temporaire et liste les notebooks étudiants qui diffèrent."""
    problems = []
    catalog = load_catalog(root)
    for slug in catalog.slugs:
        path = solution_path(root, slug)
        if path.read_text(encoding="utf-8") != notebook_text(refresh_solution(catalog, slug)):
            problems.append(f"{path} n'est pas à jour du catalogue ou pas normalisé")
    with tempfile.TemporaryDirectory(prefix="labkit-release-check-") as tmp:
        fresh = build_release(root, Path(tmp))
        for path in fresh:
            committed = student_path(root, path.parent.name)
            if not committed.is_file():
                problems.append(f"{committed} manque")
            elif committed.read_text(encoding="utf-8") != path.read_text(encoding="utf-8"):
                problems.append(f"{committed} diffère de sa régénération")
        expected = {p.parent.name for p in fresh}
        for extra in (Path(root) / "notebooks").glob("*/*.ipynb"):
            if extra.parent.name not in expected:
                problems.append(f"{extra} n'a pas de source dans le catalogue")
    return problems
