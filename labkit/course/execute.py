"""Exécute les solutions avec papermill (mode rapide ou complet), dans l'ordre du catalogue."""

from __future__ import annotations

import time
from pathlib import Path

from ..plotting import figures_dir as writing_figures_to
from ..runtime import env_threads
from .catalog import load_catalog
from .paths import solution_path


def execute_solutions(root: Path, output_dir: Path, *, smoke: bool, figures_dir: Path | None = None,
                      only: list[str] | None = None) -> dict[str, float]:
    """Exécute chaque solution (paramètre papermill ``SMOKE``) ; renvoie les durées en secondes.

    Les notebooks exécutés sont écrits dans ``output_dir`` ; si ``figures_dir`` est
    donné, les figures et tableaux enregistrés par ``labkit.plotting`` y sont écrits.
    Chaque notebook tourne dans un dossier de travail neuf (``output_dir/travail/<notebook>``) :
    un magasin MLflow ou un fichier laissé par une exécution précédente ne se mêle jamais aux
    mesures, et rien n'est écrit à côté des sources.
    """
    import shutil

    import papermill

    catalog = load_catalog(root)
    slugs = [catalog.get(s).slug for s in only] if only else catalog.slugs
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    durations = {}
    with writing_figures_to(figures_dir):
        for slug in slugs:
            workdir = output_dir / "travail" / slug
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            start = time.perf_counter()
            papermill.execute_notebook(
                str(solution_path(root, slug)),
                str(output_dir / f"{slug}.ipynb"),
                parameters={"SMOKE": smoke},
                kernel_name="python3",
                progress_bar=False,
                cwd=str(workdir),
            )
            durations[slug] = time.perf_counter() - start
            print(f"  {slug} : exécuté en {durations[slug]:.1f} s ({'rapide' if smoke else 'complet'})", flush=True)
    return durations


REFERENCE_FILE = "reference.md"


def machine_description() -> str:
    """Le processeur, le nombre de cœurs et la version de Python : ce qu'il faut pour juger une mesure."""
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cœurs, Python {platform.python_version()}"


def record_reference_run(figures_dir: Path, durations: dict[str, float]) -> Path:
    """Note, pour chaque notebook exécuté, la date et la machine de l'exécution qui a produit ses figures."""
    import datetime

    path = Path(figures_dir) / REFERENCE_FILE
    rows = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines()[2:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 4:  # enregistrée avant que le nombre de fils ne soit noté : un fil pour tout
                rows[cells[0]] = cells[1:] + ["1"]
            elif len(cells) == 5:
                rows[cells[0]] = cells[1:]
    today = datetime.date.today().isoformat()
    threads = str(env_threads("torch"))
    for slug, seconds in durations.items():
        rows[slug] = [today, machine_description(), f"{seconds:.0f}", threads]
    lines = ["| notebook | date | machine | durée (s) | fils d'entraînement PyTorch |", "|---|---|---|---|---|"]
    lines += [f"| {slug} | {' | '.join(values)} |" for slug, values in sorted(rows.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
