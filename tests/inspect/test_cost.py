"""coursekit.inspect.cost: FLOPs and memory of one forward pass, checked by hand."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from coursekit.inspect import MemoryUse, flops, memory
from coursekit.models import alexnet, lenet
from tests.helpers import d2l_lenet

F32 = 4  # bytes per float32

# ---------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------


def test_flops_of_a_conv_and_a_linear_by_hand() -> None:
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    n, h_out, w_out = 2, 5, 5  # 10x10 input, stride 2, 'same'-like padding
    macs = n * 8 * h_out * w_out * 3 * 3 * 3
    result = flops(conv, (n, 3, 10, 10))
    assert result.macs == macs and result.flops == 2 * macs
    linear = nn.Linear(20, 7)
    assert flops(linear, (4, 20)).flops == 2 * 4 * 20 * 7
    grouped = nn.Conv2d(4, 8, 3, padding=1, groups=4)
    assert flops(grouped, (1, 4, 6, 6)).macs == 8 * 6 * 6 * 3 * 3 * (4 // 4)


def test_flops_breakdown_of_lenet() -> None:
    result = flops(d2l_lenet(), (1, 1, 28, 28))
    expected = {"0": 6 * 28 * 28 * 25, "3": 16 * 10 * 10 * 6 * 25, "7": 400 * 120, "9": 120 * 84, "11": 84 * 10}
    assert {name: n // 2 for name, n in result.by_module.items()} == expected
    assert result.macs == sum(expected.values())
    text = str(result)
    assert "multiply-adds" in text and "FLOPs" in text and "2 FLOPs" in text


# ---------------------------------------------------------------------------
# Memory: parameters, activations and what training keeps
# ---------------------------------------------------------------------------


def test_memory_of_lenet_by_hand() -> None:
    result = memory(lenet(), (1, 1, 28, 28))
    assert isinstance(result, MemoryUse)
    # conv + sigmoid, pool, conv + sigmoid, pool, (flatten is a view), 3 x (linear + sigmoid but the last)
    outputs = [6 * 28 * 28, 6 * 28 * 28, 6 * 14 * 14, 16 * 10 * 10, 16 * 10 * 10, 16 * 5 * 5,
               120, 120, 84, 84, 10]
    assert result.activations == F32 * sum(outputs)
    assert [r.name for r in result.rows] == ["0", "1", "2", "3", "4", "5", "7", "8", "9", "10", "11"]
    assert result.params == F32 * 61706 and result.buffers == 0
    assert result.input == F32 * 28 * 28
    assert result.total == result.params + result.input + result.activations
    assert result.by_module["0"] == F32 * 6 * 28 * 28 and result["0"].param_bytes == F32 * (6 * 25 + 6)
    # Training keeps each sigmoid's output (its derivative is s(1 - s)) and each layer's input:
    # 6x28x28, 6x14x14, 16x10x10, 16x5x5 (flattened), 120, 84; shared tensors count once.
    assert result.saved == F32 * (6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + 120 + 84)


def test_in_place_and_views_cost_nothing() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Flatten(), nn.Identity())
    result = memory(net, (2, 3, 8, 8))
    assert result.activations == F32 * 2 * 8 * 8 * 8  # the convolution's output only
    assert [r.name for r in result.rows] == ["0"]
    not_in_place = memory(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()), (2, 3, 8, 8))
    assert not_in_place.activations == 2 * result.activations


def test_work_outside_leaf_modules_is_counted() -> None:
    class Branches(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(2, 3, 1)
            self.b = nn.Conv2d(2, 5, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([self.a(x), self.b(x)], dim=1)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Branches()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.block(x)
            return y + y  # a residual-style addition in the net's own forward

    result = memory(Net(), (1, 2, 6, 6))
    side = 6 * 6
    assert result.by_module == {"block.a": F32 * 3 * side, "block.b": F32 * 5 * side,
                                "block": F32 * 8 * side, "(top level)": F32 * 8 * side}
    assert result.activations == F32 * (3 + 5 + 8 + 8) * side
    assert result["block"].type == "Branches" and result["block"].param_bytes == 0
    assert result["block.b"].param_bytes == F32 * (2 * 9 * 5 + 5)


def test_batch_norm_buffers_and_modes_are_left_alone() -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = memory(net, (1, 1, 5, 5))  # batch 1 works: evaluation mode
    assert net.training and all(m.training for m in net.modules())
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert result.params == F32 * (4 * 9 + 4 + 4 + 4)
    # running mean and variance (float32) and num_batches_tracked (int64)
    assert result.buffers == F32 * 8 + 8
    # conv, batch norm and ReLU outputs; dropout in evaluation mode returns its input
    assert result.activations == F32 * 3 * 4 * 3 * 3


def test_scales_with_batch_and_dtype() -> None:
    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    one, four = memory(net, (1, 3, 16, 16)), memory(net, (4, 3, 16, 16))
    assert four.activations == 4 * one.activations and four.params == one.params
    assert four.saved == 4 * one.saved > 0
    double = memory(net.double(), (1, 3, 16, 16))
    assert double.activations == 2 * one.activations and double.params == 2 * one.params
    assert "float64" in str(double)


def test_agrees_with_every_output_of_a_plain_sequential() -> None:
    net = alexnet()
    result = memory(net, (1, 1, 224, 224))
    x, expected, indices = torch.zeros(1, 1, 224, 224), 0, 0
    with torch.no_grad():
        net.eval()
        for layer in net:
            y = layer(x)
            if y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr():  # not a view or in-place
                expected += y.numel() * F32
            if isinstance(layer, nn.MaxPool2d):
                indices += y.numel() * 8  # where each maximum came from, as int64
            x = y
    # On the CPU max-pooling also stores its argmax indices, even without gradients.
    assert result.activations in (expected, expected + indices)
    assert result.by_module["2"] in (96 * 26 * 26 * F32, 96 * 26 * 26 * (F32 + 8))


def test_text_and_html_are_deterministic() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    a, b = str(memory(net, (1, 1, 8, 8))), str(memory(net, (1, 1, 8, 8)))
    assert a == b and not re.search(r"0x[0-9a-f]{6,}", a)
    assert "activations" in a and "backward" in a and "288 B" in a  # 2 x 6 x 6 floats
    assert "<table>" in memory(net, (1, 1, 8, 8))._repr_html_()


def test_lazy_network_is_refused() -> None:
    with pytest.raises(ValueError, match="forward pass"):
        memory(nn.Sequential(nn.LazyConv2d(2, 3)), (1, 1, 8, 8))
