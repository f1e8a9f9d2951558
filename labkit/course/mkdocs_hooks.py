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
    tail = tail if isinstance(tail, list) else []
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


def _reference_note(root: Path, slug: str, frameworks=("torch",)) -> str:
    """D'où viennent les figures d'une leçon : la date, la machine et les fils de l'exécution de référence."""
    path = root / "docs" / "figures" / "reference.md"
    for line in path.read_text(encoding="utf-8").splitlines()[2:] if path.is_file() else []:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) in (4, 5) and cells[0] == slug:
            threads = cells[4] if len(cells) == 5 else "1"
            # Keras s'entraîne toujours sur un fil (labkit.runtime) : seul le nombre de fils de PyTorch est noté.
            training = ("entraînement PyTorch sur " + threads + (" fils" if threads != "1" else " fil")
                        if "torch" in frameworks else "entraînement Keras sur un fil")
            return (f"\n\n---\n\n*Figures et tableaux de cette page : exécution complète du notebook le {cells[1]}, "
                    f"sur {cells[2]} ({cells[3]} s ; {training}, latences mesurées sur un fil). "
                    "Vos propres chiffres, dans votre notebook, viennent de votre machine.*\n")
    return ""


def on_page_markdown(markdown, page, config, files):
    markdown = _include_results(markdown, _root(config))
    for nb in _catalog.notebooks:
        if page.file.src_uri == nb.lesson:
            markdown += _reference_note(_root(config), nb.slug, nb.frameworks)
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


GRADING_MARK = "<!-- catalogue : temps de correction -->"


def _included_result(root: Path, name: str) -> str:
    """Le contenu d'un résultat de banc d'essai, sans son titre, ou une phrase qui dit qu'il manque."""
    path = root / "benchmarks" / "results" / name
    if not path.is_file():
        return f"*Pas encore mesuré sur cette version : lancez `benchmarks/{name.replace('.md', '.py')}`.*"
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("# "))


def _include_results(markdown, root):  # appelé par on_page_markdown
    if GRADING_MARK in markdown:
        markdown = markdown.replace(GRADING_MARK, _included_result(root, "grading.md"))
    return markdown


# --------------------------------------------------------------------------- typographie française

_SKIPPED = ("code", "pre", "script", "style", "kbd", "svg", "math")
_TAG = re.compile(r"(<[^>]+>)")
_NBSP = "\u00a0"


def french_typography(html: str) -> str:
    """Espaces insécables avant « : ; ? ! % » et à l'intérieur des guillemets, hors du code ; virgule décimale
    dans les cellules de tableau qui ne contiennent qu'un nombre (une seule convention par page)."""
    out, skipping, in_cell = [], [], False
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", piece)
            name = name.group(1).lower() if name else ""
            if name in _SKIPPED and not piece.endswith("/>"):
                if piece.startswith("</"):
                    if skipping and skipping[-1] == name:
                        skipping.pop()
                else:
                    skipping.append(name)
            if name == "td":
                in_cell = not piece.startswith("</")
            out.append(piece)
            continue
        if skipping or not piece.strip():
            out.append(piece)
            continue
        text = re.sub(r"[ \u00a0\u202f]+([:;?!%»])", _NBSP + r"\1", piece)
        text = re.sub(r"«[ \u00a0\u202f]+", "«" + _NBSP, text)
        if in_cell and re.fullmatch(r"\s*[-−]?\d+\.\d+\s*", text):
            text = text.replace(".", ",")
        out.append(text)
    return "".join(out)


def on_page_content(html, page, config, files):
    return french_typography(html)
