"""Tableaux Markdown sans dépendance à ``tabulate`` (rapports de diagnostic, tableaux du site)."""

from __future__ import annotations


def markdown_table(table, floatfmt: str) -> str:
    """Tableau Markdown sans dépendance à ``tabulate``."""
    def is_whole(column) -> bool:
        values = [v for v in table[column].tolist() if isinstance(v, (int, float)) and v == v]
        return bool(values) and all(float(v).is_integer() for v in values)

    whole = {column: is_whole(column) for column in table.columns}

    def fmt(value, column):
        if isinstance(value, float) and value != value:
            return "—"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(int(value)) if whole[column] else format(value, floatfmt)
        return str(value)

    header = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        lines.append("| " + " | ".join([str(index)] + [fmt(v, c) for c, v in zip(table.columns, row.tolist())]) + " |")
    return "\n".join(lines)
