"""La nouvelle ligne de production du projet final (notebook 12).

Une usine ouvre une ligne d'inspection de circuits imprimés. L'équipe dispose :

- d'images **d'atelier** étiquetées (:attr:`LineProject.workshop`) : peu nombreuses, avec
  des classes déséquilibrées (le cuivre parasite est rare) et **plusieurs vues d'une même
  carte** (presque des doublons : un découpage doit les garder ensemble) ;
- de quelques images **de la ligne** étiquetées par le contrôle qualité
  (:attr:`LineProject.line_check`) : la caméra de la ligne n'est pas celle de l'atelier ;
- d'images de la ligne **sans étiquette** (:attr:`LineProject.line_unlabelled`) ;
- d'un **budget de déploiement** (:class:`LineBudget`), fixé avant de commencer.

La correction juge le modèle livré sur des images de la ligne qu'elle génère elle-même
(:func:`make_line_images`, avec une graine que l'étudiant ne connaît pas).

>>> project = make_line_project(seed=0)
>>> project.workshop.images.shape[1:], project.budget.max_latency_ratio
((64, 64), 0.3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import validate_int
from .pcb import DEFECT_CLASSES, DEFECT_LABELS_FR, Camera, PCBDefects, make_pcb_defects

#: La caméra de la ligne : moins contrastée, plus sombre, plus floue et plus bruitée que celle de l'atelier.
LINE_CAMERA = Camera(contrast=0.75, brightness=-0.12, blur=0.85, noise=0.1, jitter=0.1)

#: Les proportions des défauts dans les images d'atelier : le cuivre parasite est rare.
WORKSHOP_PROPORTIONS = (0.24, 0.22, 0.2, 0.17, 0.12, 0.05)

#: Difficulté des défauts (0 : grands et nets, 1 : proches du bruit), la même partout.
LINE_DIFFICULTY = 0.35

#: Taille des images fournies (pixels). Le modèle livré peut travailler à une autre taille.
LINE_IMAGE_SIZE = 64


@dataclass(frozen=True)
class LineBudget:
    """Le budget de déploiement du poste d'inspection, jugé sur les images de la ligne.

    - ``min_accuracy`` : précision (*accuracy*) minimale ;
    - ``min_class_recall`` : rappel minimal de **chaque** classe (un modèle qui ignore une classe échoue) ;
    - ``max_latency_ratio`` : latence d'une image (lot de 1, un fil, ONNX Runtime) au plus cette fraction
      de celle du modèle de référence mesurée dans la même exécution (jamais en millisecondes absolues) ;
    - ``max_size_kb`` : taille maximale du fichier livré, en ko (1 ko = 1 000 octets).
    """

    min_accuracy: float = 0.82
    min_class_recall: float = 0.60
    max_latency_ratio: float = 0.3
    max_size_kb: float = 60.0

    def as_table(self):
        """Le budget en tableau pandas (critère, limite), pour l'afficher."""
        import pandas as pd

        from ..report.model import format_number

        return pd.DataFrame(
            {
                "critère": [
                    "précision sur la ligne",
                    "rappel minimal par classe",
                    "latence b1 / latence de la référence",
                    "taille du fichier (ko)",
                ],
                "limite": [
                    f"≥ {format_number(self.min_accuracy, 2)}",
                    f"≥ {format_number(self.min_class_recall, 2)}",
                    f"≤ {format_number(self.max_latency_ratio, 2)}",
                    f"≤ {self.max_size_kb:.0f}",
                ],
            }
        ).set_index("critère")


@dataclass
class LineProject:
    """Les données du projet : ``workshop``, ``line_check``, ``line_unlabelled`` et le ``budget``."""

    workshop: PCBDefects
    line_check: PCBDefects
    line_unlabelled: np.ndarray
    budget: LineBudget
    seed: int

    def __repr__(self) -> str:
        counts = np.bincount(self.workshop.labels, minlength=len(DEFECT_CLASSES))
        mix = ", ".join(f"{DEFECT_LABELS_FR[c]} {n}" for c, n in zip(DEFECT_CLASSES, counts))
        return (
            f"LineProject(atelier : {len(self.workshop)} images de {len(np.unique(self.workshop.board_ids))} cartes ({mix}) ; "
            f"ligne : {len(self.line_check)} images étiquetées, {len(self.line_unlabelled)} sans étiquette)"
        )


def make_line_images(n_images: int, *, seed: int, image_size: int = LINE_IMAGE_SIZE) -> PCBDefects:
    """Des images de la ligne, étiquetées, les six défauts en parts égales (une vue par carte).

    C'est ce que la correction génère pour juger un modèle livré, avec sa propre graine.

    >>> make_line_images(12, seed=3).images.shape
    (12, 64, 64)
    """
    n_images = validate_int("n_images", n_images, minimum=len(DEFECT_CLASSES))
    seed = validate_int("seed", seed, minimum=0)
    return make_pcb_defects(n_images, image_size=image_size, difficulty=LINE_DIFFICULTY, camera=LINE_CAMERA, seed=seed)


def make_line_project(*, seed: int = 0) -> LineProject:
    """Les données du projet final (notebook 12), les mêmes en mode rapide et complet.

    900 images d'atelier (300 cartes, trois vues chacune), 180 images de la ligne étiquetées,
    600 sans étiquette. Graines : l'atelier utilise ``seed``, la ligne ``seed + 1`` (étiquetées)
    et ``seed + 2`` (sans étiquette).
    """
    seed = validate_int("seed", seed, minimum=0)
    n_workshop, n_check, n_unlabelled = 900, 180, 600
    workshop = make_pcb_defects(
        n_workshop, image_size=LINE_IMAGE_SIZE, difficulty=LINE_DIFFICULTY, class_proportions=list(WORKSHOP_PROPORTIONS),
        views_per_board=3, seed=seed,
    )
    line_check = make_line_images(n_check, seed=seed + 1)
    unlabelled = make_line_images(n_unlabelled, seed=seed + 2).images
    return LineProject(workshop, line_check, unlabelled, LineBudget(), seed)
