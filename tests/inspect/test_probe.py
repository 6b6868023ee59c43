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


from coursekit.inspect import count_params, effective_receptive_field, memory, summary  # noqa: E402
from coursekit.models import lenet  # noqa: E402


@pytest.mark.parametrize("instrument", [layer_shapes, flops, memory, receptive_field, summary,
                                        effective_receptive_field])
def test_the_model_function_instead_of_a_model(instrument) -> None:
    with pytest.raises(TypeError, match=rf"{instrument.__name__} needs a model, got the function lenet: call it to "
                                        r"build one, lenet\(\)"):
        instrument(lenet, (1, 1, 28, 28))
    with pytest.raises(TypeError, match="count_params needs a model"):
        count_params(lenet)
    with pytest.raises(TypeError, match=r"needs a model \(a torch.nn.Module\), got str"):
        instrument("lenet", (1, 1, 28, 28))


def test_an_input_too_large_to_probe_is_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match=r"\(1, 3, 30000, 30000\) is 2,700,000,000 values \(10.1 GiB as float32\)"):
        layer_shapes(d2l_lenet(), (1, 3, 30000, 30000))


def test_a_float64_model_is_probed_in_float64() -> None:
    table = layer_shapes(d2l_lenet().double(), (1, 1, 28, 28))
    assert table.rows[-1].output_shape == (1, 10)


class Branchy(nn.Module):
    """Takes one of two layers depending on the input's values: a path a single probe cannot see whole."""

    def __init__(self) -> None:
        super().__init__()
        self.small, self.large = nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.small(x) if x.sum() > 0 else self.large(x)


@pytest.mark.parametrize("instrument", [layer_shapes, flops])
def test_data_dependent_branches_are_pointed_out(instrument) -> None:
    note = "forward() branches on the input's values"
    assert note in str(instrument(Branchy(), (1, 4)))
    assert note not in str(instrument(d2l_lenet(), (1, 1, 28, 28)))
