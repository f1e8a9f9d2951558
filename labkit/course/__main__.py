"""``python -m labkit.course <tâche>`` : les tâches du cours (voir ``--help``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from . import grading, release
from .execute import execute_solutions
from .paths import assignments, repo_root


def build_site(root: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=root, env=env, check=True)


def cmd_release(root: Path, args) -> None:
    if args.check:
        problems = release.release_differences(root)
        if problems:
            raise SystemExit("La version étudiante n'est pas à jour :\n  " + "\n  ".join(problems) + "\nLancez : make release")
        print("notebooks/ est à jour.")
        return
    changed = release.clean_solutions(root)
    for path in changed:
        print(f"  normalisé : {path.relative_to(root)}")
    for path in release.release(root):
        print(f"  généré : {path.relative_to(root)}")


def cmd_execute(root: Path, args) -> None:
    figures = root / "course" / "figures" if not args.smoke else None
    execute_solutions(root, root / "build" / "executed", smoke=args.smoke, figures_dir=figures, only=args.only)


def cmd_figures(root: Path, args) -> None:
    from .figures import build_dataset_figures

    for path in build_dataset_figures(root / "course" / "figures"):
        print(f"  écrit : {path.relative_to(root)}")


def cmd_site(root: Path, args) -> None:
    build_site(root)
    print(f"Site construit : ouvrez {root / 'site' / 'index.html'}")


def cmd_grade(root: Path, args) -> None:
    """Corrige un dossier de rendus : un sous-dossier par étudiant, contenant <devoir>.ipynb."""
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        raise SystemExit(f"Dossier de rendus introuvable : {submissions}")
    course_root = grading.prepare_course(root, root / "build" / "grading", [args.assignment], timeout=args.timeout)
    grading.generate_assignment(course_root, args.assignment)
    students = sorted(p for p in submissions.iterdir() if (p / f"{args.assignment}.ipynb").is_file())
    if not students:
        raise SystemExit(f"Aucun rendu trouvé : attendu {submissions}/<étudiant>/{args.assignment}.ipynb")
    for student in students:
        grading.submit(course_root, args.assignment, student.name, student / f"{args.assignment}.ipynb")
    grading.autograde(course_root, args.assignment, smoke=args.smoke)
    grading.generate_feedback(course_root, args.assignment)
    for student, score in sorted(grading.read_scores(course_root, args.assignment).items()):
        print(f"  {student} : {score['total']:g} / {score['max']:g}")
    print(f"Retours HTML : {course_root / 'feedback'}")


def cmd_all(root: Path, args) -> None:
    start = time.perf_counter()
    print("1/4 Génération de la version étudiante (notebooks/)")
    cmd_release(root, argparse.Namespace(check=False))
    print("2/4 Exécution des solutions (mode complet) et des figures du site")
    cmd_execute(root, argparse.Namespace(smoke=False, only=None))
    print("3/4 Figures et tableau des données du cours (cas d'étude entraînés et diagnostiqués)")
    cmd_figures(root, args)
    print("4/4 Construction du site")
    cmd_site(root, args)
    print(f"Terminé en {time.perf_counter() - start:.0f} s.")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m labkit.course", description="Tâches du cours.")
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("release", help="régénère notebooks/ depuis solutions/")
    p.add_argument("--check", action="store_true", help="vérifie seulement que notebooks/ est à jour")
    p = sub.add_parser("execute", help="exécute les solutions avec papermill")
    p.add_argument("--smoke", action="store_true", help="mode rapide")
    p.add_argument("--only", nargs="*", help="devoirs à exécuter (tous par défaut)")
    sub.add_parser("figures", help="figures et tableau de la page « Les données du cours »")
    sub.add_parser("site", help="construit le site dans site/")
    p = sub.add_parser("grade", help="corrige des rendus avec nbgrader")
    p.add_argument("assignment", help="le devoir, par exemple 01_surapprentissage")
    p.add_argument("submissions", help="dossier contenant <étudiant>/<devoir>.ipynb")
    p.add_argument("--smoke", action="store_true", help="corriger en mode rapide")
    p.add_argument("--timeout", type=int, default=120, help="durée maximale d'une cellule, en secondes")
    sub.add_parser("all", help="release + execute (complet) + figures + site")
    args = parser.parse_args(argv)
    root = repo_root()
    if getattr(args, "assignment", None) and args.assignment not in assignments(root):
        raise SystemExit(f"Devoir inconnu : {args.assignment!r} ; devoirs : {', '.join(assignments(root))}")
    {"release": cmd_release, "execute": cmd_execute, "figures": cmd_figures, "site": cmd_site, "grade": cmd_grade, "all": cmd_all}[args.task](root, args)


if __name__ == "__main__":
    main()
