"""La version étudiante publiable : le site, les notebooks étudiants, le paquet labkit — et aucune réponse.

Deux publics, deux artefacts. Le dépôt du cours (solutions, tests cachés) est celui des
enseignants. Ce qu'atteignent les étudiants est construit dans un seul dossier,
``build/publication/``, à pousser tel quel dans le dépôt public nommé par ``course.toml``
(section ``[publication]``), servi par GitHub Pages :

- le site (pages HTML, liens relatifs : il s'ouvre aussi depuis le disque) ;
- ``notebooks/<n>/<n>.ipynb`` : les notebooks étudiants, dont la cellule d'installation
  installe la roue publiée et dont l'en-tête porte le lien « Ouvrir dans Colab » ;
- ``notebooks.zip`` : tous les notebooks étudiants en une archive ;
- ``paquets/`` : la roue et l'archive source de labkit (``ameliorer-dl``).

:func:`check_publication` refuse un dossier qui contient un marqueur de solution, du code
de test caché ou un notebook source.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from ..errors import CourseError
from .catalog import load_catalog
from .release import build_release, notebook_text, package_version, publish_cells

#: Ce qu'aucun fichier publié ne doit contenir.
FORBIDDEN_MARKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "hidden_checks")


def build_packages(root: Path, destination: Path) -> list[Path]:
    """Construit la roue et l'archive source de labkit dans ``destination`` (hors ligne, sans isolation)."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="labkit-build-") as tmp:
        result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", tmp, str(root)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise CourseError(f"La construction du paquet labkit a échoué :\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        built = []
        for path in sorted(Path(tmp).iterdir()):
            built.append(Path(shutil.copy2(path, destination / path.name)))
    return built


def wheel_name(root: Path) -> str:
    """Le nom de la roue de labkit que construit ce dépôt."""
    return f"ameliorer_dl-{package_version(root)}-py3-none-any.whl"


def published_notebooks(root: Path, destination: Path, *, site_url: str | None = None) -> list[Path]:
    """Les notebooks étudiants publiés sous ``destination/notebooks/`` : lien Colab et installation depuis la roue."""
    catalog = load_catalog(root)
    if site_url:
        catalog = type(catalog)(catalog.root, catalog.publication.with_site_url(site_url), catalog.modules, catalog.notebooks)
    folder = Path(destination) / "notebooks"
    written = []
    for path in build_release(root, folder):
        slug = path.parent.name
        nb = publish_cells(nbformat.read(path, as_version=4), catalog, slug, wheel_name=wheel_name(root))
        path.write_text(notebook_text(nb), encoding="utf-8")
        written.append(path)
    return written


def _mkdocs(root: Path, site_dir: Path, env: dict) -> None:
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
                            cwd=root, env=full_env, capture_output=True, text=True)
    if result.returncode != 0:
        # Les avertissements qui ont arrêté la construction, pas les centaines de lignes INFO qui les suivent.
        problems = [line for line in result.stderr.splitlines() if not line.startswith("INFO")]
        raise CourseError("mkdocs build --strict a échoué :\n" + "\n".join(problems)[-4000:])


def _solutions_for_site(root: Path, folder: Path) -> Path:
    """Les solutions exécutées (corrigés) : celles de ``build/executed`` si elles existent, sinon exécutées ici."""
    from .execute import execute_solutions

    catalog = load_catalog(root)
    executed = Path(root) / "build" / "executed"
    missing = [slug for slug in catalog.slugs if not (executed / f"{slug}.ipynb").is_file()]
    if missing:
        execute_solutions(root, executed, smoke=False, only=missing)
    target = Path(folder) / "corriges"
    target.mkdir(parents=True, exist_ok=True)
    for slug in catalog.slugs:
        shutil.copy2(executed / f"{slug}.ipynb", target / f"{slug}.ipynb")
    return target


def build_site(root: Path, site_dir: Path, *, notebooks_dir: Path | None = None, solutions: bool = False) -> Path:
    """Construit le site (``mkdocs build --strict``) ; ``notebooks_dir`` contient ``notebooks/<n>/<n>.ipynb``."""
    env = {}
    if notebooks_dir is not None:
        env["LABKIT_SITE_NOTEBOOKS"] = str(notebooks_dir)
    with tempfile.TemporaryDirectory(prefix="labkit-corriges-") as tmp:
        if solutions:
            env["LABKIT_SITE_SOLUTIONS"] = str(_solutions_for_site(root, Path(tmp)))
        _mkdocs(root, site_dir, env)
    return Path(site_dir)


def build_publication(root: Path, destination: Path, *, solutions: bool = False, site_url: str | None = None) -> Path:
    """Construit la version étudiante publiable dans ``destination`` (vidé d'abord) et la vérifie.

    ``site_url`` remplace l'adresse de publication du catalogue (les tests servent la
    publication sur 127.0.0.1).
    """
    root, destination = Path(root), Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    with tempfile.TemporaryDirectory(prefix="labkit-publication-") as tmp:
        published_notebooks(root, Path(tmp), site_url=site_url)
        build_site(root, destination, notebooks_dir=Path(tmp), solutions=solutions)
    build_packages(root, destination / "paquets")
    _zip_notebooks(destination)
    (destination / ".nojekyll").write_text("", encoding="utf-8")
    (destination / "README.md").write_text(_PUBLIC_README.format(version=package_version(root)), encoding="utf-8")
    problems = check_publication(destination, root, allow_solutions=solutions)
    if problems:
        raise CourseError("La version étudiante contient ce qu'elle ne doit pas :\n  " + "\n  ".join(problems))
    return destination


def _zip_notebooks(destination: Path) -> Path:
    archive = destination / "notebooks.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted((destination / "notebooks").glob("*/*.ipynb")):
            zipped.write(path, f"notebooks/{path.parent.name}/{path.name}")
    return archive


def secret_lines(root: Path) -> set[str]:
    """Les lignes qui n'ont rien à faire dans la version étudiante : le code des solutions et des tests cachés.

    Seules les lignes assez longues pour être distinctives (30 caractères) et absentes des
    notebooks étudiants sont gardées : une ligne d'import ou un nom de variable n'est pas un secret.
    """
    import re

    import nbformat

    from .catalog import load_catalog
    from .paths import solution_path, student_path

    secrets: set[str] = set()
    public: set[str] = set()
    for slug in load_catalog(root).slugs:
        for cell in nbformat.read(student_path(root, slug), as_version=4).cells:
            public.update(line.strip() for line in cell.source.splitlines())
        for cell in nbformat.read(solution_path(root, slug), as_version=4).cells:
            blocks = re.findall(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", cell.source, flags=re.S)
            for _, block in blocks:
                secrets.update(line.strip() for line in block.splitlines())
    # Une ligne de solution identique à une ligne de labkit (un idiome courant) n'est pas un secret.
    library = {line.strip() for path in (Path(__file__).resolve().parents[1]).rglob("*.py")
               for line in path.read_text(encoding="utf-8").splitlines()}
    return {line for line in secrets - public - library if len(line) >= 30 and "labkit.hidden_checks" not in line}


def _published_texts(path: Path):
    """Le texte d'un fichier publié (balises HTML retirées), ou de chaque membre d'une archive."""
    import html
    import re

    payloads = list(_archive_members(path)) if path.suffix in (".whl", ".zip", ".gz") else [path.read_bytes()]
    for payload in payloads:
        text = payload.decode("utf-8", errors="ignore")
        if path.suffix == ".html":
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        elif path.suffix == ".ipynb":
            import json

            text += "\n" + "\n".join("".join(cell.get("source", "")) for cell in json.loads(text).get("cells", []))
        yield text


def check_publication(folder: Path, root: Path | None = None, *, allow_solutions: bool = False) -> list[str]:
    """Ce qui ne doit pas être publié : un notebook source ou qui porte un marqueur nbgrader, un fichier du dépôt
    des enseignants, et nulle part (pages, notebooks, paquets) une ligne de solution ou de test caché (comparée
    ligne à ligne : une ligne courte ou commune à la version étudiante n'est pas un secret, voir :func:`secret_lines`)."""
    from .paths import repo_root

    folder = Path(folder)
    secrets = secret_lines(Path(root) if root is not None else repo_root())
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if allow_solutions and relative.startswith("corriges/"):
            continue
        if relative.startswith("solutions/") or relative.endswith("course.toml") or "mistakes" in relative:
            problems.append(f"{relative} : un fichier du dépôt des enseignants")
            continue
        for text in _published_texts(path):
            if path.suffix == ".ipynb" or relative.startswith("notebooks/"):
                found = [mark for mark in FORBIDDEN_MARKS if mark in text]
                if found:
                    problems.append(f"{relative} : contient {found}")
                    break
            leaked = sorted(secrets & {line.strip() for line in text.splitlines()})
            if leaked:
                problems.append(f"{relative} : contient du code de solution ou de test caché ({leaked[0][:60]!r}…)")
                break
    return problems


def _archive_members(path: Path):
    if path.name.endswith(".tar.gz"):
        import tarfile

        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    yield tar.extractfile(member).read()
    elif path.suffix == ".gz":
        import gzip

        yield gzip.decompress(path.read_bytes())
    else:
        with zipfile.ZipFile(path) as zipped:
            for name in zipped.namelist():
                yield zipped.read(name)


_PUBLIC_README = """# Améliorer les modèles de Deep Learning — version étudiante

Ce dépôt est la **version étudiante** du cours : le site (ouvrez `index.html`), les notebooks à
compléter (`notebooks/`, ou tous d'un coup dans `notebooks.zip`) et le paquet `labkit` {version}
(`paquets/`). Il ne contient aucune solution.

Chaque notebook s'ouvre dans Colab depuis le site ; sa première cellule installe `labkit`.
En local : `pip install "paquets/ameliorer_dl-{version}-py3-none-any.whl[torch,optimize,tf,tracking]"`,
puis `jupyter lab notebooks/`.
"""


def hosts_in(text: str) -> set[str]:
    """Les noms d'hôte des adresses ``http(s)://`` d'un texte (pour vérifier qu'aucun hôte n'est écrit en dur)."""
    return {m.lower() for m in re.findall(r"https?://([A-Za-z0-9.-]+)", text)}
