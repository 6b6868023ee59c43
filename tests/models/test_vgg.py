"""coursekit.models.vgg: the VGG block, and the ImageNet VGGs with torchvision's parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit.models import VGG11_ARCH, vgg, vgg11_narrow, vgg_block
from tests.helpers import assert_block_shapes, assert_same_layers_as_torchvision, count


def test_vgg_block_halves_the_size():
    assert_block_shapes(vgg_block(2, 3, 16), (2, 3, 32, 32), (2, 16, 16, 16))


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_parameters_equal_torchvision(name):
    assert_same_layers_as_torchvision(name)


def test_vgg_size_sizes_the_head():
    assert count(vgg(VGG11_ARCH)) == count(vgg(VGG11_ARCH, size=224))
    assert count(vgg11_narrow()) == count(vgg11_narrow(size=224))
    net = vgg11_narrow(ratio=8, size=96)
    assert net.input_size == (1, 96, 96)
    head = [m for m in net if isinstance(m, nn.Linear)][0]
    assert head.in_features == 64 * 3 * 3
    assert net(torch.zeros(2, 1, 96, 96)).shape == (2, 10)
    with pytest.raises(ValueError, match="vgg11_narrow expects"):
        net(torch.zeros(2, 1, 224, 224))
    with pytest.raises(ValueError, match="size"):
        vgg(VGG11_ARCH, size=16)
