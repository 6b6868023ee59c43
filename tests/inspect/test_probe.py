"""coursekit.inspect.probe: what every instrument accepts as an input size."""

from __future__ import annotations

import pytest
from torch import nn

from coursekit.inspect import flops, layer_shapes, receptive_field
from tests.helpers import d2l_lenet


@pytest.mark.parametrize("bad", [(28, 28), (1, 1, 1, 28, 28), (1, 0, 28, 28), (1, 1, 28.0, 28), "28",
                                 (1, -1, 28, 28), None, (True, 1, 28, 28)])
def test_nonsense_input_size(bad) -> None:
    with pytest.raises(ValueError):
        receptive_field(d2l_lenet(), bad)


def test_input_size_conventions() -> None:
    a = receptive_field(d2l_lenet(), (1, 28, 28))
    b = receptive_field(d2l_lenet(), (1, 1, 28, 28))
    assert a.input_size == b.input_size == (1, 1, 28, 28)
    assert layer_shapes(nn.Linear(5, 3), (4, 5)).rows == []  # a leaf net has no sub-layers
    assert flops(nn.Linear(5, 3), (4, 5)).macs == 4 * 5 * 3
