"""Banc d'essai de la correction : temps par copie de chaque notebook, et une classe entière.

    .venv/bin/python benchmarks/grading.py                 # par copie (rapide et complet), puis 30 copies du plus lent
    .venv/bin/python benchmarks/grading.py --smoke         # version réduite : mode rapide, 4 copies

Pour chaque notebook du catalogue, la solution est déposée comme copie d'un étudiant et corrigée
(nbgrader autograde, les protections du cours comprises), en mode rapide puis en mode complet.
Ensuite, une classe de ``--class-size`` copies du notebook le plus lent (en mode rapide, celui de
la correction par défaut des tests) est corrigée en série, puis avec ``--jobs 2``. Écrit
``benchmarks/results/grading.md`` (``--smoke`` : ``grading_smoke.md``) avec la machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _grade(root: Path, slug: str, students: int, *, smoke: bool, jobs: int) -> float:
    from labkit.course import grading
    from labkit.course.paths import solution_path

    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as tmp:
        course = grading.prepare_course(root, Path(tmp), [slug])
        grading.generate_assignment(course, slug)
        for i in range(students):
            grading.submit(course, slug, f"etudiant{i:02d}", solution_path(root, slug))
        start = time.perf_counter()
        run = grading.autograde(course, slug, smoke=smoke, jobs=jobs, progress=False)
        elapsed = time.perf_counter() - start
        if run.failed or len(run.graded) != students:
            raise SystemExit(f"Correction incomplète pour {slug} : {sorted(run.failed)}")
        return elapsed


def main(argv=None) -> int:
    from labkit.course.catalog import load_catalog
    from labkit.course.execute import machine_description

    parser = argparse.ArgumentParser(description="Temps de correction par copie et pour une classe.")
    parser.add_argument("--smoke", action="store_true", help="version réduite : mode rapide seulement, petite classe")
    parser.add_argument("--class-size", type=int, default=30, help="nombre de copies de la classe (30 par défaut)")
    args = parser.parse_args(argv)
    catalog = load_catalog(ROOT)
    class_size = 4 if args.smoke else args.class_size
    rows = []
    for slug in catalog.slugs:
        smoke_s = _grade(ROOT, slug, 1, smoke=True, jobs=1)
        full_s = None if args.smoke else _grade(ROOT, slug, 1, smoke=False, jobs=1)
        rows.append((slug, smoke_s, full_s))
        print(f"{slug} : {smoke_s:.0f} s (rapide)" + ("" if full_s is None else f", {full_s:.0f} s (complet)"), flush=True)
    slowest = max(rows, key=lambda r: r[1])[0]
    serial = _grade(ROOT, slowest, class_size, smoke=True, jobs=1)
    parallel = _grade(ROOT, slowest, class_size, smoke=True, jobs=2)
    lines = [
        "# Temps de correction",
        "",
        f"Machine : {machine_description()}. Correction nbgrader avec les protections du cours (lecture des réponses, "
        "reconstruction, jetons), une copie = la solution. Commande : `.venv/bin/python benchmarks/grading.py"
        + (" --smoke" if args.smoke else "") + "`.",
        "",
        "| notebook | par copie, mode rapide (s) | par copie, mode complet (s) |",
        "|---|---|---|",
        *[f"| {slug} | {smoke_s:.0f} | {'—' if full_s is None else f'{full_s:.0f}'} |" for slug, smoke_s, full_s in rows],
        "",
        f"Une classe de {class_size} copies de {slowest} (mode rapide) : {serial / 60:.1f} min en série, "
        f"{parallel / 60:.1f} min avec `--jobs 2` (×{serial / parallel:.2f}).",
        "",
    ]
    out = ROOT / "benchmarks" / "results" / ("grading_smoke.md" if args.smoke else "grading.md")
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
