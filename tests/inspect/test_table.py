"""coursekit.inspect.table: the table every instrument returns, and its number formats."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from torch import nn

from coursekit.inspect import flops, layer_shapes, memory
from coursekit.inspect.table import Column, Table, format_bytes, format_hw, format_number, shape_str, si
from tests.helpers import d2l_lenet


@dataclass(frozen=True)
class Fruit:
    name: str
    grams: int


class Basket(Table[Fruit]):
    """A table as the instruments write them: rows, columns, a caption and a footer."""

    _row_kind = ("fruit", "fruits")

    def __init__(self, rows: list[Fruit]) -> None:
        self.rows = rows
        self._columns = (Column("fruit", lambda r: r.name),
                         Column("grams", lambda r: f"{r.grams:,}", right=True))

    def _caption(self) -> list[str]:
        return ["A basket"]

    def _footer(self) -> list[str]:
        return [f"{sum(r.grams for r in self.rows):,} g in all"]


def basket() -> Basket:
    return Basket([Fruit("apple", 150), Fruit("melon", 1200)])


def test_rows_by_index_and_by_name() -> None:
    table = basket()
    assert table[0] is table.rows[0] and table[-1].name == "melon"
    assert table["melon"] is table.rows[1]
    assert len(table) == 2 and [r.name for r in table] == ["apple", "melon"]


def test_an_unknown_name_lists_the_names() -> None:
    with pytest.raises(KeyError, match=r"no fruit named 'pear'; fruits: apple, melon"):
        basket()["pear"]

    class Plain(Table[Fruit]):  # says nothing about its rows
        def __init__(self) -> None:
            self.rows = [Fruit("fig", 50)]

    with pytest.raises(KeyError, match=r"no row named 'pear'; rows: fig"):
        Plain()["pear"]


def test_text_is_aligned_with_caption_and_footer() -> None:
    assert str(basket()) == "\n".join([
        "A basket",
        "fruit  grams",
        "------------",
        "apple    150",
        "melon  1,200",
        "------------",
        "1,350 g in all",
    ])
    assert repr(basket()) == str(basket())


def test_html_is_escaped() -> None:
    html = Basket([Fruit("<b>kiwi</b>", 70)])._repr_html_()
    assert "<p>A basket</p>" in html and "<th style='text-align:left'>fruit</th>" in html
    assert "&lt;b&gt;kiwi&lt;/b&gt;" in html and "<b>kiwi" not in html
    assert "<td style='text-align:right;white-space:pre'>70</td>" in html


def test_every_instrument_looks_rows_up_the_same_way() -> None:
    net = d2l_lenet()
    for table, kind in ((layer_shapes(net, (1, 1, 28, 28)), "layer"), (flops(net, (1, 1, 28, 28)), "layer"),
                        (memory(net, (1, 1, 28, 28)), "module")):
        assert table["3"] is next(r for r in table.rows if r.name == "3")
        assert table[0] is table.rows[0]
        with pytest.raises(KeyError, match=rf"no {kind} named 'conv9'; .*: .*0, .*3"):
            table["conv9"]


@pytest.mark.parametrize("value, text", [
    (1234567, "1.23 M"), (2.5e9, "2.50 G"), (1e12, "1.00 T"), (1000, "1.00 k"), (999, "999 "), (0, "0 "),
])
def test_si(value: float, text: str) -> None:
    assert si(value) == text


@pytest.mark.parametrize("value, text", [(12845056, "12.85 MB"), (3e9, "3.00 GB"), (1500, "1.50 kB"), (288, "288 B")])
def test_format_bytes(value: float, text: str) -> None:
    assert format_bytes(value) == text


def test_numbers_pairs_and_shapes() -> None:
    assert [format_number(x) for x in (4.0, 7, 0.5, 1 / 3, -1.25, "n/a")] == ["4", "7", "0.5", "0.333", "-1.25", "n/a"]
    assert [format_hw(p) for p in ((5, 5), (1, 7), (2.5, 2.5), None)] == ["5", "1x7", "2.5", "-"]
    assert shape_str((1, 6, 28, 28)) == "(1, 6, 28, 28)"
    assert shape_str([(1, 10), (1, 10)]) == "[(1, 10), (1, 10)]"
    assert shape_str(None) == "-" and shape_str("GoogLeNetOutputs") == "GoogLeNetOutputs"


def test_tables_hold_no_addresses() -> None:
    class Odd(nn.Module):  # returns something that is not a tensor
        def forward(self, x):
            return object()

    text = str(layer_shapes(nn.Sequential(Odd()), (1, 4)))
    assert "object" in text and "0x" not in text
