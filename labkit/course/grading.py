"""Correction automatique avec nbgrader (ligne de commande réelle, carnet de notes SQLite).

Un dossier de correction suit la structure de nbgrader :
``source/``, ``release/``, ``submitted/<étudiant>/``, ``autograded/``, ``feedback/`` et
``gradebook.db``. :func:`prepare_course` le crée à partir de ``solutions/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .paths import solution_path

#: Le squelette qui remplace les solutions dans la version étudiante.
CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError(\"Exercice à compléter\")"

_CONFIG = '''# Écrit par labkit.course.grading : configuration nbgrader du cours.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()
c.CourseDirectory.course_id = "ameliorer-dl"
c.CourseDirectory.db_url = "sqlite:///{db}"
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
# Une cellule qui boucle est interrompue : la note tombe, la correction continue.
c.Execute.timeout = {timeout}
# Le retour aux étudiants ne montre pas le code des tests cachés.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''


def prepare_course(root: Path, course_root: Path, assignment_list: list[str], *, timeout: int = 120) -> Path:
    """Crée (ou met à jour) un dossier de correction nbgrader pour ``assignment_list``."""
    course_root = Path(course_root).resolve()
    course_root.mkdir(parents=True, exist_ok=True)
    (course_root / "nbgrader_config.py").write_text(
        _CONFIG.format(db=course_root / "gradebook.db", stub=CODE_STUB, timeout=int(timeout)), encoding="utf-8"
    )
    for assignment in assignment_list:
        target = course_root / "source" / assignment
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(solution_path(root, assignment), target / f"{assignment}.ipynb")
    return course_root


def nbgrader(course_root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Lance ``nbgrader <args>`` dans ``course_root`` ; échoue avec son journal en cas d'erreur."""
    full_env = {**os.environ, **(env or {})}
    # nbgrader appelle l'exécutable « alembic » : il doit être trouvé à côté de cet interpréteur.
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_root,
        env=full_env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} a échoué (code {result.returncode}) :\n{result.stdout}\n{result.stderr}")
    return result


def generate_assignment(course_root: Path, assignment: str) -> Path:
    """Produit la version étudiante dans ``release/`` et enregistre le barème dans le carnet."""
    nbgrader(course_root, "generate_assignment", assignment, "--force")
    return course_root / "release" / assignment / f"{assignment}.ipynb"


def submit(course_root: Path, assignment: str, student: str, notebook: Path) -> Path:
    """Dépose ``notebook`` comme rendu de ``student`` (comme le ferait l'outil de collecte)."""
    target = course_root / "submitted" / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(notebook, target / f"{assignment}.ipynb"))


def autograde(course_root: Path, assignment: str, *, smoke: bool = False) -> subprocess.CompletedProcess:
    """Corrige tous les rendus de ``assignment`` (les cellules sont ré-exécutées)."""
    env = {"LABKIT_SMOKE": "1"} if smoke else {}
    return nbgrader(course_root, "autograde", assignment, "--force", "--create", env=env)


def generate_feedback(course_root: Path, assignment: str) -> list[Path]:
    """Produit les retours HTML ; renvoie leurs chemins."""
    nbgrader(course_root, "generate_feedback", assignment, "--force")
    return sorted((course_root / "feedback").glob(f"*/{assignment}/*.html"))


def read_scores(course_root: Path, assignment: str) -> dict:
    """Lit les notes dans le carnet SQLite : ``{étudiant: {"total", "max", "cells": {grade_id: note}}}``."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{Path(course_root) / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = grade.score
            scores[submission.student_id] = {"total": submission.score, "max": submission.max_score, "cells": cells}
    return scores
