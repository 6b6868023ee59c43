"""coursekit.inspect.shapes: parameter counts, layer-by-layer shapes and the torchinfo summary.

Expected values come from closed-form counts or from PyTorch itself, never
from the module under test.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit.inspect import ParamCount, count_params, layer_shapes, summary
from coursekit.models import BatchNorm, Residual, bn_lenet_scratch
from tests.helpers import ResNetTiny, d2l_lenet

# ---------------------------------------------------------------------------
# Layer-by-layer shapes
# ---------------------------------------------------------------------------


def test_layer_shapes_of_a_nested_net() -> None:
    net = ResNetTiny()
    table = layer_shapes(net, (1, 1, 64, 64))
    assert table["stem.0"].output_shape == (1, 8, 32, 32)
    assert table["stage"].output_shape == (1, 12, 8, 8) and table["stage"].depth == 1
    assert table["stage.1.shortcut"].output_shape == (1, 12, 8, 8) and table["stage.1.shortcut"].depth == 3
    assert table["head.2"].output_shape == (1, 10)
    # A container's parameters are those of everything inside it.
    assert table["stage.1"].params == sum(p.numel() for p in net.stage[1].parameters())
    assert table.rows[0].name == "stem"  # a container comes before its children
    top = layer_shapes(net, (1, 1, 64, 64), depth=1)
    assert [r.name for r in top.rows] == ["stem", "stage", "head"]
    assert sum(r.params for r in top.rows) == count_params(net).total
    text = str(table)
    assert "    stage.1.shortcut" in text and "0x" not in text  # indented, no addresses
    assert "<table>" in table._repr_html_()


@pytest.mark.parametrize("depth", [1.5, True, 0, -1, "1"])
def test_layer_shapes_rejects_a_depth_that_is_not_a_whole_number_from_1(depth) -> None:
    with pytest.raises(ValueError, match=r"depth must be None .* at least 1"):
        layer_shapes(d2l_lenet(), (1, 1, 28, 28), depth=depth)


def test_layer_shapes_counts_a_reused_module_once() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.conv(x))

    rows = layer_shapes(Twice(), (1, 2, 8, 8)).rows
    assert [r.name for r in rows] == ["conv", "conv"]
    assert [r.params for r in rows] == [2 * 2 * 9 + 2, 0]


def test_layer_shapes_initialises_lazy_layers_and_restores_training_mode() -> None:
    net = nn.Sequential(nn.LazyConv2d(3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(ValueError, match="forward pass"):
        count_params(net)
    net.train()
    net[1].eval()
    table = layer_shapes(net, (1, 1, 5, 5))  # batch 1 with BatchNorm: works in eval mode
    assert table["3"].params == 3 * 3 * 3 * 2 + 2
    assert net.training and net[0].training and not net[1].training
    assert int(net[1].num_batches_tracked) == 0  # the probe did not touch the statistics


def test_summary_is_torchinfo() -> None:
    stats = summary(d2l_lenet(), (1, 28, 28))
    assert stats.total_params == 61706
    assert "[1, 6, 28, 28]" in str(stats)


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def _closed_form(k_h: int, k_w: int, c_in: int, c_out: int, groups: int = 1) -> int:
    return (k_h * k_w * c_in // groups) * c_out + c_out


@pytest.mark.parametrize("conv, expected", [
    (nn.Conv2d(6, 16, 5), _closed_form(5, 5, 6, 16)),
    (nn.Conv2d(6, 12, (3, 5), groups=3), _closed_form(3, 5, 6, 12, groups=3)),
    (nn.Conv2d(8, 8, 3, groups=8), _closed_form(3, 3, 8, 8, groups=8)),  # depthwise
])
def test_conv_parameters_closed_form(conv, expected) -> None:
    assert count_params(conv).total == expected


def test_depthwise_separable_and_frozen_split() -> None:
    net = nn.Sequential(nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 16, 1))
    depthwise, pointwise = _closed_form(3, 3, 8, 8, groups=8), _closed_form(1, 1, 8, 16)
    assert count_params(net).total == depthwise + pointwise == 80 + 144
    for p in net[0].parameters():
        p.requires_grad_(False)
    counts = count_params(net)
    assert (counts.trainable, counts.frozen) == (pointwise, depthwise)
    assert str(counts) == "224 parameters (144 trainable, 80 frozen)"
    assert counts.by_type == {"Conv2d": 224}  # frozen or not


def _by_hand(net: nn.Module, kind: type[nn.Module]) -> int:
    """What notebooks wrote before ``by_type``: every parameter of every layer of one type."""
    return sum(p.numel() for m in net.modules() if isinstance(m, kind) for p in m.parameters())


def test_by_type_of_lenet() -> None:
    net = d2l_lenet()
    counts = count_params(net)
    assert counts.by_type == {"Conv2d": _by_hand(net, nn.Conv2d), "Linear": _by_hand(net, nn.Linear)}
    assert list(counts.by_type) == ["Conv2d", "Linear"]  # in the order the layers come
    # Closed form: 6 (5x5 + 1) + 16 (6 x 5x5 + 1); (400 + 1) 120 + (120 + 1) 84 + (84 + 1) 10.
    assert counts.by_type == {"Conv2d": 156 + 2416, "Linear": 48120 + 10164 + 850}
    assert sum(counts.by_type.values()) == counts.total == 61706


def test_by_type_of_a_resnet_block_and_a_scratch_batch_norm() -> None:
    block = Residual(3, 6, use_1x1conv=True, strides=2)
    counts = count_params(block)
    assert counts.by_type == {"Conv2d": _by_hand(block, nn.Conv2d), "BatchNorm2d": _by_hand(block, nn.BatchNorm2d)}
    assert counts.by_type["BatchNorm2d"] == 2 * (6 + 6)  # two batch norms: scale and shift per channel
    net = bn_lenet_scratch()
    assert count_params(net).by_type["BatchNorm"] == _by_hand(net, BatchNorm)  # coursekit's own class


def test_by_type_counts_a_shared_parameter_once() -> None:
    class Scale(nn.Module):
        """Multiplies by a weight it shares with another layer."""

        def __init__(self, weight: nn.Parameter) -> None:
            super().__init__()
            self.weight = weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.weight

    first, second = nn.Linear(4, 4), nn.Linear(4, 4)
    second.weight = first.weight  # tied weights: one tensor in two layers
    net = nn.Sequential(first, second, Scale(first.weight), first)  # and a layer used twice
    counts = count_params(net)
    distinct = sum(p.numel() for p in net.parameters())  # parameters() yields a shared tensor once
    assert distinct == 16 + 4 + 4  # one weight, two biases
    assert counts.by_type == {"Linear": distinct} and counts.total == distinct
    assert _by_hand(net, nn.Linear) == 2 * (16 + 4)  # naive: the shared weight twice


def test_param_count_is_a_value() -> None:
    counts = count_params(d2l_lenet())
    assert counts == count_params(d2l_lenet()) and hash(counts) == hash(count_params(d2l_lenet()))
    assert repr(counts) == "ParamCount(total=61706, trainable=61706, frozen=0)"
    assert isinstance(counts, ParamCount) and isinstance(counts.by_type, dict)


def test_summary_shows_the_real_error_not_torchinfos_wrapper() -> None:
    from coursekit.models import lenet

    with pytest.raises(ValueError, match=r"lenet expects input of shape \(N, 1, 28, 28\), got \(1, 3, 28, 28\)"):
        summary(lenet(), (1, 3, 28, 28))
