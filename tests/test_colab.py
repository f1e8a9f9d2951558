"""Un environnement semblable à Colab : la cellule d'installation publiée, puis chaque notebook.

Un environnement virtuel neuf reçoit les paquets que Colab fournit, aux versions de Colab
(``tests/colab/colab-<date>.toml``). La version étudiante est publiée et servie sur 127.0.0.1.
Pour chaque notebook du catalogue, la cellule d'installation **publiée** est exécutée telle
quelle, puis la solution, en mode rapide, dans cet environnement. À la fin, aucun paquet
préinstallé n'a changé de version. Les durées et la taille de la publication sont affichées.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest

from labkit.course.catalog import load_catalog
from labkit.course.paths import solution_path
from labkit.course.publish import build_publication, check_publication
from labkit.course.release import package_version

pytestmark = pytest.mark.slow
CATALOG = load_catalog()
COLAB = sorted((Path(__file__).parent / "colab").glob("colab-*.toml"))[-1]
#: Ce qu'un étudiant ne doit pas voir dans les sorties : journaux de démarrage, avertissements.
NOISE = re.compile(r"oneDNN|absl::|cuda_|TF-TRT|DeprecationWarning|FutureWarning|UserWarning|RuntimeWarning|WARNING")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _freeze(python):
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


_RUNNER = """
import json, sys, time, nbformat
from nbclient import NotebookClient
path, cwd = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
start = time.perf_counter()
client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": cwd}}, allow_errors=True)
client.execute()
errors = [(i, o.ename, o.evalue) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
def text(name):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream" and o.get("name") == name)
print(json.dumps({"errors": errors, "seconds": time.perf_counter() - start, "stdout": text("stdout")[-200000:],
                  "stderr": text("stderr")[-200000:]}))
"""


@pytest.fixture(scope="module")
def colab(root, tmp_path_factory):
    """La publication servie sur 127.0.0.1 et un environnement aux paquets de Colab."""
    tmp = tmp_path_factory.mktemp("colab")
    port = _free_port()
    start = time.perf_counter()
    publication = build_publication(root, tmp / "publication", site_url=f"http://127.0.0.1:{port}/")
    built = time.perf_counter() - start
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(publication)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spec = tomllib.loads(COLAB.read_text(encoding="utf-8"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    packages = [f"{name}=={version}" for name, version in spec["packages"].items()]
    packages += [f"{name}{constraint}" for name, constraint in spec["runner"].items()]
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    before = _freeze(python)
    yield {"python": python, "publication": publication, "port": port, "before": before, "spec": spec, "tmp": tmp,
           "build_seconds": built, "setup_seconds": time.perf_counter() - start}
    server.terminate()
    server.wait(timeout=10)


def _run(colab, notebook):
    # Un fil par bibliothèque, hérité de l'environnement que fixe conftest.py.
    result = subprocess.run([str(colab["python"]), "-c", _RUNNER, str(notebook), str(notebook.parent)], capture_output=True,
                            text=True, env={**os.environ, "LABKIT_SMOKE": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""},
                            cwd=notebook.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_publication_holds_no_answer(colab):
    assert check_publication(colab["publication"], CATALOG.root) == []
    size = sum(p.stat().st_size for p in colab["publication"].rglob("*") if p.is_file())
    print(f"publication : {size / 1e6:.1f} Mo, construite en {colab['build_seconds']:.0f} s")


def test_a_wrong_address_stops_run_all_with_a_french_message(colab):
    nb = nbformat.read(colab["publication"] / "notebooks" / CATALOG.slugs[0] / f"{CATALOG.slugs[0]}.ipynb", as_version=4)
    install = next(c for c in nb.cells if "install" in c.metadata.get("tags", []))
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        install.source.replace("/paquets/", "/inexistant/").replace('LABKIT_VERSION = "', 'LABKIT_VERSION = "99.'))])
    broken.metadata = nb.metadata
    path = colab["tmp"] / "adresse_fausse.ipynb"
    nbformat.write(broken, path)
    result = _run(colab, path)
    assert result["errors"] and result["errors"][0][1] == "RuntimeError"
    assert "L'installation de labkit a échoué" in result["errors"][0][2]


@pytest.mark.parametrize("slug", CATALOG.slugs)
def test_the_published_install_cell_then_the_notebook_run_in_colab(colab, slug):
    """La cellule d'installation publiée, exécutée telle quelle, puis la solution en mode rapide, sans erreur."""
    published = nbformat.read(colab["publication"] / "notebooks" / slug / f"{slug}.ipynb", as_version=4)
    install = next(c for c in published.cells if "install" in c.metadata.get("tags", []))
    assert f"http://127.0.0.1:{colab['port']}/paquets/" in install.source
    solution = nbformat.read(solution_path(CATALOG.root, slug), as_version=4)
    next(c for c in solution.cells if "install" in c.metadata.get("tags", [])).source = install.source
    work = colab["tmp"] / "runs" / slug
    work.mkdir(parents=True)
    path = work / f"{slug}.ipynb"
    nbformat.write(solution, path)
    result = _run(colab, path)
    print(f"{slug} : {result['seconds']:.0f} s dans l'environnement Colab")
    assert not result["errors"], result["errors"][:3]
    assert f"labkit {package_version(CATALOG.root)} est" in result["stdout"]
    noise = sorted({line.strip()[:160] for line in result["stderr"].splitlines() if NOISE.search(line)})
    assert not noise, noise[:5]


def test_no_preinstalled_package_changed_version(colab):
    after = _freeze(colab["python"])
    for name in colab["spec"]["packages"]:
        assert after[name.lower()] == colab["before"][name.lower()], name
    assert "ameliorer-dl" in after
