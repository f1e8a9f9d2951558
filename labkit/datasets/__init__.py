"""Jeux de données du cours, générés hors ligne et déterministes.

- :func:`make_pcb_defects` : images synthétiques de circuits imprimés, six défauts (fil rouge) ;
- les cas d'étude (:mod:`labkit.datasets.cases`) : un problème précis et sa version saine ;
- :func:`make_quality_case` (:mod:`labkit.datasets.quality`) : un journal de mesures mal tenu (notebook 02).
"""

from .cases import (
    PROCESS_CLASSES,
    PROCESS_SENSORS,
    Case,
    make_imbalanced_case,
    make_leakage_case,
    make_overfitting_case,
    make_shift_case,
    make_unnormalized_case,
)
from .pcb import DEFECT_CLASSES, DEFECT_LABELS_FR, NEW_CAMERA, Camera, PCBDefects, make_pcb_defects, plot_pcb_examples
from .quality import make_quality_case

__all__ = [
    "DEFECT_CLASSES",
    "DEFECT_LABELS_FR",
    "NEW_CAMERA",
    "PROCESS_CLASSES",
    "PROCESS_SENSORS",
    "Camera",
    "Case",
    "PCBDefects",
    "make_imbalanced_case",
    "make_leakage_case",
    "make_overfitting_case",
    "make_pcb_defects",
    "make_quality_case",
    "make_shift_case",
    "make_unnormalized_case",
    "plot_pcb_examples",
]
