"""Figures et tableaux de la page « Les données du cours », produits par le code.

``python -m labkit.course figures`` les écrit dans ``docs/figures/`` : la grille
d'exemples de PCB, la même carte vue par les deux caméras, et le tableau des cas
d'étude avec leurs mesures et le verdict des diagnostics.
"""

from __future__ import annotations

from pathlib import Path


def build_dataset_figures(figures_dir: Path, *, progress: bool = True) -> list[Path]:
    """Écrit les figures et le tableau dans ``figures_dir`` et renvoie leurs chemins."""
    import matplotlib

    from ..plotting import figures_dir as writing_figures_to

    matplotlib.use("Agg")
    with writing_figures_to(figures_dir):
        return _write_dataset_figures(progress)


def _write_dataset_figures(progress: bool) -> list[Path]:
    import matplotlib.pyplot as plt

    import labkit
    from labkit.datasets import DEFECT_LABELS_FR, NEW_CAMERA, make_pcb_defects, plot_pcb_examples
    from labkit.plotting import save_figure, save_table

    from .case_proofs import cases_table

    labkit.init(seed=0, verbose=False)
    written = []
    data = make_pcb_defects(120, seed=0)
    fig = plot_pcb_examples(data, per_class=4)
    written.append(save_figure(fig, "donnees_exemples"))
    plt.close(fig)

    usual = make_pcb_defects(6, seed=5)
    new = make_pcb_defects(6, camera=NEW_CAMERA, seed=5)
    fig, axes = plt.subplots(2, 6, figsize=(8.4, 3.2))
    for i in range(6):
        for row, (batch, name) in enumerate(((usual, "caméra habituelle"), (new, "nouvelle caméra"))):
            ax = axes[row, i]
            ax.imshow(batch.images[i], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(name, fontsize=8)
        axes[0, i].set_title(DEFECT_LABELS_FR[usual.class_names[usual.labels[i]]], fontsize=8)
    fig.tight_layout()
    written.append(save_figure(fig, "donnees_cameras"))
    plt.close(fig)

    written.append(save_table(cases_table(progress=progress), "donnees_cas"))
    return written
