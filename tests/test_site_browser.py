"""Le site dans un vrai navigateur : Chromium sans écran (paquet Debian), site servi sur 127.0.0.1.

Pour l'accueil, chaque leçon, un notebook rendu, la page des enseignants et le glossaire, en largeur
d'ordinateur et de téléphone : aucune erreur dans la console, aucune requête échouée ni vers un autre
hôte, aucune image manquante, aucun lien interne cassé, aucune ancre introuvable. La recherche trouve
les leçons. Les captures d'écran sont gardées dans ``build/test-artifacts/``.
"""

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from labkit.course.catalog import load_catalog

pytestmark = pytest.mark.slow
CATALOG = load_catalog()
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORTS = {"ordinateur": {"width": 1280, "height": 900}, "telephone": {"width": 390, "height": 844}}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_site(built_site):
    out = built_site
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "index.html", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield out, base
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium est absent : installez-le (apt-get install chromium), `make test` le fait quand il le peut.")
    playwright_sync = pytest.importorskip("playwright.sync_api", reason="Playwright n'est pas installé (extra dev).")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _pages():
    pages = ["index.html", "enseigner.html", "glossaire.html", f"notebooks/{CATALOG.slugs[0]}/{CATALOG.slugs[0]}.html"]
    return pages + [nb.lesson.replace(".md", ".html") for nb in CATALOG.notebooks]


def _visit(browser, base, path, viewport):
    """Ouvre une page ; renvoie (erreurs de console, requêtes échouées, requêtes externes, images manquantes, liens, ancres)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    console, failed, external = [], [], []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None)

    def route(request_route):
        url = request_route.request.url
        if urlparse(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            external.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(base + path, wait_until="networkidle")
    missing_images = page.eval_on_selector_all("img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    ids = set(page.eval_on_selector_all("[id]", "nodes => nodes.map(n => n.id)"))
    name = path.replace("/", "_").replace(".html", "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site_{name}_{viewport['width']}.png"), full_page=False)
    context.close()
    return console, failed, external, missing_images, links, ids


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("path", _pages())
def test_page_loads_cleanly_offline_with_working_links_and_anchors(served_site, browser, path, viewport):
    site, base = served_site
    console, failed, external, missing_images, links, ids = _visit(browser, base, path, VIEWPORTS[viewport])
    assert not console, console[:3]
    assert not failed, failed[:3]
    assert not external, external[:3]
    assert not missing_images, missing_images[:3]
    page_url = base + path
    for link in links:
        parsed = urlparse(link)
        if parsed.hostname != "127.0.0.1":
            continue  # un lien sortant (Colab) n'est pas chargé par la page
        target = site / unquote(parsed.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.is_file(), f"{path} : lien interne cassé vers {link}"
        if parsed.fragment and urljoin(page_url, parsed.path) == page_url.split("#")[0]:
            assert parsed.fragment in ids, f"{path} : ancre introuvable #{parsed.fragment}"
        elif parsed.fragment and target.suffix == ".html":
            html = target.read_text(encoding="utf-8")
            assert re.search(rf'id="{re.escape(parsed.fragment)}"', html), f"{path} : ancre introuvable {link}"


def _search(page, query, patience_s=120):
    """Tape ``query`` dans la recherche et renvoie les liens des résultats.

    Material lance la requête sur un relâchement de touche (ou sur la prise du focus), pas sur
    l'événement ``input`` que produit ``fill`` : on appuie donc sur « Fin » après avoir rempli le champ.
    L'index se construit dans un *web worker* après le chargement de la page ; une requête tapée avant
    qu'il soit prêt reste sans réponse (« Taper pour démarrer la recherche ») jusqu'à la frappe suivante.
    On retape donc la requête jusqu'à ce que l'index réponde : une attente, pas une mesure."""
    deadline = time.monotonic() + patience_s
    while True:
        for text in ("", query):
            page.fill("input.md-search__input", text)
            page.press("input.md-search__input", "End")
        try:
            page.wait_for_function("document.querySelector('.md-search-result__meta').textContent.match(/trouvé/)",
                                   timeout=3_000)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
    return page.eval_on_selector_all(".md-search-result__link", "links => links.map(a => a.href)")


@pytest.mark.parametrize("query, expected", [
    ("surapprentissage", "01-surapprentissage"),
    ("quantification", "05-quantifier"),
    ("élagage", "06-elaguer"),
])
def test_search_finds_the_lessons(served_site, browser, query, expected):
    _, base = served_site
    context = browser.new_context(viewport=VIEWPORTS["ordinateur"])
    page = context.new_page()
    page.goto(base + "index.html", wait_until="networkidle")
    hrefs = _search(page, query)
    page.screenshot(path=str(ARTIFACTS / f"site_recherche_{expected}.png"))
    context.close()
    assert any(expected in href for href in hrefs), hrefs[:5]


def test_search_without_accents(served_site, browser):
    """« elagage » tapé sans accent : on note ce que la recherche trouve (voir la page des enseignants)."""
    _, base = served_site
    context = browser.new_context(viewport=VIEWPORTS["ordinateur"])
    page = context.new_page()
    page.goto(base + "index.html", wait_until="networkidle")
    hrefs = _search(page, "elagage")
    context.close()
    print(f"recherche « elagage » (sans accent) : {len(hrefs)} résultat(s)", hrefs[:3])
