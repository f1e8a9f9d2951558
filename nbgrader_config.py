# Configuration nbgrader du dépôt du cours : `nbgrader <commande>` et le formgrader de JupyterLab,
# lancés à la racine, travaillent sur le même carnet de notes (grading/gradebook.db) que labkit-course.
# Tout est réglé par labkit.course.grading.configure : dossiers, protections de la correction, retours.
from pathlib import Path

from labkit.course.grading import configure

configure(get_config(), Path(__file__).resolve().parent)  # noqa: F821 (get_config est fourni par nbgrader)
