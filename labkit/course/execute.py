"""Exécute les notebooks solutions avec papermill (mode rapide ou complet)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .paths import assignments, solution_path


def execute_solutions(
    root: Path,
    output_dir: Path,
    *,
    smoke: bool,
    figures_dir: Path | None = None,
    only: list[str] | None = None,
) -> dict[str, float]:
    """Exécute chaque solution (paramètre papermill ``SMOKE``) ; renvoie les durées en secondes.

    Les notebooks exécutés sont écrits dans ``output_dir`` ; si ``figures_dir`` est
    donné, les figures enregistrées par ``labkit.plotting.save_figure`` y sont écrites.
    """
    import papermill

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("LABKIT_FIGURES_DIR")
    if figures_dir is not None:
        os.environ["LABKIT_FIGURES_DIR"] = str(Path(figures_dir).resolve())
    durations = {}
    try:
        for assignment in only or assignments(root):
            start = time.perf_counter()
            papermill.execute_notebook(
                str(solution_path(root, assignment)),
                str(output_dir / f"{assignment}.ipynb"),
                parameters={"SMOKE": smoke},
                kernel_name="python3",
                progress_bar=False,
                cwd=str(solution_path(root, assignment).parent),
            )
            durations[assignment] = time.perf_counter() - start
            print(f"  {assignment} : exécuté en {durations[assignment]:.1f} s ({'rapide' if smoke else 'complet'})")
    finally:
        if previous is None:
            os.environ.pop("LABKIT_FIGURES_DIR", None)
        else:
            os.environ["LABKIT_FIGURES_DIR"] = previous
    return durations
