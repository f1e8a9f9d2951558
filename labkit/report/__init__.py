"""Rapports d'amélioration et fiches d'optimisation dont chaque chiffre vient d'une mesure.

- :mod:`labkit.report.model` : mesures avec leur provenance (:class:`Measurement`),
  comparaisons avant/après calculées (:class:`Comparison`), rapport d'amélioration
  (:class:`ImprovementReport`) et fiche d'optimisation (:class:`OptimizationSheet`) ;
- :func:`course_benchmark` : les résultats des bancs d'essai du cours, livrés avec le paquet ;
- :mod:`labkit.report.render` : rendu Markdown, HTML autonome et PDF (Typst), à partir
  de gabarits Jinja2 en français que l'enseignant peut remplacer.

Rien de lourd n'est importé ici : MLflow, Jinja2, Matplotlib et Typst le sont à la demande.
"""

from .model import (
    Comparison,
    DataRef,
    ImprovementReport,
    Machine,
    Measurement,
    OptimizationSheet,
    Problem,
    Solution,
    Source,
    Spread,
    Technique,
    course_benchmark,
    format_number,
    format_value,
    log_provenance,
    report_environment,
)
from .render import build_context, pdf_page_count, render_report

__all__ = [
    "Comparison",
    "DataRef",
    "ImprovementReport",
    "Machine",
    "Measurement",
    "OptimizationSheet",
    "Problem",
    "Solution",
    "Source",
    "Spread",
    "Technique",
    "build_context",
    "course_benchmark",
    "format_number",
    "format_value",
    "log_provenance",
    "pdf_page_count",
    "render_report",
    "report_environment",
]
