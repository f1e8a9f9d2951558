"""Le site : construction stricte depuis le catalogue, leçons avec leurs figures et tableaux mesurés, liens relatifs."""

import html as html_lib
import re
import subprocess

import pytest

from labkit.course.catalog import load_catalog
from labkit.course.publish import hosts_in

pytestmark = pytest.mark.slow
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def site(built_site):
    return built_site


def _page(site, markdown_path):
    return (site / markdown_path.replace(".md", ".html")).read_text(encoding="utf-8")


def test_home_page_is_french_and_lists_every_catalog_notebook(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in html
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    for word in ("Prérequis", "Colab", "Le parcours"):
        assert word in html
    for nb in CATALOG.notebooks:
        assert nb.lesson.replace(".md", ".html") in html, nb.slug
        assert html_lib.escape(nb.title, quote=False) in html, nb.slug


def test_navigation_has_every_module_lesson_and_student_notebook(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    for module in CATALOG.modules:
        assert module.page.replace(".md", ".html") in html
    for nb in CATALOG.notebooks:
        assert f"notebooks/{nb.slug}/{nb.slug}.html" in html


@pytest.mark.parametrize("slug", CATALOG.slugs)
def test_student_notebook_page_has_relative_download_and_the_published_colab_link(site, slug):
    page = site / "notebooks" / slug / f"{slug}.html"
    html = page.read_text(encoding="utf-8")
    assert f'href="{slug}.ipynb" download' in html
    assert (page.parent / f"{slug}.ipynb").is_file()
    assert CATALOG.publication.colab_link(f"notebooks/{slug}/{slug}.ipynb") in html
    assert "VOTRE CODE ICI" in html and "BEGIN SOLUTION" not in html


@pytest.mark.parametrize("slug", CATALOG.slugs)
def test_each_lesson_shows_its_figures_and_included_tables(root, site, slug):
    """Chaque figure citée par la leçon existe dans le site ; chaque tableau inclus (produit par l'exécution) y est rendu."""
    lesson = CATALOG.get(slug).lesson
    markdown = (root / "docs" / lesson).read_text(encoding="utf-8")
    html = _page(site, lesson)
    figures = re.findall(r"\]\(\.\./(figures/[^)]+\.png)\)", markdown)
    assert figures, f"{lesson} : aucune figure"
    for figure in figures:
        assert f'src="../{figure}"' in html and (site / figure).is_file(), figure
    for table in re.findall(r'--8<-- "(figures/[^"]+\.md)"', markdown):
        first_row = (root / "docs" / table).read_text(encoding="utf-8").splitlines()[2]
        label = first_row.split("|")[1].strip()
        assert html_lib.escape(label, quote=False) in html or label in html, (table, label)
    assert "Ouvrir dans Colab" in html


def test_data_page_shows_the_example_grid_and_the_measured_cases_table(site):
    html = (site / "donnees.html").read_text(encoding="utf-8")
    for figure in ("donnees_exemples.png", "donnees_cameras.png"):
        assert f"figures/{figure}" in html and (site / "figures" / figure).is_file()
    for case in ("surapprentissage", "normalisation", "déséquilibre", "décalage", "fuite (groupes)", "fuite (prétraitement)"):
        assert case in html
    assert html.count("⚠️") >= 6 and html.count("✅") >= 6
    assert "précision de validation" in html and "(défaut)" in html


def test_measurement_page_includes_the_committed_benchmark(site, root):
    html = (site / "mesurer.html").read_text(encoding="utf-8")
    assert "Un fil" in html and "int8 (ONNX Runtime)" in html
    assert (root / "benchmarks" / "results" / "optimization.md").is_file()


def test_no_page_calls_another_host(site):
    """Aucun script, style, police ni image d'un autre hôte ; aucun widget de dépôt (api.github.com)."""
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        # Le lien « canonical » nomme l'adresse de publication sans rien charger.
        text = re.sub(r'<link rel="canonical"[^>]*>', "", text)
        sources = re.findall(r'<(?:script|img|link|iframe)[^>]+(?:src|href)="(https?:)?//([^"/]+)', text)
        assert not [s for s in sources if not s[1].startswith("127.0.0.1")], (page, sources[:3])
        assert "api.github.com" not in text, page


def _real(host: str) -> bool:
    """Un hôte réel : ni local, ni réservé aux exemples (RFC 2606 : .invalid, .test, example.org…), ni sans domaine."""
    reserved = host in ("127.0.0.1", "localhost") or "." not in host or host.endswith((".invalid", ".test", ".example"))
    return not (reserved or re.fullmatch(r"(.+\.)?example\.(org|com|net)", host))


def test_no_host_is_written_in_the_repository_outside_the_publication_setting(root):
    """Le seul endroit qui nomme un hôte est la section [publication] de course.toml."""
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    offenders = {}
    for name in tracked:
        path = root / name
        # Fichiers binaires : un PDF (rapport d'exemple du notebook 11) nomme dans ses métadonnées XMP les
        # espaces de noms du W3C et d'Adobe, des identifiants qu'aucun lecteur ne charge.
        if name == "course.toml" or not path.is_file() or path.suffix in (".png", ".pdf", ".whl", ".gz", ".zip", ".db"):
            continue
        hosts = {h for h in hosts_in(path.read_text(encoding="utf-8", errors="ignore")) if _real(h)}
        if hosts:
            offenders[name] = sorted(hosts)
    assert not offenders, offenders
