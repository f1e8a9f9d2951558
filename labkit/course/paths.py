"""Où vivent les choses dans le dépôt du cours."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """La racine du dépôt (celle qui contient ``solutions/`` et ``mkdocs.yml``)."""
    env = os.environ.get("COURSE_ROOT")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
    for folder in candidates:
        if (folder / "solutions").is_dir() and (folder / "mkdocs.yml").is_file():
            return folder
    raise SystemExit("Racine du cours introuvable : lancez la commande depuis le dépôt (dossiers solutions/ et mkdocs.yml).")


def assignments(root: Path) -> list[str]:
    """Les devoirs, dans l'ordre : un dossier ``solutions/<devoir>/<devoir>.ipynb`` chacun."""
    return sorted(p.name for p in (root / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


def solution_path(root: Path, assignment: str) -> Path:
    return root / "solutions" / assignment / f"{assignment}.ipynb"


def student_path(root: Path, assignment: str) -> Path:
    return root / "notebooks" / assignment / f"{assignment}.ipynb"
