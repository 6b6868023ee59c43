"""coursekit.inspect.diagnose: a failed forward pass names the layer at fault and the size that works.

Every instrument runs the network once, so each of them must explain a
failure the same way.
"""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

from coursekit.inspect import InputTooSmallError, flops, layer_shapes, memory, receptive_field, summary
from tests.helpers import d2l_lenet


def shrinking_net() -> nn.Sequential:
    """Two 5x5 convolutions, each followed by 2x2 pooling: needs at least 16x16 pixels."""
    return nn.Sequential(nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Conv2d(2, 2, 5), nn.MaxPool2d(2))


def test_too_small_input_names_the_layer_and_the_smallest_size() -> None:
    net = shrinking_net()
    # By hand: n - 4 >= 2 so that floor(.../2) - 4 >= 2 ... : floor((n - 4) / 2) >= 6, n >= 16.
    with pytest.raises(InputTooSmallError) as info:
        receptive_field(net, (1, 1, 12, 20))
    err = info.value
    # 12 -> 8 -> 4 -> 0: the second convolution kills the height
    assert err.layer == "2" and "height" in str(err) and "'2'" in str(err)
    assert err.smallest_input_size == (1, 1, 16, 16)
    net(torch.zeros(1, 1, 16, 16))
    with pytest.raises(RuntimeError):
        net(torch.zeros(1, 1, 15, 16))
    # The other instruments say the same.
    with pytest.raises(InputTooSmallError, match="smallest"):
        layer_shapes(net, (1, 12, 20))
    with pytest.raises(InputTooSmallError):
        flops(net, (1, 12, 20))


def test_too_small_for_lenet_mentions_the_linear_layer() -> None:
    with pytest.raises(InputTooSmallError) as info:
        layer_shapes(d2l_lenet(), (1, 1, 8, 8))
    assert info.value.smallest_input_size == (1, 1, 12, 12)
    assert "Flatten" in str(info.value)  # 12x12 still fails at the Linear layer


def test_summary_of_a_too_small_input() -> None:
    with pytest.raises(InputTooSmallError):
        summary(shrinking_net(), (1, 1, 12, 20))


def test_memory_of_a_too_small_input() -> None:
    with pytest.raises(InputTooSmallError, match="smallest"):
        memory(shrinking_net(), (1, 1, 12, 20))


def test_other_failures_keep_their_error_and_name_the_layer() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(10, 2))  # 2 x 6 x 6 = 72 features, not 10
    with pytest.raises(RuntimeError, match="mat1 and mat2") as info:  # PyTorch's own error...
        layer_shapes(net, (1, 1, 8, 8))
    # ... with a note saying where it happened (Python 3.10, which has no notes, gets it in the message)
    note = "coursekit.inspect: the error happened in layer '2' for input size (1, 1, 8, 8)."
    if sys.version_info >= (3, 11):
        assert info.value.__notes__ == [note]
    else:
        assert str(info.value).endswith("\n" + note)
