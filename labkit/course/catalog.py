"""Le catalogue du cours (``course.toml``) : la seule liste des notebooks et l'adresse de publication.

Tout ce qui énumère les notebooks le lit : la génération de la version étudiante,
l'exécution, la correction, la navigation et la page d'accueil du site, la cellule
d'installation, les tests. Ajouter un notebook, c'est y ajouter une entrée
(``labkit-course new`` le fait), écrire sa solution, sa leçon et ses erreurs classiques.

>>> catalog = load_catalog()
>>> catalog.notebooks[0].slug, catalog.notebooks[0].number
('01_surapprentissage', '01')
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import CourseError

CATALOG_FILE = "course.toml"
_SLUG = re.compile(r"^(\d{2})_[a-z0-9_]+$")
#: Extras de ``ameliorer-dl`` qu'une cellule d'installation peut demander.
STUDENT_EXTRAS = ("torch", "tf", "optimize", "tracking", "serve", "report", "config")
FRAMEWORKS = ("torch", "keras")


@dataclass(frozen=True)
class Module:
    """Un module du cours : numéro, titre, page d'introduction."""

    number: int
    title: str
    page: str


@dataclass(frozen=True)
class Notebook:
    """Une entrée du catalogue : un notebook noté, sa leçon, ce que son installation demande."""

    slug: str
    title: str
    module: int
    frameworks: tuple[str, ...]
    extras: tuple[str, ...]
    lesson: str
    duration: str
    full_seconds: int | None = None
    smoke_seconds: int | None = None

    @property
    def number(self) -> str:
        """Le numéro à deux chiffres (``"01"``), tiré du nom."""
        return self.slug[:2]

    @property
    def solution(self) -> str:
        """Chemin de la solution, relatif à la racine du dépôt."""
        return f"solutions/{self.slug}/{self.slug}.ipynb"

    @property
    def student(self) -> str:
        """Chemin de la version étudiante, relatif à la racine du dépôt."""
        return f"notebooks/{self.slug}/{self.slug}.ipynb"

    @property
    def mistakes(self) -> str:
        """Le fichier des erreurs classiques (tests de correction), relatif à la racine."""
        return f"tests/mistakes/{self.slug}.py"


@dataclass(frozen=True)
class Publication:
    """Où la version étudiante est publiée : le seul endroit du dépôt qui nomme un hôte.

    ``repository`` est le dépôt GitHub public (``propriétaire/nom``) qui reçoit la
    version étudiante ; Colab y ouvre les notebooks. ``site_url`` est l'adresse du
    site publié (GitHub Pages du même dépôt par défaut) ; la roue de ``labkit`` y est
    servie sous ``paquets/``.
    """

    repository: str
    branch: str
    site_url: str
    colab_url: str

    def colab_link(self, path: str) -> str:
        """Le lien « Ouvrir dans Colab » d'un notebook publié (``path`` relatif à la publication)."""
        return self.colab_url.format(repository=self.repository, branch=self.branch, path=path)

    def wheel_url(self, filename: str) -> str:
        """L'adresse publiée d'un fichier de ``paquets/`` (roue ou archive source de labkit)."""
        return self.site_url.rstrip("/") + "/paquets/" + filename

    def with_site_url(self, site_url: str) -> "Publication":
        """La même publication servie ailleurs (les tests la servent sur 127.0.0.1)."""
        return Publication(self.repository, self.branch, site_url, self.colab_url)


@dataclass(frozen=True)
class Catalog:
    """Le contenu de ``course.toml``."""

    root: Path
    publication: Publication
    modules: tuple[Module, ...]
    notebooks: tuple[Notebook, ...] = field(default_factory=tuple)

    @cached_property
    def by_slug(self) -> dict[str, Notebook]:
        return {nb.slug: nb for nb in self.notebooks}

    def get(self, slug: str) -> Notebook:
        """L'entrée ``slug`` ; erreur française qui liste les notebooks connus sinon."""
        if slug not in self.by_slug:
            raise CourseError(f"Notebook inconnu : {slug!r} ; notebooks du catalogue : {', '.join(self.by_slug)}.")
        return self.by_slug[slug]

    def module(self, number: int) -> Module:
        return next(m for m in self.modules if m.number == number)

    @property
    def slugs(self) -> list[str]:
        return [nb.slug for nb in self.notebooks]


def _require(table: dict, key: str, kind, where: str):
    if key not in table:
        raise CourseError(f"{CATALOG_FILE} : {where} : le champ « {key} » manque.")
    value = table[key]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " ou ".join(k.__name__ for k in kind)
        raise CourseError(f"{CATALOG_FILE} : {where} : « {key} » doit être de type {expected}, reçu {value!r}.")
    return value


def _notebook(entry: dict, modules: set[int]) -> Notebook:
    slug = _require(entry, "slug", str, "une entrée [[notebooks]]")
    where = f"notebook {slug!r}"
    unknown = set(entry) - {"slug", "title", "module", "frameworks", "extras", "lesson", "duration", "full_seconds", "smoke_seconds"}
    if unknown:
        raise CourseError(f"{CATALOG_FILE} : {where} : champ(s) inconnu(s) {sorted(unknown)}.")
    if not _SLUG.match(slug):
        raise CourseError(f"{CATALOG_FILE} : {where} : le nom doit être « NN_mots_en_minuscules », par exemple 09_industrialiser.")
    module = _require(entry, "module", int, where)
    if module not in modules:
        raise CourseError(f"{CATALOG_FILE} : {where} : module {module} inconnu ; modules : {sorted(modules)}.")
    frameworks = tuple(_require(entry, "frameworks", list, where))
    extras = tuple(_require(entry, "extras", list, where))
    for name, values, allowed in (("frameworks", frameworks, FRAMEWORKS), ("extras", extras, STUDENT_EXTRAS)):
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise CourseError(f"{CATALOG_FILE} : {where} : « {name} » accepte {', '.join(allowed)} ; reçu {wrong}.")
    return Notebook(
        slug=slug,
        title=_require(entry, "title", str, where),
        module=module,
        frameworks=frameworks,
        extras=extras,
        lesson=_require(entry, "lesson", str, where),
        duration=_require(entry, "duration", str, where),
        full_seconds=entry.get("full_seconds"),
        smoke_seconds=entry.get("smoke_seconds"),
    )


def parse_catalog(text: str, root: Path) -> Catalog:
    """Lit le texte de ``course.toml`` et le valide (erreurs en français, qui nomment le champ)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CourseError(f"{CATALOG_FILE} n'est pas un fichier TOML valide : {error}") from None
    publication = _require(data, "publication", dict, "la section [publication]")
    pub = Publication(
        repository=_require(publication, "repository", str, "[publication]"),
        branch=_require(publication, "branch", str, "[publication]"),
        site_url=_require(publication, "site_url", str, "[publication]"),
        colab_url=_require(publication, "colab_url", str, "[publication]"),
    )
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", pub.repository):
        raise CourseError(f"{CATALOG_FILE} : [publication] repository doit valoir « propriétaire/nom », reçu {pub.repository!r}.")
    modules = tuple(
        Module(number=_require(m, "number", int, "[[modules]]"), title=_require(m, "title", str, "[[modules]]"),
               page=_require(m, "page", str, "[[modules]]"))
        for m in _require(data, "modules", list, "les [[modules]]")
    )
    notebooks = tuple(_notebook(entry, {m.number for m in modules}) for entry in _require(data, "notebooks", list, "les [[notebooks]]"))
    seen = set()
    for nb in notebooks:
        if nb.number in seen:
            raise CourseError(f"{CATALOG_FILE} : deux notebooks portent le numéro {nb.number}.")
        seen.add(nb.number)
    if [nb.slug for nb in notebooks] != sorted(nb.slug for nb in notebooks):
        raise CourseError(f"{CATALOG_FILE} : rangez les [[notebooks]] dans l'ordre de leurs numéros.")
    return Catalog(root=root, publication=pub, modules=modules, notebooks=notebooks)


def load_catalog(root: Path | None = None) -> Catalog:
    """Le catalogue du dépôt du cours (``root`` : sa racine ; trouvée depuis le dossier courant sinon)."""
    from .paths import repo_root

    root = Path(root) if root is not None else repo_root()
    path = root / CATALOG_FILE
    if not path.is_file():
        raise CourseError(f"{path} introuvable : le catalogue du cours est à la racine du dépôt.")
    return parse_catalog(path.read_text(encoding="utf-8"), root)


def record_durations(root: Path, durations: dict[str, float], *, smoke: bool) -> None:
    """Écrit dans ``course.toml`` les durées mesurées (``full_seconds`` ou ``smoke_seconds``) des notebooks exécutés."""
    path = Path(root) / CATALOG_FILE
    key = "smoke_seconds" if smoke else "full_seconds"
    blocks = path.read_text(encoding="utf-8").split("[[notebooks]]")
    for i, block in enumerate(blocks[1:], start=1):
        slug = re.search(r'^slug = "([^"]+)"', block, re.M).group(1)
        if slug not in durations:
            continue
        line = f"{key} = {round(durations[slug])}"
        if re.search(rf"^{key} = \d+$", block, re.M):
            block = re.sub(rf"^{key} = \d+$", line, block, flags=re.M)
        else:
            block = re.sub(r'^(duration = "[^"]*")$', rf"\1\n{line}", block, count=1, flags=re.M)
        blocks[i] = block
    path.write_text("[[notebooks]]".join(blocks), encoding="utf-8")
    parse_catalog(path.read_text(encoding="utf-8"), Path(root))  # le fichier reste valide
