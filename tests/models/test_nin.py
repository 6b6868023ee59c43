"""coursekit.models.nin: the NiN block, and a head without fully connected layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit.models import nin, nin_block
from tests.helpers import assert_block_shapes, count


def test_nin_block_keeps_the_size_of_its_first_convolution():
    assert_block_shapes(nin_block(3, 16, 11, 4, 0), (2, 3, 67, 67), (2, 16, 15, 15))


def test_global_average_pooling_replaces_the_fully_connected_head():
    net = nin(num_classes=7)
    assert not any(isinstance(m, nn.Linear) for m in net.modules())
    last_conv = [m for m in net.modules() if isinstance(m, nn.Conv2d)][-1]
    assert last_conv.out_channels == 7  # one map per class, averaged into its logit
    with torch.device("meta"):  # shapes only
        assert nin(num_classes=7).eval()(torch.rand(2, 1, 224, 224)).shape == (2, 7)


def test_ratio_narrows_the_first_three_blocks():
    convs = [m.out_channels for m in nin(ratio=16).modules() if isinstance(m, nn.Conv2d)]
    assert convs == [6] * 3 + [16] * 3 + [24] * 3 + [10] * 3  # 96, 256, 384 divided by 16; then the classes
    for bad in (0, 97, 1.5, True):
        with pytest.raises(ValueError, match="ratio"):
            nin(ratio=bad)


def test_nin_ratio():
    assert count(nin(ratio=1)) == count(nin()) == 1_992_166
    narrow = nin(ratio=2)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, nn.Conv2d)][::3] == [48, 128, 192, 10]
    assert narrow(torch.zeros(2, 1, 96, 96)).shape == (2, 10)
    with pytest.raises(ValueError):
        nin(ratio=0)
