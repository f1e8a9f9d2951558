"""Où vivent les choses dans le dépôt du cours."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CourseError


def repo_root() -> Path:
    """La racine du dépôt du cours (celle qui contient ``course.toml``) : ``COURSE_ROOT``, le dossier courant ou un parent."""
    env = os.environ.get("COURSE_ROOT")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
    for folder in candidates:
        if (folder / "course.toml").is_file() and (folder / "solutions").is_dir():
            return folder
    raise CourseError("Racine du cours introuvable : lancez la commande depuis le dépôt du cours (fichier course.toml).")


def solution_path(root: Path, slug: str) -> Path:
    """La solution (source nbgrader) du notebook ``slug``."""
    return Path(root) / "solutions" / slug / f"{slug}.ipynb"


def student_path(root: Path, slug: str) -> Path:
    """La version étudiante (générée) du notebook ``slug``."""
    return Path(root) / "notebooks" / slug / f"{slug}.ipynb"
