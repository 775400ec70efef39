"""A shared base for the statistics' result objects: text and HTML tables.

Every result object of :mod:`hpstudy.stats` is a frozen attrs record with
fields; its ``summary()`` and ``_repr_html_()`` render the same list of
:class:`Table` built by the record's ``_tables()`` method, statsmodels style.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from numbers import Integral, Real

import attrs
import numpy as np

__all__ = ["ResultBase", "Table", "fmt"]


def fmt(value: object, digits: int = 4) -> str:
    """Format a number with ``digits`` significant digits (other values with ``str``)."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    return str(value)


def interval(low: float, high: float, digits: int = 4) -> str:
    """Format an interval as ``[low, high]``."""
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


@attrs.frozen(kw_only=True)
class Table:
    """A titled table of strings with optional notes below it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def _render_text(table: Table) -> str:
    cells = [table.columns, *table.rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(table.columns))]
    line = "  ".join("-" * w for w in widths)
    out = [table.title, "=" * max(len(table.title), len(line))]
    if table.columns and table.rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(table.columns, widths, strict=True)))
        out.append(line)
        for row in table.rows:
            out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    out.extend(table.notes)
    return "\n".join(s.rstrip() for s in out)


def _render_html(table: Table) -> str:
    esc = html.escape
    parts = [f"<table><caption>{esc(table.title)}</caption>"]
    if table.columns and table.rows:
        parts.append("<tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in table.columns) + "</tr>")
        for row in table.rows:
            parts.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
    parts.append("</table>")
    parts.extend(f"<p>{esc(n)}</p>" for n in table.notes)
    return "".join(parts)


class ResultBase:
    """Mixin giving ``summary()`` and ``_repr_html_()`` from ``_tables()``."""

    __slots__ = ()

    def _tables(self) -> Sequence[Table]:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def summary(self) -> str:
        """A plain-text report of the result, one table per section."""
        return "\n\n".join(_render_text(t) for t in self._tables())

    def _repr_html_(self) -> str:
        return "<div>" + "".join(_render_html(t) for t in self._tables()) + "</div>"

    def __str__(self) -> str:
        return self.summary()
