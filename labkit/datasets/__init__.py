"""Jeux de données du cours, générés hors ligne et déterministes."""

from .cases import OverfittingCase, make_overfitting_case
from .pcb import DEFECT_CLASSES, DEFECT_LABELS_FR, NEW_CAMERA, Camera, PCBDefects, make_pcb_defects, plot_pcb_examples

__all__ = [
    "DEFECT_CLASSES",
    "DEFECT_LABELS_FR",
    "NEW_CAMERA",
    "Camera",
    "OverfittingCase",
    "PCBDefects",
    "make_overfitting_case",
    "make_pcb_defects",
    "plot_pcb_examples",
]
