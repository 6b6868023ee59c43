"""The table every instrument returns, and the number formats its cells use.

A result object is a :class:`Table`: a list of ``rows`` (dataclasses, for
code and tests) plus a description of its columns. From that it prints as
aligned plain text (``print(table)``), renders as HTML in Jupyter, has a
length, iterates over its rows, and looks a row up by index or by name::

    table = coursekit.inspect.layer_shapes(net, (1, 1, 28, 28))
    table[0], table["features.0"]          # the same kind of row, two ways
    [row.params for row in table]

The text never contains memory addresses, so notebooks that print tables
stay reproducible.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, TypeVar

__all__ = ["Column", "Table", "format_bytes", "format_hw", "format_number", "shape_str", "si"]


# ---------------------------------------------------------------------------
# Number formats
# ---------------------------------------------------------------------------


def si(x: float) -> str:
    """1234567 -> ``'1.23 M'`` (k, M, G, T); below 1000 -> ``'999 '``.

    The trailing space of small numbers keeps ``f"{si(n)}FLOPs"`` readable
    whether or not a unit letter comes before the word.
    """
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f} {unit}"
    return f"{x:.0f} "


def format_bytes(n: float) -> str:
    """12845056 -> ``'12.85 MB'`` (decimal units: kB, MB, GB); below 1000 -> ``'288 B'``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


def format_number(x: Any) -> str:
    """Integers without a decimal point, other numbers with up to 3 decimals: 4.0 -> '4', 0.5 -> '0.5'.

    A string is returned as it is.
    """
    if isinstance(x, str):
        return x
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.3f}".rstrip("0")


def format_hw(pair: tuple[Any, Any] | None) -> str:
    """A (height, width) pair: ``(5, 5)`` -> ``"5"``, ``(1, 7)`` -> ``"1x7"``, None -> ``"-"``."""
    if pair is None:
        return "-"
    a, b = (format_number(v) for v in pair)
    return a if a == b else f"{a}x{b}"


def shape_str(shape: Any) -> str:
    """A tensor shape as PyTorch users write it: ``(1, 6, 28, 28)``.

    A list of shapes (a module that returns several tensors) becomes
    ``[(1, 10), (1, 10)]``; None becomes ``"-"``; anything else its ``str``.
    """
    if shape is None:
        return "-"
    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        return "(" + ", ".join(str(d) for d in shape) + ")"
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    return str(shape)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`: its header and how to write a row's cell."""

    header: str
    text: Callable[[Any], str]  # row -> the cell's text
    right: bool = False  # numbers are right-aligned


_Row = TypeVar("_Row")  # the dataclass of one row; it must have a ``name``


class Table(Generic[_Row]):
    """Base of the result objects: ``rows`` plus a text and an HTML rendering.

    A subclass sets ``rows`` and ``_columns`` (a tuple of :class:`Column`) and
    may add lines above the table (``_caption``) and below it (``_footer``).
    ``_row_kind`` is what its rows are called, singular and plural, for the
    message of a failed lookup by name.
    """

    rows: list[_Row]
    _columns: tuple[Column, ...] = ()
    _row_kind: tuple[str, str] = ("row", "rows")

    def _caption(self) -> list[str]:
        return []

    def _footer(self) -> list[str]:
        return []

    def _cells(self) -> list[list[str]]:
        return [[c.text(r) for c in self._columns] for r in self.rows]

    def __getitem__(self, key: int | str) -> _Row:
        """``table[i]``: the i-th row; ``table["name"]``: the first row whose ``name`` is ``"name"``."""
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if row.name == key:  # type: ignore[attr-defined]
                return row
        one, many = self._row_kind
        names = ", ".join(r.name for r in self.rows)  # type: ignore[attr-defined]
        raise KeyError(f"no {one} named {key!r}; {many}: {names}")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[_Row]:
        return iter(self.rows)

    def __str__(self) -> str:
        cells = self._cells()
        headers = [c.header for c in self._columns]
        widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

        def line(values: list[str]) -> str:
            parts = [v.rjust(w) if c.right else v.ljust(w)
                     for v, w, c in zip(values, widths, self._columns)]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line(["-" * w for w in widths]))
        out = self._caption() + [line(headers), rule] + [line(r) for r in cells] + [rule]
        return "\n".join(out + self._footer())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c.header)}</th>" for c in self._columns)
        body = []
        for row in self._cells():
            tds = "".join(
                f"<td style='text-align:{'right' if c.right else 'left'};white-space:pre'>{esc(v)}</td>"
                for v, c in zip(row, self._columns)
            )
            body.append(f"<tr>{tds}</tr>")
        caption = "".join(f"<p>{esc(t)}</p>" for t in self._caption())
        footer = "".join(f"<p>{esc(t)}</p>" for t in self._footer())
        return (f"<div>{caption}<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>{footer}</div>")
