"""Exécute les solutions avec papermill (mode rapide ou complet), dans l'ordre du catalogue."""

from __future__ import annotations

import time
from pathlib import Path

from ..plotting import figures_dir as writing_figures_to
from .catalog import load_catalog
from .paths import solution_path


def execute_solutions(root: Path, output_dir: Path, *, smoke: bool, figures_dir: Path | None = None,
                      only: list[str] | None = None) -> dict[str, float]:
    """Exécute chaque solution (paramètre papermill ``SMOKE``) ; renvoie les durées en secondes.

    Les notebooks exécutés sont écrits dans ``output_dir`` ; si ``figures_dir`` est
    donné, les figures et tableaux enregistrés par ``labkit.plotting`` y sont écrits.
    """
    import papermill

    catalog = load_catalog(root)
    slugs = [catalog.get(s).slug for s in only] if only else catalog.slugs
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    durations = {}
    with writing_figures_to(figures_dir):
        for slug in slugs:
            start = time.perf_counter()
            papermill.execute_notebook(
                str(solution_path(root, slug)),
                str(output_dir / f"{slug}.ipynb"),
                parameters={"SMOKE": smoke},
                kernel_name="python3",
                progress_bar=False,
                cwd=str(solution_path(root, slug).parent),
            )
            durations[slug] = time.perf_counter() - start
            print(f"  {slug} : exécuté en {durations[slug]:.1f} s ({'rapide' if smoke else 'complet'})", flush=True)
    return durations
