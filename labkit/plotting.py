"""Figures du cours : courbes d'apprentissage et comparaisons (notebook 01).

``save_figure`` enregistre aussi la figure pour le site quand la variable
d'environnement ``LABKIT_FIGURES_DIR`` est définie (tâche de construction du cours) ;
``save_table`` fait de même pour un tableau et ``save_file`` pour un fichier déjà écrit
(un rapport HTML ou PDF, notebook 11).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

from ._tables import markdown_table
from .diagnosis import history_as_dict
from .errors import LabkitError


def plot_history(history, *, title: str = "Courbes d'apprentissage"):
    """Perte et précision, entraînement et validation, avec l'époque de perte de validation minimale."""
    import matplotlib.pyplot as plt
    import numpy as np

    h = history_as_dict(history)
    epochs = np.arange(len(h["loss"]))
    best = int(np.argmin(h["val_loss"]))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key, label in ((ax_loss, "loss", "perte"), (ax_acc, "accuracy", "précision")):
        ax.plot(epochs, h[key], label=f"{label} d'entraînement")
        ax.plot(epochs, h[f"val_{key}"], label=f"{label} de validation")
        ax.axvline(best, color="grey", linestyle=":", label=f"minimum de la perte de validation (époque {best})")
        ax.set_xlabel("époque")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_histories(histories: dict, *, title: str = "Comparaison des remèdes"):
    """Compare plusieurs historiques : perte et précision de validation, écart entraînement − validation."""
    import matplotlib.pyplot as plt

    if not isinstance(histories, dict) or not histories:
        raise LabkitError("`histories` doit être un dictionnaire non vide {nom: historique}.")
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for name, history in histories.items():
        h = history_as_dict(history)
        axes[0].plot(h["val_loss"], label=name)
        axes[1].plot(h["val_accuracy"], label=name)
        axes[2].plot(h["accuracy"] - h["val_accuracy"], label=name)
    for ax, label in zip(axes, ("perte de validation", "précision de validation", "écart entraînement − validation")):
        ax.set_xlabel("époque")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


@contextmanager
def figures_dir(folder: Path | None):
    """Dans le bloc, ``save_figure`` et ``save_table`` écrivent dans ``folder`` (``None`` : nulle part).

    La variable ``LABKIT_FIGURES_DIR`` est rétablie ensuite : c'est elle que lit aussi le
    noyau d'un notebook exécuté par papermill, qui hérite de l'environnement.
    """
    previous = os.environ.get("LABKIT_FIGURES_DIR")
    if folder is None:
        os.environ.pop("LABKIT_FIGURES_DIR", None)
    else:
        os.environ["LABKIT_FIGURES_DIR"] = str(Path(folder).resolve())
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("LABKIT_FIGURES_DIR", None)
        else:
            os.environ["LABKIT_FIGURES_DIR"] = previous


def _site_output_path(name: str, suffix: str) -> Path | None:
    """``$LABKIT_FIGURES_DIR/<name><suffix>`` (dossier créé), ou ``None`` sans la variable."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", str(name)):
        raise LabkitError(f"`name` ne doit contenir que des lettres, chiffres, « _ » ou « - », reçu {name!r}.")
    if not re.fullmatch(r"\.[A-Za-z0-9]+", str(suffix)):
        raise LabkitError(f"`suffix` doit être une extension comme « .html » ou « .pdf », reçu {suffix!r}.")
    folder = os.environ.get("LABKIT_FIGURES_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{name}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name: str) -> Path | None:
    """Enregistre ``fig`` en PNG sous ``$LABKIT_FIGURES_DIR/<name>.png`` si la variable est définie.

    Renvoie le chemin écrit, ou ``None`` (cas normal d'un étudiant : rien n'est écrit).
    """
    path = _site_output_path(name, ".png")
    if path is None:
        return None
    # Métadonnées fixes : la même figure donne le même fichier.
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    return path


def save_table(table, name: str, *, floatfmt: str = ".3f") -> Path | None:
    """Enregistre un ``DataFrame`` en tableau Markdown sous ``$LABKIT_FIGURES_DIR/<name>.md``.

    Les pages du site incluent ces tableaux : les chiffres cités viennent d'une exécution.
    Sans la variable d'environnement, ne fait rien et renvoie ``None``.
    """
    if not hasattr(table, "iterrows"):
        raise LabkitError(f"`table` doit être un pandas.DataFrame, reçu {type(table).__name__}.")
    path = _site_output_path(name, ".md")
    if path is None:
        return None
    path.write_text(markdown_table(table, floatfmt) + "\n", encoding="utf-8")
    return path


def save_file(source, name: str, suffix: str | None = None) -> Path | None:
    """Copie un fichier (chemin, ou son contenu en octets) sous ``$LABKIT_FIGURES_DIR/<name><suffix>``.

    Pour ce que le notebook produit déjà sous forme de fichier (un rapport HTML ou PDF) et
    que la page de la leçon montre ou propose en lien. ``suffix`` vaut par défaut
    l'extension de ``source`` (obligatoire pour des octets). Comme :func:`save_figure`,
    ne fait rien sans la variable d'environnement et renvoie ``None``.

    >>> import tempfile
    >>> with figures_dir(Path(tempfile.mkdtemp())):
    ...     save_file(b"<p>rapport</p>", "11_exemple", ".html").name
    '11_exemple.html'
    >>> with figures_dir(None):
    ...     save_file(b"<p>rapport</p>", "11_exemple", ".html") is None
    True
    """
    if isinstance(source, (bytes, bytearray)):
        if suffix is None:
            raise LabkitError("`suffix` manque : pour des octets, dites l'extension du fichier (« .html », « .pdf »).")
        payload = bytes(source)
    elif isinstance(source, (str, Path)):
        source = Path(source)
        if not source.is_file():
            raise LabkitError(f"`source` : fichier introuvable : {source}")
        suffix = source.suffix if suffix is None else suffix
        payload = None
    else:
        raise LabkitError(f"`source` doit être un chemin de fichier ou des octets, reçu {type(source).__name__}.")
    path = _site_output_path(name, suffix)
    if path is None:
        return None
    path.write_bytes(source.read_bytes() if payload is None else payload)
    return path
