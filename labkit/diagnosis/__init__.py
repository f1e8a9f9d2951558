"""Diagnostics : reconnaître ce qui retient un modèle, preuves à l'appui.

Chaque fonction renvoie un rapport qui s'affiche dans un notebook et s'interroge
dans un test (``report.flagged``, ``report.values``) :

- :func:`diagnose_history` : surapprentissage, sous-apprentissage, sain ou instable (notebook 01) ;
- :func:`feature_scale_report` : variables d'échelles très différentes (notebook 02) ;
- :func:`class_balance_report` : déséquilibre des classes et métriques honnêtes (notebook 02) ;
- :func:`detect_shift` : décalage de distribution, par un classifieur de domaine (notebook 02) ;
- :func:`find_leakage` et :func:`validation_optimism` : fuites entre découpages (notebook 02) ;
- :func:`data_quality_report` : valeurs manquantes, doublons, variables constantes, étiquettes suspectes (notebook 02).
"""

from ._report import Report
from .balance import class_balance_report
from .features import feature_scale_report
from .history import VERDICTS, HistoryDiagnosis, diagnose_history, history_as_dict
from .leakage import find_leakage, validation_optimism
from .quality import QUALITY_CHECKS, data_quality_report
from .shift import IMAGE_DESCRIPTORS, detect_shift, image_descriptors

__all__ = [
    "IMAGE_DESCRIPTORS",
    "QUALITY_CHECKS",
    "VERDICTS",
    "HistoryDiagnosis",
    "Report",
    "class_balance_report",
    "data_quality_report",
    "detect_shift",
    "diagnose_history",
    "feature_scale_report",
    "find_leakage",
    "history_as_dict",
    "image_descriptors",
    "validation_optimism",
]
