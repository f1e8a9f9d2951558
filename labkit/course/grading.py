"""Correction automatique avec nbgrader : une configuration, un carnet de notes, des commandes minces.

Le dépôt du cours est un dossier de cours nbgrader : ``nbgrader_config.py`` (à la racine)
appelle :func:`configure`, si bien que ``nbgrader generate_assignment``, ``autograde``,
``generate_feedback``, ``export`` et le *formgrader* de JupyterLab travaillent sur le même
carnet que les commandes ``labkit-course``, qui ne font qu'appeler nbgrader. Tout ce que
la correction produit vit sous ``grading/`` (jamais effacé par ``make clean``) :

- ``solutions/<devoir>/`` : la source (dossier *source* de nbgrader) ;
- ``grading/release/``, ``grading/submitted/<étudiant>/<devoir>/``, ``grading/autograded/``,
  ``grading/feedback/`` : les dossiers de nbgrader ;
- ``grading/gradebook.db`` : le carnet de notes (SQLite) ;
- ``grading/archive/`` : les rendus remplacés par un nouveau dépôt (rien n'est perdu) ;
- ``grading/exports/`` : les notes exportées (CSV, fichier pour Moodle).

La correction utilise les préprocesseurs de :mod:`labkit.course.guard`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import CourseError
from .paths import solution_path

#: Le squelette qui remplace les solutions dans la version étudiante.
CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError(\"Exercice à compléter\")"
COURSE_ID = "ameliorer-dl"
GRADING_DIR = "grading"
#: Durée maximale d'une cellule à la correction : large, pour qu'une machine chargée ne coûte aucun point.
DEFAULT_TIMEOUT = 600
#: Mémoire maximale du noyau qui exécute une copie : une allocation géante échoue (MemoryError) au lieu
#: d'épuiser la machine.
DEFAULT_MEMORY_GB = 12


def configure(c, root, *, timeout: int = DEFAULT_TIMEOUT, grading_dir: str = GRADING_DIR) -> None:
    """Configure nbgrader (objet ``c`` de ``get_config()``) pour le cours dont la racine est ``root``."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearHiddenTests,
        ClearOutput,
        DeduplicateIds,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from . import guard

    root = Path(root).resolve()
    (root / grading_dir).mkdir(parents=True, exist_ok=True)  # le carnet SQLite y est créé
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = "solutions"
    for name in ("release", "submitted", "autograded", "feedback"):
        setattr(c.CourseDirectory, f"{name}_directory", f"{grading_dir}/{name}")
    c.CourseDirectory.db_url = f"sqlite:///{root / grading_dir / 'gradebook.db'}"
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.Execute.timeout = int(timeout)
    c.ResilientExecute.timeout = int(timeout)
    # La copie est d'abord reconstruite sur le notebook de l'enseignant : nbgrader ne voit jamais une structure modifiée.
    c.Autograde.sanitize_preprocessors = [
        ClearOutput, guard.RebuildFromSource, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
        guard.ScanTampering, guard.InjectSentinels,
    ]
    c.Autograde.autograde_preprocessors = [
        guard.ResilientExecute, guard.CheckSentinels, IgnorePattern, LimitOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadata,
    ]
    # Le retour aux étudiants ne montre ni le code des tests cachés ni leurs traces.
    c.GenerateFeedback.preprocessors = [GetGrades, guard.SummarizeErrors, ClearHiddenTests, CSSHTMLHeaderPreprocessor]


_CONFIG = '''# Configuration nbgrader du cours : `nbgrader <commande>` lancé dans ce dossier.
# Tout est réglé par labkit.course.grading.configure (dossiers, carnet de notes, protections).
from labkit.course.grading import configure

configure(get_config(), {root!r}, timeout={timeout})
'''


def write_config(course_root: Path, *, timeout: int = DEFAULT_TIMEOUT) -> Path:
    """Écrit ``nbgrader_config.py`` dans ``course_root`` (un dossier de correction à part, pour les tests)."""
    path = Path(course_root) / "nbgrader_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_CONFIG.format(root=str(Path(course_root).resolve()), timeout=int(timeout)), encoding="utf-8")
    return path


def prepare_course(root: Path, course_root: Path, slugs: list[str], *, timeout: int = DEFAULT_TIMEOUT) -> Path:
    """Un dossier de cours nbgrader séparé (tests, publication) : les solutions ``slugs`` copiées et sa configuration."""
    course_root = Path(course_root).resolve()
    course_root.mkdir(parents=True, exist_ok=True)
    write_config(course_root, timeout=timeout)
    for slug in slugs:
        target = course_root / "solutions" / slug
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(solution_path(root, slug), target / f"{slug}.ipynb")
    return course_root


def _memory_limit(gigabytes: float | None):
    """Un ``preexec_fn`` qui limite la mémoire des processus lancés (nbgrader et son noyau)."""
    if not gigabytes or sys.platform != "linux":
        return None

    def limit():
        import resource

        size = int(gigabytes * 1024**3)
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))

    return limit


def nbgrader(course_root: Path, *args: str, env: dict | None = None, memory_gb: float | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Lance ``nbgrader <args>`` dans ``course_root`` ; échoue avec son journal en cas d'erreur."""
    full_env = {**os.environ, **(env or {})}
    # nbgrader appelle l'exécutable « alembic » : il doit être trouvé à côté de cet interpréteur.
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_root, env=full_env, capture_output=True, text=True, preexec_fn=_memory_limit(memory_gb),
    )
    if check and result.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(args)} a échoué (code {result.returncode}) :\n{result.stdout}\n{result.stderr}")
    return result


def _folder(course_root: Path, kind: str) -> Path:
    return Path(course_root) / GRADING_DIR / kind


def generate_assignment(course_root: Path, slug: str) -> Path:
    """Produit la version étudiante dans ``grading/release/`` et enregistre le barème dans le carnet."""
    nbgrader(course_root, "generate_assignment", slug, "--force")
    return _folder(course_root, "release") / slug / f"{slug}.ipynb"


def submit(course_root: Path, slug: str, student: str, notebook: Path, *, timestamp: datetime | None = None) -> Path:
    """Dépose ``notebook`` comme rendu de ``student`` ; un rendu différent déjà là est archivé, pas écrasé."""
    student = validate_student_id(student)
    target_dir = _folder(course_root, "submitted") / student / slug
    target = target_dir / f"{slug}.ipynb"
    if target.is_file() and target.read_bytes() != Path(notebook).read_bytes():
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        archive = _folder(course_root, "archive") / stamp / student / slug
        archive.mkdir(parents=True, exist_ok=True)
        shutil.copytree(target_dir, archive, dirs_exist_ok=True)
    target_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, target)
    if timestamp is not None:
        (target_dir / "timestamp.txt").write_text(timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z").strip(), encoding="utf-8")
    return target


def validate_student_id(student: str) -> str:
    """Un identifiant d'étudiant utilisable comme nom de dossier (lettres, chiffres, ``._-@``)."""
    import re

    if not isinstance(student, str) or not re.fullmatch(r"[\w.@-]+", student):
        raise CourseError(f"Identifiant d'étudiant invalide : {student!r} (lettres, chiffres, « . », « _ », « - », « @ »).")
    return student


def submitted_students(course_root: Path, slug: str) -> list[str]:
    """Les étudiants qui ont un rendu de ``slug`` dans ``grading/submitted/``."""
    folder = _folder(course_root, "submitted")
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / slug / f"{slug}.ipynb").is_file())


def is_graded(course_root: Path, slug: str, student: str) -> bool:
    """Vrai si le carnet a une note automatique pour chaque cellule notée de ce rendu."""
    scores = read_scores(course_root, slug).get(student)
    graded = _folder(course_root, "autograded") / student / slug / f"{slug}.ipynb"
    return bool(scores) and graded.is_file() and all(v is not None for v in scores["cells"].values())


@dataclass
class GradingRun:
    """Ce qu'une correction a fait : étudiants corrigés, sautés (déjà notés), en échec."""

    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def autograde(course_root: Path, slug: str, *, students: list[str] | None = None, jobs: int = 1, smoke: bool = False,
              force: bool = False, progress: bool = True, memory_gb: float | None = DEFAULT_MEMORY_GB,
              timeout: int | None = None) -> GradingRun:
    """Corrige les rendus de ``slug``, un processus nbgrader par étudiant, ``jobs`` à la fois.

    Un étudiant déjà noté en entier est sauté (sauf ``force``) : une correction
    interrompue se reprend sans refaire ni doubler les notes. Un rendu qui fait
    échouer nbgrader n'arrête pas la correction des autres : il est signalé.
    """
    from tqdm.auto import tqdm

    if jobs < 1:
        raise CourseError(f"`jobs` doit être un entier ≥ 1, reçu {jobs!r}.")
    students = submitted_students(course_root, slug) if students is None else [validate_student_id(s) for s in students]
    run = GradingRun()
    todo = []
    for student in students:
        if not force and is_graded(course_root, slug, student):
            run.skipped.append(student)
        else:
            todo.append(student)
    lock = threading.Lock()

    def grade_one(student: str) -> None:
        import tempfile

        extra = [f"--ResilientExecute.timeout={int(timeout)}"] if timeout else []
        # Un cache d'entraînements propre à chaque copie : une copie ne peut rien y laisser pour une autre.
        # Un fil d'entraînement par copie (sauf LABKIT_THREADS choisi par l'enseignant) : les copies se corrigent
        # côte à côte (`jobs`), et une copie reçoit la même note sur toutes les machines.
        with tempfile.TemporaryDirectory(prefix="labkit-cache-") as cache:
            env = {"LABKIT_SMOKE": "1" if smoke else "0", "TF_CPP_MIN_LOG_LEVEL": "3", "LABKIT_CACHE_DIR": cache,
                   "LABKIT_THREADS": os.environ.get("LABKIT_THREADS", "1")}
            result = nbgrader(course_root, "autograde", slug, "--student", student, "--force", "--create", *extra, env=env,
                              memory_gb=memory_gb, check=False)
        with lock:
            if result.returncode == 0 and is_graded(course_root, slug, student):
                run.graded.append(student)
            else:
                run.failed[student] = (result.stderr or result.stdout)[-2000:]

    bar = tqdm(total=len(todo), desc=f"correction de {slug}", unit="copie", disable=not progress)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(grade_one, s) for s in todo]):
            future.result()
            bar.update(1)
    bar.close()
    run.graded.sort()
    return run


def generate_feedback(course_root: Path, slug: str, student: str | None = None) -> list[Path]:
    """Produit les retours HTML (tous les étudiants, ou un seul) ; renvoie leurs chemins."""
    args = ["generate_feedback", slug, "--force"] + (["--student", student] if student else [])
    nbgrader(course_root, *args)
    return sorted(_folder(course_root, "feedback").glob(f"*/{slug}/*.html"))


def read_scores(course_root: Path, slug: str) -> dict:
    """Les notes du carnet : ``{étudiant: {"total", "max", "cells": {grade_id: note}, "late_seconds"}}``."""
    from nbgrader.api import Gradebook, MissingEntry

    database = Path(course_root) / GRADING_DIR / "gradebook.db"
    if not database.is_file():
        return {}
    scores = {}
    with Gradebook(f"sqlite:///{database}", COURSE_ID) as gradebook:
        try:
            submissions = gradebook.assignment_submissions(slug)
        except MissingEntry:
            return {}
        for submission in submissions:
            cells = {grade.name: grade.auto_score if grade.manual_score is None else grade.manual_score
                     for notebook in submission.notebooks for grade in notebook.grades}
            scores[submission.student_id] = {"total": submission.score, "max": submission.max_score, "cells": cells,
                                             "late_seconds": submission.total_seconds_late}
    return scores


def anomalies(course_root: Path, slug: str, student: str) -> list[dict]:
    """Les anomalies notées par la correction (détournement, délai, noyau perdu) pour un rendu."""
    from .guard import anomalies_of

    path = _folder(course_root, "autograded") / student / slug / f"{slug}.ipynb"
    return anomalies_of(path) if path.is_file() else []


def summary_table(course_root: Path, slug: str):
    """Le tableau de la correction : une ligne par étudiant, les points par exercice, le total, les anomalies."""
    import pandas as pd

    rows = []
    for student, score in sorted(read_scores(course_root, slug).items()):
        row = {"étudiant": student}
        row.update({grade_id: points for grade_id, points in sorted(score["cells"].items())})
        row["total"] = score["total"]
        row["sur"] = score["max"]
        row["retard (h)"] = round(score["late_seconds"] / 3600, 1) if score["late_seconds"] else 0.0
        found = anomalies(course_root, slug, student)
        row["anomalies"] = " ; ".join(f"{a['cellule']} : {a['type']}" for a in found)
        rows.append(row)
    return pd.DataFrame(rows).set_index("étudiant") if rows else pd.DataFrame()


def anomalies_json(course_root: Path, slug: str) -> str:
    """Les anomalies de toute la classe, en JSON (pour l'archive de la correction)."""
    return json.dumps({s: anomalies(course_root, slug, s) for s in read_scores(course_root, slug)}, ensure_ascii=False, indent=2)
