"""``labkit-course new`` : ajouter un notebook au cours en touchant seulement ce qui le concerne.

Écrit l'entrée du catalogue, un squelette de solution (en-tête, installation, paramètres,
``labkit.init``, un exercice noté complet avec tests visibles et cachés), la page de leçon et
le fichier de ses erreurs classiques. La navigation du site, la page d'accueil, la
publication et les tests lisent le catalogue : rien d'autre n'est à modifier.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from ..errors import CourseError
from .catalog import CATALOG_FILE, FRAMEWORKS, STUDENT_EXTRAS, load_catalog, parse_catalog
from .cells import HEADER_TAG, INSTALL_TAG, PARAMETERS_TAG
from .paths import solution_path
from .release import clean_solutions

REBIND = "### BEGIN HIDDEN TESTS\nfrom labkit.checks import *  # noqa: F401,F403\n### END HIDDEN TESTS\n"


def _entry(slug: str, title: str, module: int, frameworks, extras, lesson: str) -> str:
    quoted = lambda values: "[" + ", ".join(f'"{v}"' for v in values) + "]"  # noqa: E731
    return (f'\n[[notebooks]]\nslug = "{slug}"\ntitle = "{title}"\nmodule = {module}\nframeworks = {quoted(frameworks)}\n'
            f'extras = {quoted(extras)}\nlesson = "{lesson}"\nduration = "1 h"\n')


def _cell(kind: str, source: str, *, tags=None, nbgrader=None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, **nbgrader}
    return cell


def skeleton(framework: str) -> nbformat.NotebookNode:
    """Le squelette d'une solution : la structure que suivent tous les notebooks du cours."""
    init = "torch" if framework == "torch" else "keras"
    cells = [
        _cell("md", "(en-tête écrit par le catalogue)", tags=[HEADER_TAG]),
        _cell("md", "Ce que ce notebook fait faire, en trois ou quatre points :\n\n1. …\n2. …\n3. …\n\n"
                    "Les cellules marquées *Exercice* sont notées : les tests qui les suivent répondent ✅ ou ❌ ; "
                    "d'autres tests, cachés, s'y ajoutent à la correction."),
        _cell("md", "## 0. Installation et démarrage\n\nLa cellule suivante installe `labkit` dans Colab (une seule fois) ; "
                    "en local, l'environnement du cours le contient déjà."),
        _cell("code", "(installation écrite par le catalogue)", tags=[INSTALL_TAG]),
        _cell("md", "`SMOKE = True` active le **mode rapide** : des expériences réduites, pour vérifier en quelques "
                    "secondes que tout s'exécute (c'est ce qu'utilisent les tests et la correction)."),
        _cell("code", "SMOKE = False", tags=[PARAMETERS_TAG]),
        _cell("code", "import numpy as np\n\nimport labkit\nfrom labkit.checks import check, check_close, check_equal\n\n"
                      f'ctx = labkit.init(seed=0, smoke=SMOKE, framework="{init}")\nN_EXAMPLES = ctx.pick(full=1000, smoke=100)'),
        _cell("md", "## Exercice 1 — Mesurer une précision (3 points)\n\n"
                    "Complétez `accuracy(y_true, y_pred)` : la **proportion** (entre 0 et 1) des prédictions égales "
                    "aux vraies classes. Les deux arguments sont des listes ou des tableaux d'entiers de même longueur."),
        _cell("code", "def accuracy(y_true, y_pred):\n    \"\"\"Proportion des prédictions correctes.\"\"\"\n"
                      "    ### BEGIN SOLUTION\n    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)\n"
                      "    return float(np.mean(y_true == y_pred))\n    ### END SOLUTION",
              nbgrader={"grade": False, "grade_id": "ex1_accuracy", "locked": False, "solution": True}),
        _cell("code", REBIND + "# Tests visibles de l'exercice 1\n"
                      'check_close(accuracy([0, 1, 1, 2], [0, 1, 2, 2]), 0.75, "trois bonnes réponses sur quatre")\n'
                      "### BEGIN HIDDEN TESTS\nfrom labkit.hidden_checks import *  # noqa: F401,F403\n\n"
                      "_rng = np.random.default_rng(7)\n_true, _pred = _rng.integers(0, 5, N_EXAMPLES), _rng.integers(0, 5, N_EXAMPLES)\n"
                      'check_close(accuracy(_true, _pred), float((_true == _pred).mean()), "précision sur des données de la correction")\n'
                      'check(isinstance(accuracy([1], [1]), float), "type", "renvoyez un float.")\n### END HIDDEN TESTS',
              nbgrader={"grade": True, "grade_id": "ex1_tests", "locked": True, "points": 3, "solution": False}),
        _cell("md", "## À retenir\n\n- …"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


_MISTAKES = '''"""Notebook {number} « {title} » : erreurs classiques et raccourcis, pour la correction.

Chaque entrée remplace une cellule de réponse de la solution (``grade_id``) ; toutes sont soumises
ensemble dans une même copie, qui doit perdre exactement les points des exercices visés.
"""

# Erreur classique : compter les bonnes réponses au lieu d'en donner la proportion.
COUNT_INSTEAD_OF_RATE = \'\'\'def accuracy(y_true, y_pred):
    return float((np.asarray(y_true) == np.asarray(y_pred)).sum())
\'\'\'

#: Erreurs classiques : {{cellule de réponse: code fautif}}.
MISTAKES = {{
    "ex1_accuracy": COUNT_INSTEAD_OF_RATE,
}}

#: Raccourcis : obtenir les points sans faire le travail (référence du cours, données d'évaluation).
SHORTCUTS = {{}}
'''

_LESSON = '''# {number} · {title}

*Module {module} · {module_title}* — notebook `{slug}` ([version étudiante](../notebooks/{slug}/{slug}.ipynb))

## Objectifs

- …

## L'idée

…

## Ce que demandent les exercices

1. **Mesurer une précision** : …

## Erreurs fréquentes

- …

## Pour aller plus loin

- …
'''


def scaffold(root: Path, slug: str, title: str, *, module: int = 4, frameworks=("torch",), extras=("torch",)) -> list[Path]:
    """Ajoute le notebook ``slug`` au cours ; renvoie les fichiers écrits (le catalogue en premier)."""
    root = Path(root)
    catalog = load_catalog(root)
    if slug in catalog.by_slug:
        raise CourseError(f"Le notebook {slug!r} est déjà au catalogue.")
    if not re.fullmatch(r"\d{2}_[a-z0-9_]+", slug):
        raise CourseError(f"`slug` doit ressembler à « 09_industrialiser » (deux chiffres, mots en minuscules), reçu {slug!r}.")
    if any(nb.number == slug[:2] for nb in catalog.notebooks):
        raise CourseError(f"Le numéro {slug[:2]} est déjà pris.")
    if not title.strip():
        raise CourseError("`title` est vide.")
    frameworks, extras = list(frameworks), list(extras)
    for name, values, allowed in (("frameworks", frameworks, FRAMEWORKS), ("extras", extras, STUDENT_EXTRAS)):
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise CourseError(f"`{name}` accepte {', '.join(allowed)} ; reçu {wrong}.")
    lesson = f"lecons/{slug.replace('_', '-')}.md"
    catalog_path = root / CATALOG_FILE
    text = catalog_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + _entry(slug, title, module, frameworks, extras, lesson)
    new_catalog = parse_catalog(text, root)  # refuse un module inconnu ou un ordre faux avant d'écrire quoi que ce soit
    catalog_path.write_text(text, encoding="utf-8")

    solution = solution_path(root, slug)
    solution.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(skeleton(frameworks[0]), solution)
    clean_solutions(root)

    module_title = new_catalog.module(module).title
    lesson_path = root / "docs" / lesson
    lesson_path.parent.mkdir(parents=True, exist_ok=True)
    lesson_path.write_text(_LESSON.format(number=slug[:2], title=title, module=module, module_title=module_title, slug=slug),
                           encoding="utf-8")
    mistakes = root / new_catalog.get(slug).mistakes
    mistakes.parent.mkdir(parents=True, exist_ok=True)
    mistakes.write_text(_MISTAKES.format(number=slug[:2], title=title), encoding="utf-8")
    return [catalog_path, solution, lesson_path, mistakes]
