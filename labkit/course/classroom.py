"""La classe : liste des étudiants, collecte des rendus (dossier ou archive Moodle), export des notes.

Tout passe par le carnet de notes de nbgrader (``grading/gradebook.db``) et les dossiers de
:mod:`labkit.course.grading` : rien n'est écrasé (un rendu remplacé est archivé, un rendu
qu'aucun étudiant de la liste ne réclame est mis de côté dans ``grading/unmatched/``).

Liste des étudiants : un CSV avec les colonnes ``identifiant, nom, prénom, courriel``
(séparateur « , » ou « ; »). Archive Moodle : le fichier « Télécharger tous les travaux
remis » d'un devoir (un dossier ``Prénom Nom_12345_assignsubmission_file_`` par participant).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import CourseError
from . import grading

ROSTER_COLUMNS = ("identifiant", "nom", "prénom", "courriel")
_MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assign(?:submission|feedback)_\w+?_?$")


@dataclass(frozen=True)
class Student:
    """Une ligne de la liste des étudiants."""

    identifier: str
    last_name: str
    first_name: str
    email: str


def read_roster(path: Path) -> list[Student]:
    """Lit la liste des étudiants (CSV) ; erreur française qui nomme la colonne ou la ligne fautive."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"Liste des étudiants introuvable : {path}.")
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;") if text.strip() else csv.excel
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    header = {(h or "").strip().lower() for h in (rows[0].keys() if rows else [])}
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise CourseError(f"{path} : colonne(s) manquante(s) {missing} ; attendu : {', '.join(ROSTER_COLUMNS)}.")
    students, seen = [], set()
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        identifier = grading.validate_student_id(row["identifiant"]) if row["identifiant"] else None
        if identifier is None:
            raise CourseError(f"{path}, ligne {number} : identifiant vide.")
        if identifier in seen:
            raise CourseError(f"{path}, ligne {number} : l'identifiant {identifier!r} apparaît deux fois.")
        seen.add(identifier)
        students.append(Student(identifier, row["nom"], row["prénom"], row["courriel"]))
    return students


def import_roster(course_root: Path, path: Path) -> list[Student]:
    """Enregistre (ou met à jour) les étudiants de la liste dans le carnet de notes."""
    from nbgrader.api import Gradebook

    students = read_roster(path)
    with Gradebook(_db_url(course_root), grading.COURSE_ID) as gradebook:
        for s in students:
            gradebook.update_or_create_student(s.identifier, first_name=s.first_name, last_name=s.last_name, email=s.email)
    return students


def roster(course_root: Path) -> list[Student]:
    """Les étudiants du carnet de notes."""
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(course_root), grading.COURSE_ID) as gradebook:
        return [Student(s.id, s.last_name or "", s.first_name or "", s.email or "") for s in gradebook.students]


def _db_url(course_root: Path) -> str:
    folder = Path(course_root) / grading.GRADING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'gradebook.db'}"


def _plain(text: str) -> str:
    """Nom comparable : sans accents, sans casse, espaces simples."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("-", " ").split())


@dataclass
class Collected:
    """Ce qu'une collecte a fait."""

    submitted: dict[str, Path] = field(default_factory=dict)
    late: dict[str, float] = field(default_factory=dict)  # heures de retard
    unmatched: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def set_due_date(course_root: Path, slug: str, due: datetime) -> None:
    """Fixe la date limite du devoir dans le carnet (nbgrader calcule alors les retards)."""
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(course_root), grading.COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(slug, duedate=due)


def _pick_notebook(names: list[str], slug: str) -> str | None:
    notebooks = [n for n in names if n.endswith(".ipynb") and "/." not in n and "checkpoint" not in n]
    exact = [n for n in notebooks if Path(n).name == f"{slug}.ipynb"]
    if exact:
        return exact[0]
    return notebooks[0] if len(notebooks) == 1 else None


def _hours_late(when: datetime, due: datetime | None) -> float:
    return max(0.0, (when - due).total_seconds() / 3600) if due else 0.0


def collect_folder(course_root: Path, slug: str, folder: Path, *, due: datetime | None = None) -> Collected:
    """Dépose les rendus d'un dossier ``<étudiant>/<notebook>.ipynb`` (date : celle du fichier)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"Dossier de rendus introuvable : {folder}.")
    if due:
        set_due_date(course_root, slug, due)
    result = Collected()
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        chosen = _pick_notebook([str(p.relative_to(student_dir)) for p in student_dir.rglob("*.ipynb")], slug)
        if chosen is None:
            result.empty.append(student_dir.name)
            continue
        notebook = student_dir / chosen
        when = datetime.fromtimestamp(notebook.stat().st_mtime)
        result.submitted[student_dir.name] = grading.submit(course_root, slug, student_dir.name, notebook, timestamp=when)
        if _hours_late(when, due):
            result.late[student_dir.name] = _hours_late(when, due)
    return result


def collect_moodle(course_root: Path, slug: str, archive: Path, *, due: datetime | None = None) -> Collected:
    """Dépose les rendus d'une archive Moodle « Télécharger tous les travaux remis ».

    Chaque dossier de participant est rapproché de la liste des étudiants par le nom
    (« Prénom Nom » ou « Nom Prénom », sans accents ni casse). Un participant qu'aucun
    étudiant ne réclame est extrait dans ``grading/unmatched/`` et signalé. La date de
    dépôt est celle que l'archive donne au fichier.
    """
    archive = Path(archive)
    if not zipfile.is_zipfile(archive):
        raise CourseError(f"{archive} n'est pas une archive ZIP (export « Télécharger tous les travaux remis » de Moodle).")
    people = roster(course_root)
    if not people:
        raise CourseError("La liste des étudiants est vide : importez-la d'abord (labkit-course roster <fichier.csv>).")
    by_name = {}
    for s in people:
        by_name[_plain(f"{s.first_name} {s.last_name}")] = s.identifier
        by_name[_plain(f"{s.last_name} {s.first_name}")] = s.identifier
    if due:
        set_due_date(course_root, slug, due)
    result = Collected()
    with zipfile.ZipFile(archive) as zipped:
        folders: dict[str, list[zipfile.ZipInfo]] = {}
        for info in zipped.infolist():
            if not info.is_dir() and "/" in info.filename:
                folders.setdefault(info.filename.split("/", 1)[0], []).append(info)
        for folder, entries in sorted(folders.items()):
            match = _MOODLE_FOLDER.match(folder)
            name = match.group("name") if match else folder
            student = by_name.get(_plain(name))
            chosen = _pick_notebook([e.filename for e in entries], slug)
            if student is None:
                target = Path(course_root) / grading.GRADING_DIR / "unmatched" / slug / folder
                for entry in entries:
                    (target / Path(entry.filename).name).parent.mkdir(parents=True, exist_ok=True)
                    (target / Path(entry.filename).name).write_bytes(zipped.read(entry))
                result.unmatched.append(name)
                continue
            if chosen is None:
                result.empty.append(student)
                continue
            info = next(e for e in entries if e.filename == chosen)
            when = datetime(*info.date_time)
            tmp = Path(course_root) / grading.GRADING_DIR / "incoming" / f"{student}.ipynb"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(zipped.read(info))
            result.submitted[student] = grading.submit(course_root, slug, student, tmp, timestamp=when)
            tmp.unlink()
            if _hours_late(when, due):
                result.late[student] = _hours_late(when, due)
    return result


def export_grades(course_root: Path, slugs: list[str]) -> list[Path]:
    """Écrit les notes dans ``grading/exports/`` : par exercice (un CSV par notebook), par notebook, et pour Moodle.

    - ``<notebook>_exercices.csv`` : identifiant, nom, prénom, courriel, points de chaque cellule
      de tests, total, maximum, retard et anomalies ;
    - ``notes.csv`` : une colonne par notebook (total) ;
    - ``moodle_<notebook>.csv`` : « Adresse de courriel » et la note, à importer dans le carnet
      de notes Moodle (Importation > Fichier CSV, identifier par l'adresse de courriel).
    """
    folder = Path(course_root) / grading.GRADING_DIR / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    people = {s.identifier: s for s in roster(course_root)}
    written = []
    totals: dict[str, dict[str, float]] = {}
    for slug in slugs:
        table = grading.summary_table(course_root, slug)
        if table.empty:
            continue
        path = folder / f"{slug}_exercices.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["identifiant", "nom", "prénom", "courriel", *table.columns])
            for student, row in table.iterrows():
                s = people.get(student, Student(student, "", "", ""))
                writer.writerow([student, s.last_name, s.first_name, s.email, *row.tolist()])
        written.append(path)
        moodle = folder / f"moodle_{slug}.csv"
        with moodle.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Adresse de courriel", slug])
            for student, row in table.iterrows():
                email = people.get(student, Student(student, "", "", "")).email
                if email:
                    writer.writerow([email, f"{row['total']:g}"])
        written.append(moodle)
        for student, row in table.iterrows():
            totals.setdefault(student, {})[slug] = row["total"]
    path = folder / "notes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["identifiant", *slugs])
        for student in sorted(totals):
            writer.writerow([student, *[f"{totals[student][s]:g}" if s in totals[student] else "" for s in slugs]])
    written.append(path)
    return written


def archive_of_moodle_layout(entries: dict[str, bytes], path: Path, when: datetime) -> Path:
    """Écrit une archive au format Moodle (pour les tests et la documentation) : ``{chemin: contenu}``."""
    with zipfile.ZipFile(path, "w") as zipped:
        for name, payload in entries.items():
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            zipped.writestr(info, payload)
    return path


def safe_clean(root: Path, targets: list[str]) -> list[Path]:
    """Efface les dossiers ``targets`` de la racine, en refusant tout ce qui contient des notes."""
    removed = []
    for name in targets:
        path = Path(root) / name
        if not path.exists():
            continue
        if path.resolve() == (Path(root) / grading.GRADING_DIR).resolve() or any(path.rglob("gradebook.db")):
            raise CourseError(f"{path} contient des notes (carnet nbgrader) : il n'est jamais effacé par le nettoyage.")
        shutil.rmtree(path)
        removed.append(path)
    return removed
