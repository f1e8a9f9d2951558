"""Les cellules que le catalogue écrit dans chaque notebook : en-tête, installation, paramètres.

Elles ne s'écrivent pas à la main : ``labkit-course release`` les régénère dans
``solutions/`` et ``notebooks/`` depuis ``course.toml``, et la publication les réécrit
avec l'adresse de publication (lien Colab, roue de labkit). Chaque cellule porte une
étiquette (``header``, ``install``, ``parameters``) qui permet de la retrouver.
"""

from __future__ import annotations

import nbformat

from .catalog import Catalog, Notebook

HEADER_TAG, INSTALL_TAG, PARAMETERS_TAG = "header", "install", "parameters"

#: Paquets que Colab fournit déjà : l'installation ne doit jamais en changer la version.
PREINSTALLED = ("torch", "torchvision", "torchaudio", "tensorflow", "keras", "tf-keras", "numpy", "pandas",
                "scikit-learn", "scipy", "matplotlib", "jax", "jaxlib", "ipywidgets", "ipykernel", "pillow")


#: Les règles de la correction automatique, énoncées en tête de chaque notebook (voir labkit.course.guard).
GRADING_RULES = (
    "> **Correction automatique.** Seul le code des cellules de réponse (celles qui contiennent "
    "`VOTRE CODE ICI`) est corrigé, replacé dans le notebook de l'enseignant : écrivez-y aussi vos fonctions "
    "auxiliaires, car une cellule que vous ajoutez n'est pas exécutée à la correction. Dans une réponse, ne "
    "redéfinissez ni les noms du notebook (imports, fonctions et classes qu'il définit, constantes en capitales, "
    "`ctx`) ni les fonctions de Python, ne modifiez pas de module, n'utilisez ni commande magique ni `except:` "
    "sans type, et n'appelez pas la fonction de référence du cours quand l'exercice demande de l'écrire : la cellule serait neutralisée. "
    "La correction choisit le mode (rapide ou complet) et évalue les modèles entraînés sur des données qu'elle "
    "génère elle-même."
)


def header_source(catalog: Catalog, entry: Notebook, colab_link: str | None = None) -> str:
    """Titre, module, durée annoncée, règles de la correction et, publié, le lien « Ouvrir dans Colab »."""
    module = catalog.module(entry.module)
    line = f"**Module {module.number} · {module.title}** — durée : {entry.duration} environ"
    if colab_link:
        line += f" · [Ouvrir dans Colab]({colab_link})"
    return f"# Notebook {entry.number} — {entry.title}\n\n{line}\n\n{GRADING_RULES}"


def _extras(entry: Notebook) -> str:
    return ",".join(entry.extras)


def install_source(entry: Notebook, version: str, wheel_url: str | None = None) -> str:
    """La cellule d'installation : vérifie labkit dans le dépôt, l'installe depuis la roue publiée sinon.

    Sans ``wheel_url`` (dépôt des enseignants), elle vérifie seulement que labkit est
    importable. Avec ``wheel_url`` (version publiée), elle installe exactement la version
    ``version`` de labkit avec les extras du notebook, sans changer la version d'aucun
    paquet déjà présent (contraintes tirées de l'environnement), affiche la progression,
    et arrête « Tout exécuter » avec un message français si l'installation échoue.
    """
    if wheel_url is None:
        return (
            "# Installation de labkit : dans la version publiée du cours, cette cellule l'installe (Colab).\n"
            "# Dans le dépôt des enseignants, `make` l'a déjà installé : elle vérifie seulement sa présence.\n"
            "import importlib.util\n"
            "\n"
            "if importlib.util.find_spec(\"labkit\") is None:\n"
            "    raise ModuleNotFoundError(\n"
            "        \"labkit n'est pas installé. Ouvrez la version publiée de ce notebook (bouton « Ouvrir dans Colab » \"\n"
            "        \"du site du cours), ou lancez `make course` à la racine du dépôt du cours.\"\n"
            "    )"
        )
    preinstalled = ", ".join(f'"{name}"' for name in PREINSTALLED)
    extras = ", ".join(f'"{extra}"' for extra in entry.extras)
    return f'''# Installation de labkit {version} et de ce que ce notebook utilise ({_extras(entry) or "rien de plus"}).
# Ne fait rien si tout est déjà là ; ne change la version d'aucun paquet déjà installé (Colab).
LABKIT_VERSION = "{version}"
LABKIT_WHEEL = "{wheel_url}"
LABKIT_EXTRAS = [{extras}]

import importlib
import importlib.metadata
import re
import subprocess
import sys
import tempfile


def _installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _missing():
    """Ce qui manque : labkit à la bonne version, puis les paquets des extras demandés."""
    if _installed("ameliorer-dl") != LABKIT_VERSION:
        return ["ameliorer-dl"]
    missing = []
    for requirement in importlib.metadata.requires("ameliorer-dl") or []:
        extra = re.search(r'extra *== *"([^"]+)"', requirement)
        package = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        if extra and extra.group(1) in LABKIT_EXTRAS and _installed(package) is None:
            missing.append(package)
    return missing


if not _missing():
    print(f"labkit {{LABKIT_VERSION}} est déjà installé, avec ce que ce notebook utilise.")
else:
    if sys.version_info < (3, 11):
        raise RuntimeError(f"labkit demande Python 3.11 ou plus récent ; cet environnement a Python {{sys.version.split()[0]}}.")
    if _installed("ameliorer-dl") not in (None, LABKIT_VERSION):
        print(f"labkit {{_installed('ameliorer-dl')}} est installé : installation de la version {{LABKIT_VERSION}} du cours.")
    # Les paquets déjà présents gardent leur version : pip échoue plutôt que de les changer.
    pinned = [f"{{name}}=={{_installed(name)}}" for name in ({preinstalled}) if _installed(name)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.write("\\n".join(pinned) + "\\n")
    requirement = f"ameliorer-dl[{{','.join(LABKIT_EXTRAS)}}] @ {{LABKIT_WHEEL}}" if LABKIT_EXTRAS else LABKIT_WHEEL
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "on", "--constraint", constraints.name, requirement]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="")
    if process.wait() != 0:
        raise RuntimeError(
            "L'installation de labkit a échoué (voir les lignes de pip ci-dessus). Vérifiez la connexion à Internet, "
            "puis relancez cette cellule. Si pip parle de versions incompatibles, redémarrez la session "
            "(menu Exécution) et relancez tout ; si l'erreur persiste, signalez-la à votre enseignant avec ces lignes."
        )
    importlib.invalidate_caches()
    print(f"labkit {{LABKIT_VERSION}} est installé.")'''


def parameters_source() -> str:
    return "SMOKE = False"


def _code_cell(source: str, tag: str, nbgrader_id: str | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [tag]
    if nbgrader_id:
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": nbgrader_id, "locked": True, "schema_version": 3,
                                     "solution": False, "task": False}
    return cell


def generated_cells(catalog: Catalog, entry: Notebook, version: str, *, colab_link: str | None = None,
                    wheel_url: str | None = None) -> dict[str, nbformat.NotebookNode]:
    """Les trois cellules écrites par le catalogue, par étiquette."""
    header = nbformat.v4.new_markdown_cell(header_source(catalog, entry, colab_link))
    header.metadata["tags"] = [HEADER_TAG]
    return {
        HEADER_TAG: header,
        INSTALL_TAG: _code_cell(install_source(entry, version, wheel_url), INSTALL_TAG),
        # Verrouillée : la correction rétablit SMOKE = False, et c'est elle qui choisit le mode.
        PARAMETERS_TAG: _code_cell(parameters_source(), PARAMETERS_TAG, nbgrader_id="parameters"),
    }


def write_generated_cells(nb: nbformat.NotebookNode, cells: dict[str, nbformat.NotebookNode]) -> list[str]:
    """Remplace, dans ``nb``, chaque cellule étiquetée par sa version générée ; renvoie les étiquettes manquantes."""
    missing = []
    for tag, generated in cells.items():
        positions = [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]
        if len(positions) != 1:
            missing.append(tag)
            continue
        current = nb.cells[positions[0]]
        current.source = generated.source
        current.metadata = {**{k: v for k, v in current.metadata.items() if k not in ("nbgrader", "tags")},
                            **generated.metadata}
    return missing
