"""Tableaux Markdown sans dépendance à ``tabulate`` (rapports de diagnostic, tableaux du site)."""

from __future__ import annotations


def _cell(text) -> str:
    # Un message comme « ["<image en base64>"] » serait lu comme une balise HTML par Markdown,
    # et une barre verticale couperait la cellule.
    return str(text).replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def markdown_table(table, floatfmt: str) -> str:
    """Tableau Markdown sans dépendance à ``tabulate`` ; le texte des cellules est échappé (``<``, ``>``, ``|``).

    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"message": ["<image> | texte"]}, index=pd.Index(["a"], name="cas")), ".3g"))
    | cas | message |
    |---|---|
    | a | &lt;image&gt; \\| texte |
    """
    def is_whole(column) -> bool:
        values = [v for v in table[column].tolist() if isinstance(v, (int, float)) and v == v]
        return bool(values) and all(float(v).is_integer() for v in values)

    whole = {column: is_whole(column) for column in table.columns}

    def fmt(value, column):
        if isinstance(value, float) and value != value:
            return "—"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(int(value)) if whole[column] else format(value, floatfmt)
        return _cell(value)

    header = [_cell(table.index.name or "")] + [_cell(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        lines.append("| " + " | ".join([_cell(index)] + [fmt(v, c) for c, v in zip(table.columns, row.tolist())]) + " |")
    return "\n".join(lines)
