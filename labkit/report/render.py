"""Rendu des rapports : Markdown, HTML autonome et PDF, à partir des mêmes données.

Les gabarits (``labkit/report/templates``) sont en français : Jinja2 pour le Markdown
et le HTML, Typst pour le PDF. Ils ne reçoivent que des textes déjà mis en forme
(virgule décimale, espaces insécables) : :func:`build_context` les prépare à partir
des mesures, si bien qu'un gabarit, même remplacé par l'enseignant
(``render_report(..., template=Path("mon_gabarit.md.j2"))``), ne peut afficher que des chiffres mesurés.

- **Markdown** : la figure avant/après est écrite à côté du fichier (``<nom>_figure.png``) ;
- **HTML** : un seul fichier, CSS en ligne, figure en ``data:`` base64, aucune requête vers un autre hôte ;
- **PDF** : compilé hors ligne par le paquet ``typst`` avec ses polices intégrées (Libertinus Serif),
  embarquées dans le fichier. Un gabarit Typst lit les données dans ``rapport.json``
  et la figure dans ``figure.png``, posés à côté de lui.

Jinja2, Matplotlib et Typst ne sont importés qu'au moment du rendu.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import tempfile
import textwrap
from datetime import datetime
from pathlib import Path

from .model import (
    PROPORTION,
    Comparison,
    ImprovementReport,
    LabkitError,
    OptimizationSheet,
    format_number,
    french_typography,
)

__all__ = ["FORMATS", "TEMPLATES_DIR", "before_after_figure", "build_context", "pdf_page_count", "render_report"]

TEMPLATES_DIR = Path(__file__).with_name("templates")
FORMATS = {"md": ".md.j2", "html": ".html.j2", "pdf": ".typ"}
_BASENAMES = {ImprovementReport: "rapport_amelioration", OptimizationSheet: "fiche_optimisation"}
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre")
_COLORS = {"avant": "#9aa5b1", True: "#2e7d32", False: "#c62828", None: "#607d8b"}


def _french_date(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {_MONTHS[moment.month - 1]} {moment.year}"


def _check_report(report) -> str:
    for kind, basename in _BASENAMES.items():
        if isinstance(report, kind):
            return basename
    raise LabkitError(
        f"`report` doit être un ImprovementReport ou une OptimizationSheet de labkit.report, reçu {type(report).__name__}."
    )


# --------------------------------------------------------------------------- données des gabarits


def build_context(report, *, figure: str | None = None) -> dict:
    """Les données d'un gabarit : uniquement des textes français déjà mis en forme, tirés des mesures.

    Chaque mesure reçoit un numéro (``ref``) qui renvoie à la table de provenance.
    ``figure`` est ce que le gabarit met dans la source de l'image (chemin ou URI ``data:``).
    """
    kind = _check_report(report)
    refs = {m: i for i, m in enumerate(report.measurements, start=1)}

    def measurement(m):
        return {"ref": str(refs[m]), "quantity": m.quantity, "value": m.format()}

    def comparison(c: Comparison):
        return {
            "label": c.label,
            "quantity": c.quantity,
            "before": c.before.format(),
            "after": c.after.format(),
            "change": c.change_text,
            "factor": c.factor_text or "—",
            "verdict": c.verdict,
            "verdict_class": {True: "amelioration", False: "regression", None: "inchange"}[c.improved],
            "significance": c.significance_text,
            "summary": c.summary(),
            "refs": f"[{refs[c.before]}] → [{refs[c.after]}]",
        }

    context = {
        "kind": kind,
        "title": report.title,
        "author": report.author,
        "date": _french_date(report.created_at),
        "created_at": report.created_at,
        "warnings": list(report.warnings),
        "figure": figure or "",
        "measurements": [{"ref": str(n), **{k: v for k, v in _provenance_keys(m).items()}} for m, n in refs.items()],
        "environment": [{"name": k, "value": str(v)} for k, v in report.environment.items()],
    }
    if isinstance(report, ImprovementReport):
        context.update(
            problems=[{"description": p.description, "advice": p.advice, "evidence": [measurement(m) for m in p.evidence]}
                      for p in report.problems],
            solutions=[{"name": s.name, "description": s.description, "impact": [comparison(c) for c in s.impact]}
                       for s in report.solutions],
            rows=[comparison(c) for c in report.comparison_rows],
            conclusion=report.conclusion,
            recommendations=list(report.recommendations),
        )
    else:
        context.update(
            techniques=[{
                "name": t.name, "what_changed": t.what_changed, "when_to_use": t.when_to_use, "pitfalls": list(t.pitfalls),
                "size": comparison(t.size), "latency": [comparison(c) for c in t.latency], "accuracy": comparison(t.accuracy),
                "comparisons": [comparison(c) for c in t.comparisons],
            } for t in report.techniques],
            notes=list(report.notes),
        )
    return context


def _provenance_keys(m) -> dict:
    # Clés ASCII (Typst lit ces données comme un dictionnaire JSON), textes français.
    names = {"grandeur": "quantity", "valeur": "value", "données": "data", "moteur": "engine", "fils": "threads",
             "lot": "batch", "dispersion": "spread", "date": "date", "machine": "machine", "source": "source"}
    return {names[k]: v for k, v in m.provenance().items()}


# --------------------------------------------------------------------------- figure


def _plotted(m) -> float:
    return m.value * 100 if m.unit == PROPORTION else m.value


def _axis_unit(c: Comparison) -> str:
    return "%" if c.unit == PROPORTION else c.unit


def before_after_figure(report):
    """La figure avant/après (``matplotlib.figure.Figure``, sans pyplot ni changement de backend).

    Rapport d'amélioration : un panneau par ligne du tableau avant/après. Fiche
    d'optimisation : taille, première latence et précision, une paire de barres par technique.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    kind = _check_report(report)
    french = FuncFormatter(lambda value, _: format_number(value, None if float(value).is_integer() else 2))
    if kind == "rapport_amelioration":
        panels = [(c.label, [("", c)]) for c in report.comparison_rows]
    else:
        panels = [
            ("taille", [(t.name, t.size) for t in report.techniques]),
            ("latence", [(t.name, t.latency[0]) for t in report.techniques]),
            ("précision", [(t.name, t.accuracy) for t in report.techniques]),
        ]
    columns = min(4 if kind == "rapport_amelioration" else 3, len(panels))
    rows = -(-len(panels) // columns)
    groups = max(len(p[1]) for p in panels)
    width_in = max(2.6 * columns, 1.4 * groups * columns + 1.5)
    fig = Figure(figsize=(min(width_in, 12), 2.9 * rows + 0.4), layout="constrained")
    seen = set()
    for index, (title, pairs) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, index + 1)
        width = 0.38
        for g, (name, c) in enumerate(pairs):
            seen.add(c.improved)
            before = ax.bar(g - width / 2, _plotted(c.before), width, color=_COLORS["avant"])
            after = ax.bar(g + width / 2, _plotted(c.after), width, color=_COLORS[c.improved])
            ax.bar_label(before, labels=[c.before.format()], fontsize=7, padding=2)
            ax.bar_label(after, labels=[c.after.format()], fontsize=7, padding=2)
        ax.set_xticks(range(len(pairs)))
        ax.set_xticklabels([textwrap.fill(name, 16) or "avant → après" for name, _ in pairs], fontsize=7)
        unit = _axis_unit(pairs[0][1])
        title = f"{title} ({unit})" if unit and (kind == "fiche_optimisation" or unit not in title) else title
        ax.set_title(textwrap.fill(title, 30), fontsize=8)
        ax.yaxis.set_major_formatter(french)
        ax.tick_params(axis="y", labelsize=7)
        ax.margins(y=0.18)
        ax.grid(axis="y", alpha=0.3)
    from matplotlib.patches import Patch

    labels = {True: "après : amélioration", False: "après : régression", None: "après : inchangé"}
    handles = [Patch(color=_COLORS["avant"], label="avant")] + [
        Patch(color=_COLORS[k], label=labels[k]) for k in (True, False, None) if k in seen
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), fontsize=7, frameon=False)
    return fig


def _figure_png(report) -> bytes:
    fig = before_after_figure(report)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- rendu


def _jinja(search_path: list[Path], autoescape: bool):
    try:
        import jinja2
        import markupsafe
    except ImportError:
        raise LabkitError("Jinja2 n'est pas installé : pip install jinja2.") from None

    def typo(value):
        text = french_typography(str(value))
        return markupsafe.Markup(text) if isinstance(value, markupsafe.Markup) else text

    def cell(value):  # une case de tableau Markdown : ni barre verticale, ni retour à la ligne
        return str(value).replace("|", "\\|").replace("\n", " ")

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,  # une donnée absente est une erreur, jamais une case vide
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(typo=typo, cell=cell)
    return environment


def _template_file(report, fmt: str, template) -> Path:
    if template is None:
        return TEMPLATES_DIR / f"{_BASENAMES[type(report)]}{FORMATS[fmt]}"
    if not isinstance(template, (str, Path)):
        raise LabkitError(f"`template` doit être un chemin de fichier (Path) ou None, reçu {type(template).__name__}.")
    template = Path(template)
    if not template.is_file():
        raise LabkitError(f"`template` : gabarit introuvable : {template}")
    return template


def render_report(report, fmt: str, path, template=None) -> Path:
    """Écrit ``report`` au format ``fmt`` (``"md"``, ``"html"`` ou ``"pdf"``) dans ``path`` et renvoie ce chemin.

    ``template`` remplace le gabarit fourni : un fichier Jinja2 pour ``md`` et ``html``
    (il reçoit les données de :func:`build_context` et peut étendre les gabarits du
    paquet), un fichier Typst pour ``pdf`` (il lit ``rapport.json`` et ``figure.png``).
    Pour le PDF, :func:`pdf_page_count` donne le nombre de pages.
    """
    _check_report(report)
    if fmt not in FORMATS:
        raise LabkitError(f"`fmt` doit valoir l'une de ces valeurs : {', '.join(repr(f) for f in FORMATS)} ; reçu {fmt!r}.")
    if not isinstance(path, (str, Path)):
        raise LabkitError(f"`path` doit être un chemin de fichier, reçu {type(path).__name__}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = _template_file(report, fmt, template)
    png = _figure_png(report)
    if fmt == "pdf":
        path.write_bytes(_render_pdf(report, source, png))
        return path
    if fmt == "html":
        figure = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    else:
        figure_path = path.with_name(f"{path.stem}_figure.png")
        figure_path.write_bytes(png)
        figure = figure_path.name
    environment = _jinja([source.parent, TEMPLATES_DIR], autoescape=fmt == "html")
    import jinja2

    try:
        text = environment.get_template(source.name).render(**build_context(report, figure=figure))
    except jinja2.TemplateError as error:  # donnée absente (StrictUndefined), syntaxe : le gabarit est en cause
        raise LabkitError(f"Le gabarit {source.name} ne peut pas être rendu : {error}") from None
    path.write_text(text, encoding="utf-8")
    return path


def _render_pdf(report, source: Path, png: bytes) -> bytes:
    try:
        import typst
    except ImportError:
        raise LabkitError("Le paquet typst n'est pas installé : pip install typst (il compile le PDF hors ligne).") from None
    folder = Path(tempfile.mkdtemp(prefix="labkit-rapport-"))
    try:
        main = folder / "main.typ"
        shutil.copyfile(source, main)
        (folder / "figure.png").write_bytes(png)
        context = _typeset(build_context(report, figure="figure.png"))
        (folder / "rapport.json").write_text(json.dumps(context, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            # Polices intégrées au paquet typst seulement : même rendu partout, rien à télécharger.
            return typst.compile(str(main), root=str(folder), ignore_system_fonts=True)
        except Exception as error:  # TypstError : message de Typst en anglais, on le garde en détail
            raise LabkitError(f"Typst n'a pas pu compiler le gabarit {source.name} : {str(error).strip()[:800]}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _typeset(value):
    """La typographie française sur tous les textes des données (le Markdown et le HTML l'appliquent par filtre)."""
    if isinstance(value, str):
        return french_typography(value)
    if isinstance(value, dict):
        return {k: _typeset(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typeset(v) for v in value]
    return value


def pdf_page_count(pdf) -> int:
    """Nombre de pages d'un PDF (chemin ou octets), compté dans ses objets ``/Type /Page``.

    >>> pdf_page_count(b"%PDF-1.7 << /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page >>")
    2
    """
    if isinstance(pdf, (str, Path)):
        pdf = Path(pdf).read_bytes()
    if not isinstance(pdf, (bytes, bytearray)) or not pdf.startswith(b"%PDF"):
        raise LabkitError("`pdf` doit être un fichier PDF (chemin ou octets commençant par %PDF).")
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
    if pages == 0:  # objets compressés : le compte de l'arbre des pages
        counts = [int(n) for n in re.findall(rb"/Count\s+(\d+)", pdf)]
        pages = max(counts, default=0)
    return pages
