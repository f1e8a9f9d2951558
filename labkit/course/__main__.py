"""``labkit-course <commande>`` (ou ``python -m labkit.course``) : les commandes de l'équipe pédagogique.

``labkit-course --help`` les liste ; chacune a son ``--help``. Toutes travaillent dans le
dépôt du cours (dossier qui contient ``course.toml``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from ..errors import CourseError, LabkitError
from .catalog import load_catalog
from .paths import repo_root


def _say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- construire le cours


def cmd_release(root: Path, args) -> None:
    from . import release

    if args.check:
        problems = release.release_differences(root)
        if problems:
            raise CourseError("La version étudiante n'est pas à jour :\n  " + "\n  ".join(problems) + "\nLancez : make release")
        _say("notebooks/ est à jour.")
        return
    for path in release.clean_solutions(root):
        _say(f"  solution mise à jour : {path.relative_to(root)}")
    for path in release.release(root):
        _say(f"  généré : {path.relative_to(root)}")


def cmd_execute(root: Path, args) -> None:
    from .execute import execute_solutions

    figures = None if args.smoke else (root / "build" / "figures" if not args.refresh_figures else root / "docs" / "figures")
    durations = execute_solutions(root, root / "build" / "executed", smoke=args.smoke, figures_dir=figures, only=args.only)
    if args.refresh_figures and not args.smoke:
        from .execute import record_reference_run

        record_reference_run(figures, durations)
    if args.record:
        from .catalog import record_durations

        record_durations(root, durations, smoke=args.smoke)
        _say("  durées écrites dans course.toml")


def cmd_figures(root: Path, args) -> None:
    from .figures import build_dataset_figures

    for path in build_dataset_figures(root / "docs" / "figures"):
        _say(f"  écrit : {path.relative_to(root)}")


def cmd_site(root: Path, args) -> None:
    from .publish import build_site

    folder = build_site(root, root / "site", solutions=args.corriges)
    _say(
        f"Site construit dans {folder}. Ouvrez {folder / 'index.html'} dans un navigateur, "
        f"ou servez-le : python -m http.server --directory {folder}"
    )


def cmd_publish(root: Path, args) -> None:
    from .publish import build_publication

    folder = build_publication(root, root / "build" / "publication", solutions=args.corriges)
    _say(
        f"Version étudiante prête dans {folder} : à pousser telle quelle dans le dépôt public "
        f"({load_catalog(root).publication.repository})."
    )


def cmd_all(root: Path, args) -> None:
    """La commande principale : version étudiante, (figures de référence), publication avec le site."""
    steps = [("Version étudiante (notebooks/)", lambda: cmd_release(root, argparse.Namespace(check=False)))]
    if args.refresh_figures:
        steps.append(
            (
                "Exécution complète des solutions : nouvelles figures de référence (docs/figures/)",
                lambda: cmd_execute(root, argparse.Namespace(smoke=False, only=None, refresh_figures=True, record=True)),
            )
        )
        steps.append(("Figures de la page « Les données du cours »", lambda: cmd_figures(root, args)))
    steps.append(("Publication : site, notebooks étudiants, paquet labkit (build/publication/)", lambda: cmd_publish(root, args)))
    start = time.perf_counter()
    for number, (title, step) in enumerate(steps, start=1):
        began = time.perf_counter()
        _say(f"{number}/{len(steps)} {title}")
        step()
        _say(f"    ({time.perf_counter() - began:.0f} s)")
    _say(f"Terminé en {time.perf_counter() - start:.0f} s.")


def cmd_new(root: Path, args) -> None:
    from .scaffold import scaffold

    for path in scaffold(root, args.slug, args.title, module=args.module, frameworks=args.frameworks, extras=args.extras):
        _say(f"  écrit : {path.relative_to(root)}")
    _say("Ensuite : écrivez la solution et la leçon, complétez les erreurs classiques, puis `make release`.")


# --------------------------------------------------------------------------- corriger


def _slug(root: Path, slug: str) -> str:
    return load_catalog(root).get(slug).slug


def _date(text: str | None) -> datetime | None:
    if text is None:
        return None
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise CourseError(f"`--due` : date illisible {text!r} ; écrivez « 2026-12-15 23:59 ».")


def cmd_roster(root: Path, args) -> None:
    from .classroom import import_roster

    students = import_roster(root, Path(args.file))
    _say(f"{len(students)} étudiant(s) enregistré(s) dans grading/gradebook.db.")


def cmd_collect(root: Path, args) -> None:
    from . import grading
    from .classroom import collect_folder, collect_moodle

    slug = _slug(root, args.assignment)
    grading.generate_assignment(root, slug)
    source = Path(args.source)
    due = _date(args.due)
    result = collect_moodle(root, slug, source, due=due) if source.suffix == ".zip" else collect_folder(root, slug, source, due=due)
    _say(f"{len(result.submitted)} rendu(s) déposé(s) dans grading/submitted/.")
    for student, hours in sorted(result.late.items()):
        _say(f"  en retard : {student} ({hours:.1f} h)")
    for name in result.unmatched:
        _say(f"  inconnu de la liste : {name} (extrait dans grading/unmatched/{slug}/)")
    for name in result.empty:
        _say(f"  sans notebook : {name}")


def cmd_grade(root: Path, args) -> None:
    from . import grading

    slug = _slug(root, args.assignment)
    grading.generate_assignment(root, slug)
    students = args.student or None
    start = time.perf_counter()
    run = grading.autograde(root, slug, students=students, jobs=args.jobs, smoke=args.smoke, force=args.force, timeout=args.timeout)
    _say(
        f"{len(run.graded)} copie(s) corrigée(s), {len(run.skipped)} déjà notée(s), {len(run.failed)} en échec "
        f"({time.perf_counter() - start:.0f} s)."
    )
    for student, log in run.failed.items():
        _say(f"  échec pour {student} : {log.strip().splitlines()[-1] if log.strip() else 'voir le journal de nbgrader'}")
    table = grading.summary_table(root, slug)
    if not table.empty:
        _say(table.to_string())


def cmd_feedback(root: Path, args) -> None:
    from . import grading

    pages = grading.generate_feedback(root, _slug(root, args.assignment), args.student)
    _say(f"{len(pages)} retour(s) HTML dans grading/feedback/.")


def cmd_export(root: Path, args) -> None:
    from .classroom import export_grades

    slugs = [_slug(root, args.assignment)] if args.assignment else load_catalog(root).slugs
    for path in export_grades(root, slugs):
        _say(f"  écrit : {path.relative_to(root)}")


def cmd_clean(root: Path, args) -> None:
    from .classroom import safe_clean

    for path in safe_clean(root, ["site", "build"]):
        _say(f"  effacé : {path.relative_to(root)}")
    _say("grading/ (notes, rendus, retours) n'est jamais effacé.")


# --------------------------------------------------------------------------- l'interface


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit-course", description="Les commandes du cours « Améliorer les modèles de Deep Learning ».")
    sub = parser.add_subparsers(dest="command", required=True, metavar="commande")

    p = sub.add_parser("all", help="commande principale : version étudiante, publication et site")
    p.add_argument(
        "--refresh-figures", action="store_true", help="réexécute les solutions en mode complet et remplace les figures de référence"
    )
    p.add_argument("--corriges", action="store_true", help="publie aussi les solutions exécutées (corrigés)")
    p = sub.add_parser("release", help="régénère notebooks/ depuis solutions/ et le catalogue")
    p.add_argument("--check", action="store_true", help="vérifie seulement que notebooks/ est à jour")
    p = sub.add_parser("execute", help="exécute les solutions avec papermill")
    p.add_argument("--smoke", action="store_true", help="mode rapide")
    p.add_argument("--only", nargs="*", help="notebooks à exécuter (tous par défaut)")
    p.add_argument("--refresh-figures", action="store_true", help="écrire les figures dans docs/figures/ (références du site)")
    p.add_argument("--record", action="store_true", help="écrire les durées mesurées dans course.toml")
    sub.add_parser("figures", help="figures et tableau de la page « Les données du cours »")
    p = sub.add_parser("site", help="construit le site dans site/")
    p.add_argument("--corriges", action="store_true", help="inclure les solutions exécutées")
    p = sub.add_parser("publish", help="construit la version étudiante publiable dans build/publication/")
    p.add_argument("--corriges", action="store_true", help="inclure les solutions exécutées")
    p = sub.add_parser("new", help="ajoute un notebook : entrée du catalogue, solution, leçon, erreurs classiques")
    p.add_argument("slug", help="nom du notebook, par exemple 09_industrialiser")
    p.add_argument("title", help="titre français, par exemple « Industrialiser son code »")
    p.add_argument("--module", type=int, default=4, help="numéro du module (4 par défaut)")
    p.add_argument("--frameworks", nargs="+", default=["torch"], help="torch et/ou keras")
    p.add_argument("--extras", nargs="+", default=["torch"], help="extras de labkit pour l'installation")

    p = sub.add_parser("roster", help="importe la liste des étudiants (CSV : identifiant, nom, prénom, courriel)")
    p.add_argument("file")
    p = sub.add_parser("collect", help="dépose les rendus d'un dossier ou d'une archive Moodle")
    p.add_argument("assignment", help="le notebook, par exemple 01_surapprentissage")
    p.add_argument("source", help="dossier <étudiant>/<notebook>.ipynb, ou archive .zip de Moodle")
    p.add_argument("--due", help="date limite, « 2026-12-15 23:59 » : les retards sont signalés")
    p = sub.add_parser("grade", help="corrige les rendus déposés (nbgrader autograde)")
    p.add_argument("assignment")
    p.add_argument("--student", nargs="*", help="ne corriger que ces étudiants")
    p.add_argument("--jobs", type=int, default=1, help="copies corrigées en parallèle")
    p.add_argument("--smoke", action="store_true", help="corriger en mode rapide")
    p.add_argument("--force", action="store_true", help="recorriger aussi les copies déjà notées")
    p.add_argument("--timeout", type=int, help="durée maximale d'une cellule, en secondes (600 par défaut)")
    p = sub.add_parser("feedback", help="produit les retours HTML aux étudiants")
    p.add_argument("assignment")
    p.add_argument("--student", help="un seul étudiant")
    p = sub.add_parser("export", help="exporte les notes (CSV par exercice, par notebook, fichier Moodle)")
    p.add_argument("assignment", nargs="?", help="un notebook (tous par défaut)")
    sub.add_parser("clean", help="efface site/ et build/ (jamais grading/)")
    return parser


COMMANDS = {
    "all": cmd_all,
    "release": cmd_release,
    "execute": cmd_execute,
    "figures": cmd_figures,
    "site": cmd_site,
    "publish": cmd_publish,
    "new": cmd_new,
    "roster": cmd_roster,
    "collect": cmd_collect,
    "grade": cmd_grade,
    "feedback": cmd_feedback,
    "export": cmd_export,
    "clean": cmd_clean,
}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](repo_root(), args)
    except LabkitError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
