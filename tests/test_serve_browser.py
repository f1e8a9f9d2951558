"""La page du service dans un vrai navigateur (Chromium piloté par Playwright), hors ligne.

Toute requête vers un autre hôte que 127.0.0.1 est bloquée **et comptée** : la page ne doit
en faire aucune (pas de CDN, pas de police web). Captures d'écran dans ``build/test-artifacts/``.
"""

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
import pytest
from serve_fixtures import ROOT, ServerProcess, train_artifacts

pytestmark = pytest.mark.slow

httpx = pytest.importorskip("httpx", reason="httpx manque : pip install \"ameliorer-dl[dev]\"")
pytest.importorskip("fastapi", reason="FastAPI manque : pip install \"ameliorer-dl[serve]\"")

ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def _chromium_or_skip() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright manque : pip install playwright (le navigateur vient du système, voir ci-dessous).")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium manque : installez-le avec « apt-get install chromium » (Debian/Ubuntu), "
                    "puis relancez les tests ; le téléchargement de navigateurs de Playwright n'est pas utilisé.")
    return executable


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    trained = train_artifacts(tmp_path_factory.mktemp("artefacts"))
    with ServerProcess(trained.fp32, log_path=tmp_path_factory.mktemp("journal") / "serveur.log") as process:
        yield process


@pytest.fixture(scope="module")
def browser():
    executable = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Watched:
    """Une page dont on surveille les requêtes sortantes et la console."""

    def __init__(self, browser, viewport):
        self.context = browser.new_context(viewport=viewport, locale="fr-FR")
        self.page = self.context.new_page()
        self.blocked, self.console_errors, self.page_errors = [], [], []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _route(self, route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture(params=[None, PHONE], ids=["bureau", "téléphone"])
def watched(request, browser):
    page = Watched(browser, request.param or {"width": 1280, "height": 900})
    yield page
    page.close()


def _api_prediction(server, example_index: int) -> dict:
    png = httpx.get(f"{server.url}/api/examples/{example_index}.png").content
    answer = httpx.post(server.url + "/api/predict", files=[("files", ("e.png", png, "image/png"))], timeout=30).json()
    return answer["predictions"][0]


def test_example_click_shows_the_api_prediction(server, watched, request):
    page = watched.page
    page.goto(server.url + "/")
    page.get_by_test_id("example-2").wait_for()
    page.get_by_test_id("example-2").click()
    predicted = page.get_by_test_id("predicted-class")
    predicted.wait_for(state="visible")
    expected = _api_prediction(server, 2)
    assert predicted.text_content() == expected["class_name_fr"]
    assert predicted.get_attribute("data-class-name") == expected["class_name"]
    assert page.locator("#probabilities li").count() == 6
    assert "Temps serveur" in page.get_by_test_id("timing").text_content()
    assert "pcb-cnn" in page.get_by_test_id("model-info").text_content()
    images = page.locator("img")
    for i in range(images.count()):
        assert images.nth(i).get_attribute("alt"), "chaque image doit avoir un texte alternatif"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"serve_page{'' if 'bureau' in request.node.name else '_phone'}.png"), full_page=True)
    if "téléphone" in request.node.name:  # rien ne déborde horizontalement à 390 px
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert watched.blocked == [], f"requêtes vers d'autres hôtes : {watched.blocked}"
    assert watched.console_errors == [] and watched.page_errors == []


def test_chosen_file_is_classified(server, watched, tmp_path):
    from labkit.datasets import make_pcb_defects
    from labkit.serve.preprocess import encode_png

    image = make_pcb_defects(1, seed=7).images[0]
    path = tmp_path / "carte.png"
    path.write_bytes(encode_png(image))
    page = watched.page
    page.goto(server.url + "/")
    page.get_by_test_id("file-input").set_input_files(str(path))
    page.get_by_test_id("predicted-class").wait_for(state="visible")
    answer = httpx.post(server.url + "/api/predict", files=[("files", ("c.png", path.read_bytes(), "image/png"))]).json()
    assert page.get_by_test_id("predicted-class").text_content() == answer["predictions"][0]["class_name_fr"]
    shown = page.locator(".bar-row-best .bar-label").text_content()
    assert shown == answer["predictions"][0]["class_name_fr"]
    assert watched.blocked == [] and watched.console_errors == [] and watched.page_errors == []


def test_refused_file_shows_a_french_error(server, watched, tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"ceci n'est pas une image")
    page = watched.page
    page.goto(server.url + "/")
    page.get_by_test_id("file-input").set_input_files(str(path))
    error = page.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "Erreur 422" in error.text_content() and "pas une image lisible" in error.text_content()
    assert page.get_by_test_id("result").is_hidden()
    # Chromium journalise tout statut 4xx reçu par fetch ; rien d'autre n'est admis.
    assert all("422" in text for text in watched.console_errors) and watched.page_errors == []
    assert watched.blocked == []
    assert np.isfinite(float(httpx.get(server.url + "/api/health").json()["uptime_s"]))


def test_screenshot_helper_works_inside_an_event_loop_and_writes_the_site_figure(server, tmp_path):
    """``labkit.serve.screenshot_page`` (notebook 10) : dans un fil qui a une boucle asyncio, comme un noyau Jupyter."""
    _chromium_or_skip()
    from labkit.plotting import figures_dir
    from labkit.serve import screenshot_page

    async def inside_a_loop():
        return screenshot_page(server.url, example=1, save_as="10_page")

    # Un fil neuf, où asyncio.run fait tourner une boucle : l'appel synchrone s'y fait comme dans un noyau Jupyter.
    with figures_dir(tmp_path), ThreadPoolExecutor(max_workers=1) as pool:
        png = pool.submit(asyncio.run, inside_a_loop()).result()
    assert png.startswith(b"\x89PNG") and (tmp_path / "10_page.png").read_bytes() == png
