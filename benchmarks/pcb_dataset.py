"""Banc d'essai du générateur d'images de PCB : vitesse, et difficulté mesurée par un petit CNN.

    .venv/bin/python benchmarks/pcb_dataset.py [--quick]

Écrit ``benchmarks/results/pcb_dataset.md`` (inclus dans la page « Les données du
cours »). Protocole :

- vitesse : 10 000 images 64×64, une génération d'échauffement puis 5 mesures ;
  médiane et écart min–max ;
- difficulté : pour chaque réglage, ``make_cnn(width=16)`` (≈ 14 000 paramètres)
  entraîné 20 époques sur 2 000 images (lot 64, Adam 3e-3, 2 fils), précision
  sur 1 000 images de validation d'une autre graine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    from labkit.optimize.measure import environment

    env = environment()
    return (f"{env['processeur']}, {env['cœurs']} cœurs visibles ; Python {env['python']}, NumPy {env['numpy']}, "
            f"PyTorch {env.get('torch')}")


def generation_speed(repeats: int) -> tuple[float, float, float]:
    from labkit.datasets import make_pcb_defects

    make_pcb_defects(10_000, seed=0)  # échauffement
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        make_pcb_defects(10_000, seed=r + 1)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def difficulty_accuracy(difficulty: float, n_train: int, epochs: int) -> tuple[float, float, float]:
    import labkit
    from labkit import torch as lkt
    from labkit.datasets import make_pcb_defects

    labkit.init(seed=0, threads=2, verbose=False)
    train = make_pcb_defects(n_train, difficulty=difficulty, seed=1)
    val = make_pcb_defects(1000, difficulty=difficulty, seed=2)
    model = lkt.make_cnn(width=16)
    history = lkt.fit(model, train.images[:, None], train.labels, val.images[:, None], val.labels, epochs=epochs,
                      batch_size=64, lr=3e-3, seed=0, progress=False)
    return history.history["val_accuracy"][-1], history.history["accuracy"][-1], history.seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="une seule difficulté, 5 époques (vérification)")
    args = parser.parse_args(argv)
    difficulties = [0.5] if args.quick else [0.0, 0.25, 0.5, 0.75, 1.0]
    epochs = 5 if args.quick else 20
    median, low, high = generation_speed(2 if args.quick else 5)
    print(f"génération de 10 000 images 64×64 : médiane {median:.2f} s ({low:.2f}–{high:.2f})", flush=True)
    rows = []
    for d in difficulties:
        val, train, seconds = difficulty_accuracy(d, 2000, epochs)
        print(f"difficulté {d}: validation {val:.3f}, entraînement {train:.3f}, {seconds:.0f} s", flush=True)
        rows.append(f"| {d:g}{' (défaut)' if d == 0.5 else ''} | {val:.1%} | {train:.1%} | {seconds:.0f} s |")
    text = "\n".join(
        [
            f"Machine : {machine()}.",
            "",
            f"Génération de 10 000 images 64×64 : **{median:.2f} s** en médiane sur {2 if args.quick else 5} mesures "
            f"(de {low:.2f} à {high:.2f} s), après une génération d'échauffement.",
            "",
            f"Petit CNN (`make_cnn(width=16)`, 14 326 paramètres) entraîné {epochs} époques sur 2 000 images, 2 fils :",
            "",
            "| difficulté | précision de validation | précision d'entraînement | durée d'entraînement |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / ("pcb_dataset_quick.md" if args.quick else "pcb_dataset.md")
    target.write_text(text.replace("%", " %") + "\n", encoding="utf-8")
    print(f"écrit : {target}")


if __name__ == "__main__":
    sys.exit(main())
