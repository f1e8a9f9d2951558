"""Forme commune des rapports de diagnostic : un verdict, ses preuves et quoi faire.

Un rapport s'affiche proprement dans un notebook (Markdown), se lit en texte
(``print``) et s'interroge dans un test : ``report.flagged`` dit si le problème
est détecté, ``report.values`` donne les chiffres qui fondent le verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._tables import markdown_table


@dataclass
class Report:
    """Résultat d'un diagnostic.

    ``title`` nomme le diagnostic, ``verdict`` le résume, ``flagged`` vaut ``True``
    quand un problème est détecté, ``evidence`` liste les observations chiffrées,
    ``advice`` dit quoi faire, ``table`` (``pandas.DataFrame``, facultatif) donne le
    détail et ``values`` les chiffres clés (pour les tests et les exercices).
    """

    title: str
    verdict: str
    flagged: bool
    evidence: list[str] = field(default_factory=list)
    advice: str = ""
    table: object = None
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        mark = "⚠️ " if self.flagged else "✅ "
        lines = [f"{mark}{self.title} : {self.verdict}"] + [f"  • {e}" for e in self.evidence]
        if self.advice:
            lines.append(f"  → {self.advice}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(verdict={self.verdict!r}, flagged={self.flagged})"

    def _repr_markdown_(self) -> str:
        mark = "⚠️" if self.flagged else "✅"
        parts = [f"**{mark} {self.title} : {self.verdict}**", "\n".join(f"- {e}" for e in self.evidence)]
        if self.advice:
            parts.append(f"*À faire :* {self.advice}")
        if self.table is not None and len(self.table):
            parts.append(markdown_table(self.table, ".3g"))
        return "\n\n".join(p for p in parts if p)
