"""Une capture d'écran de la page du service, prise dans un vrai navigateur (Chromium sans écran).

:func:`screenshot_page` ouvre la page du service dans le Chromium **du système**
(piloté par Playwright ; aucun navigateur n'est téléchargé), clique sur une carte
d'exemple, attend la réponse de l'API et renvoie la capture en PNG. Toute requête vers
un autre hôte que 127.0.0.1 est bloquée : la page doit fonctionner hors ligne.

Sans Playwright ou sans Chromium (Colab, par exemple), elle affiche pourquoi en
français et renvoie ``None`` : la capture est une illustration, jamais une étape obligatoire.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ..errors import LabkitError
from ..validation import validate_int

__all__ = ["CHROMIUM_ARGS", "find_chromium", "screenshot_page"]

#: Options de Chromium sans écran, dans un conteneur, sans aucun appel réseau de fond.
CHROMIUM_ARGS = ("--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


def find_chromium() -> str | None:
    """Le chemin du Chromium du système (``chromium`` ou ``chromium-browser``), ``None`` s'il manque."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing_browser() -> str | None:
    """Pourquoi la capture est impossible ici (en français), ``None`` si tout est là."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright n'est pas installé (pip install playwright) : capture de la page sautée."
    if find_chromium() is None:
        return ("Chromium n'est pas installé (apt-get install chromium sous Debian ou Ubuntu) : capture de la page sautée. "
                "Ouvrez plutôt l'adresse du service dans votre navigateur.")
    return None


def _capture(url: str, example: int, width: int, height: int) -> bytes:
    from playwright.sync_api import sync_playwright

    def route(request_route):
        if urlsplit(request_route.request.url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_ARGS), headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
            page = context.new_page()
            page.route("**/*", route)
            page.goto(url.rstrip("/") + "/")
            card = page.get_by_test_id(f"example-{example}")
            card.wait_for(timeout=30_000)
            card.click()
            page.get_by_test_id("predicted-class").wait_for(state="visible", timeout=30_000)
            return page.screenshot(full_page=True)
        finally:
            browser.close()


def screenshot_page(url: str, *, example: int = 2, width: int = 1100, height: int = 800, save_as: str | None = None):
    """Capture (PNG, ``bytes``) de la page du service à ``url`` après un clic sur la carte d'exemple ``example``.

    ``save_as`` : nom de la figure du site (``"10_page"``) ; elle est écrite dans
    ``$LABKIT_FIGURES_DIR`` quand la variable est définie (:func:`labkit.plotting.save_file`).
    Renvoie ``None`` (avec un message français) si Playwright ou Chromium manque.
    """
    if not isinstance(url, str) or urlsplit(url).hostname != "127.0.0.1":
        raise LabkitError(f"`url` doit être l'adresse du service sur 127.0.0.1 (service.url), reçu {url!r}.")
    example = validate_int("example", example, minimum=0)
    width = validate_int("width", width, minimum=320, maximum=4000)
    height = validate_int("height", height, minimum=320, maximum=4000)
    reason = _missing_browser()
    if reason is not None:
        print(reason)
        return None
    # L'API synchrone de Playwright refuse de tourner dans un fil qui a une boucle asyncio (celle du noyau
    # Jupyter) : la capture se fait dans un fil à part.
    with ThreadPoolExecutor(max_workers=1) as pool:
        png = pool.submit(_capture, url, example, width, height).result()
    if save_as is not None:
        from ..plotting import save_file

        save_file(png, save_as, ".png")
    return png
