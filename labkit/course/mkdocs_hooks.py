"""Crochets MkDocs (``hooks:`` de ``mkdocs.yml``, chargés comme un fichier : imports absolus) : le site vient du catalogue.

- la navigation (modules, leçons, notebooks étudiants) et l'adresse du site viennent de ``course.toml`` ;
- la page d'accueil et chaque page de module reçoivent le tableau du parcours, généré ;
- les notebooks affichés sont ceux de ``notebooks/`` (ou, pour la publication, ceux du dossier
  ``LABKIT_SITE_NOTEBOOKS``, dont l'installation pointe vers la roue publiée) ;
- ``LABKIT_SITE_SOLUTIONS`` ajoute les solutions exécutées (« corrigés »), seulement si la
  construction le demande ;
- chaque page de notebook reçoit son lien « Ouvrir dans Colab » (adresse de publication).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from labkit.course.catalog import Catalog, load_catalog

PARCOURS_MARK = "<!-- catalogue : parcours -->"
MODULE_MARK = "<!-- catalogue : module {number} -->"
COLAB_MARK = re.compile(r"<!-- catalogue : colab (\w+) -->")

_catalog: Catalog | None = None


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _notebook_page(slug: str) -> str:
    return f"notebooks/{slug}/{slug}.ipynb"


def on_config(config):
    global _catalog
    _catalog = load_catalog(_root(config))
    config.site_url = _catalog.publication.site_url
    modules = []
    for module in _catalog.modules:
        pages = [{f"Module {module.number} · {module.title}": module.page}]
        for nb in (n for n in _catalog.notebooks if n.module == module.number):
            pages.append({f"{nb.number} · {nb.title}": nb.lesson})
            pages.append({f"Notebook {nb.number} (version étudiante)": _notebook_page(nb.slug)})
        modules.append({f"Module {module.number} · {module.title}": pages})
    before = [entry for entry in (config.nav or []) if not isinstance(entry, dict) or "Modules" not in entry]
    head = [e for e in before if not (isinstance(e, dict) and "Après les modules" in e)]
    tail = next((e["Après les modules"] for e in before if isinstance(e, dict) and "Après les modules" in e), [])
    config.nav = head + modules + tail
    if os.environ.get("LABKIT_SITE_SOLUTIONS"):
        config.nav.append({"Corrigés": [{f"Corrigé {nb.number}": f"corriges/{nb.slug}.ipynb"} for nb in _catalog.notebooks]})
    return config


@event_priority(100)  # avant mkdocs-jupyter, qui convertit les notebooks ajoutés ici
def on_files(files, config):
    root = _root(config)
    notebooks = Path(os.environ.get("LABKIT_SITE_NOTEBOOKS") or root)
    for nb in _catalog.notebooks:
        files.append(
            File(_notebook_page(nb.slug), src_dir=str(notebooks), dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls)
        )
    solutions = os.environ.get("LABKIT_SITE_SOLUTIONS")
    if solutions:
        for nb in _catalog.notebooks:
            files.append(
                File(
                    f"corriges/{nb.slug}.ipynb",
                    src_dir=str(Path(solutions).parent),
                    dest_dir=config.site_dir,
                    use_directory_urls=config.use_directory_urls,
                )
            )
    return files


def parcours_table(catalog: Catalog, *, module: int | None = None, prefix: str = "") -> str:
    """Le tableau du parcours (Markdown) : une ligne par notebook, avec son cadre et sa durée annoncée."""
    lines = ["| notebook | module | cadre | durée |", "|---|---|---|---|"]
    names = {"torch": "PyTorch", "keras": "Keras"}
    for nb in catalog.notebooks:
        if module is not None and nb.module != module:
            continue
        frameworks = " et ".join(names[f] for f in nb.frameworks)
        lines.append(
            f"| [{nb.number} · {nb.title}]({prefix}{nb.lesson}) | {nb.module} · {catalog.module(nb.module).title} "
            f"| {frameworks} | {nb.duration} |"
        )
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):
    depth = page.file.src_uri.count("/")
    prefix = "../" * depth
    if PARCOURS_MARK in markdown:
        markdown = markdown.replace(PARCOURS_MARK, parcours_table(_catalog, prefix=prefix))
    markdown = COLAB_MARK.sub(
        lambda m: (
            f"[Ouvrir dans Colab]({_catalog.publication.colab_link(_notebook_page(_catalog.get(m.group(1)).slug))})"
            "{ .md-button .md-button--primary }"
        ),
        markdown,
    )
    for module in _catalog.modules:
        mark = MODULE_MARK.format(number=module.number)
        if mark in markdown:
            markdown = markdown.replace(mark, parcours_table(_catalog, module=module.number, prefix=prefix))
    return markdown


def on_page_context(context, page, config, nav):
    src = page.file.src_uri
    slug = Path(src).stem
    if src.startswith("notebooks/") and slug in _catalog.by_slug:
        context["colab_link"] = _catalog.publication.colab_link(src)
        context["notebook_file"] = f"{slug}.ipynb"
    return context
