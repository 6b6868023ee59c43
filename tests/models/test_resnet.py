"""coursekit.models.resnet: d2l's Residual block and ResNet-18, and the ImageNet ResNets.

The ImageNet ResNets must have exactly torchvision's parameters; d2l's block
can drop its shortcut (the paper's "plain" baseline) or its batch norms.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.models import BasicBlock, Bottleneck, Residual, resnet18, resnet18_d2l, resnet_block
from tests.helpers import assert_block_shapes, assert_same_layers_as_torchvision, count


@pytest.mark.parametrize("block, shape_in, shape_out", [
    (lambda: Residual(3, 6, use_1x1conv=True, strides=2), (2, 3, 9, 9), (2, 6, 5, 5)),
    (lambda: BasicBlock(8, 16, stride=2), (2, 8, 9, 9), (2, 16, 5, 5)),
    (lambda: Bottleneck(8, 4, stride=2), (2, 8, 9, 9), (2, 16, 5, 5)),
])
def test_blocks_have_the_documented_shapes(block, shape_in, shape_out):
    assert_block_shapes(block(), shape_in, shape_out)


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_parameters_equal_torchvision(name):
    assert_same_layers_as_torchvision(name)


def test_imagenet_forms_compute_on_cpu():
    """A real forward pass through an ImageNet form (the others run on ``meta``, and in test_googlenet.py)."""
    torch.manual_seed(0)
    with torch.no_grad():
        assert torch.isfinite(resnet18().eval()(torch.rand(1, 3, 224, 224))).all()


@pytest.mark.parametrize("block", [lambda: BasicBlock(16, 16, zero_init_residual=True),
                                   lambda: Bottleneck(16, 4, zero_init_residual=True)])
def test_zero_init_residual_blocks_start_as_identity(block):
    module = block()
    x = torch.randn(4, 16, 5, 5)
    torch.testing.assert_close(module(x), F.relu(x))


def test_zero_init_residual_reaches_every_block():
    assert all(b.bn2.weight.eq(0).all() for b in resnet18(zero_init_residual=True).modules()
               if isinstance(b, BasicBlock))
    assert not any(b.bn2.weight.eq(0).all() for b in resnet18().modules() if isinstance(b, BasicBlock))


# --- d2l's block without its shortcut or its batch norms ----------------------------------------


def test_residual_defaults_unchanged():
    block = Residual(8, 8)
    assert block.shortcut is True
    assert isinstance(block.bn1, nn.BatchNorm2d) and isinstance(block.bn2, nn.BatchNorm2d)
    assert count(resnet18_d2l()) == count(resnet18_d2l(shortcut=True)) == 11_178_378


def test_plain_block_drops_only_the_addition():
    torch.manual_seed(0)
    residual, plain = Residual(4, 4), Residual(4, 4, shortcut=False)
    plain.load_state_dict(residual.state_dict())  # same parameters, same names
    X = torch.randn(2, 4, 5, 5)
    branch = residual.bn2(residual.conv2(torch.relu(residual.bn1(residual.conv1(X)))))
    assert torch.allclose(plain(X), torch.relu(branch))
    assert torch.allclose(residual(X), torch.relu(branch + X))


def test_plain_block_changes_channels_without_a_1x1_convolution():
    block = Residual(3, 6, strides=2, shortcut=False)
    assert block.conv3 is None
    assert block(torch.zeros(2, 3, 9, 9)).shape == (2, 6, 5, 5)
    with pytest.raises(ValueError, match="use_1x1conv=True needs shortcut=True"):
        Residual(3, 6, use_1x1conv=True, shortcut=False)


def test_no_batch_norm():
    block = Residual(4, 4, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in block.modules())
    assert count(block) == count(Residual(4, 4)) - 4 * 4  # two BNs of 4 channels, scale and shift
    assert block(torch.zeros(1, 4, 3, 3)).shape == (1, 4, 3, 3)


def test_plain_stage_and_network():
    stage = resnet_block(64, 128, 2, shortcut=False, batch_norm=False)
    assert all(not b.shortcut and b.conv3 is None for b in stage)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in stage.modules())
    assert stage(torch.zeros(1, 64, 8, 8)).shape == (1, 128, 4, 4)
    plain = resnet18_d2l(shortcut=False)
    # the plain network lacks exactly the three 1x1 convolutions of the shortcuts
    shortcuts = (64 + 1) * 128 + (128 + 1) * 256 + (256 + 1) * 512
    assert count(resnet18_d2l()) - count(plain) == shortcuts
    assert plain(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert plain.input_size == (1, 96, 96)
