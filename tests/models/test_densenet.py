"""coursekit.models.densenet: dense blocks, transitions, and d2l's DenseNet and its keywords.

``densenet``'s keywords take d2l's names, with d2l's values as defaults; the
parameter counts are checked against the closed form of the layer formulas.
"""

from __future__ import annotations

import pytest
import torch
import torch.fx

from coursekit.models import DenseBlock, densenet, transition_block
from tests.helpers import assert_block_shapes, assert_same_layers_as_torchvision, count


@pytest.mark.parametrize("block, shape_in, shape_out", [
    (lambda: DenseBlock(3, 5, 4), (2, 5, 8, 8), (2, 5 + 3 * 4, 8, 8)),
    (lambda: DenseBlock(3, 5, 4, bn_size=4), (2, 5, 8, 8), (2, 5 + 3 * 4, 8, 8)),
    (lambda: transition_block(8, 4), (2, 8, 9, 9), (2, 4, 4, 4)),
])
def test_blocks_have_the_documented_shapes(block, shape_in, shape_out):
    assert_block_shapes(block(), shape_in, shape_out)


def test_densenet121_parameters_equal_torchvision():
    assert_same_layers_as_torchvision("densenet121")


# --- the keywords of densenet -------------------------------------------------------------------


def channels_through(net):
    """Channels after the stem and after every dense block and transition, read from the modules."""
    out = [net[0][0].out_channels]
    for module in net:
        if isinstance(module, DenseBlock):
            out.append(module.out_channels)
        elif isinstance(module, torch.nn.Sequential) and isinstance(module[-1], torch.nn.AvgPool2d):
            out.append(module[2].out_channels)
    return out


def closed_form_params(num_channels, growth_rate, arch, in_channels=1, num_classes=10):
    """Parameters of d2l's DenseNet from the layer formulas: BN 2c, conv (k*k*c_in + 1)*c_out, linear (n + 1)*m."""
    total = (49 * in_channels + 1) * num_channels + 2 * num_channels  # stem conv + BN
    c = num_channels
    for i, n in enumerate(arch):
        for _ in range(n):
            total += 2 * c + (9 * c + 1) * growth_rate
            c += growth_rate
        if i != len(arch) - 1:
            total += 2 * c + (c + 1) * (c // 2)
            c //= 2
    return total + 2 * c + (c + 1) * num_classes


def test_defaults_are_d2ls_network():
    net = densenet()
    assert str(densenet(num_channels=64, growth_rate=32, arch=(4, 4, 4, 4))) == str(net)
    assert count(net) == closed_form_params(64, 32, (4, 4, 4, 4)) == 758_226
    assert channels_through(net) == [64, 192, 96, 224, 112, 240, 120, 248]
    assert net.input_size == (1, 96, 96)


def test_growth_rate_and_width():
    narrow = densenet(growth_rate=16)
    assert channels_through(narrow) == [64, 128, 64, 128, 64, 128, 64, 128]
    assert count(narrow) == closed_form_params(64, 16, (4, 4, 4, 4))
    assert count(narrow) < count(densenet()) / 3
    small = densenet(num_channels=32, growth_rate=12)
    assert channels_through(small) == [32, 80, 40, 88, 44, 92, 46, 94]
    assert small[-1].in_features == 94
    with torch.no_grad():
        assert small.eval()(torch.rand(2, 1, 32, 32)).shape == (2, 10)


def test_arch_sets_the_blocks_like_densenet121():
    net = densenet(in_channels=3, num_classes=1000, arch=(6, 12, 24, 16))
    # DenseNet-121's channel plan (its layers are bottlenecks, these are plain 3x3 ones)
    assert channels_through(net) == [64, 256, 128, 512, 256, 1024, 512, 1024]
    assert count(net) == closed_form_params(64, 32, (6, 12, 24, 16), in_channels=3, num_classes=1000)


@pytest.mark.parametrize("arch, minimum", [((4, 4, 4, 4), 29), ((2, 2, 2), 13), ((2, 2, 2, 2, 2), 61), ((3,), 1)])
def test_the_minimum_input_size_follows_the_number_of_blocks(arch, minimum):
    with torch.device("meta"):
        net = densenet(arch=arch, growth_rate=4, num_channels=8).eval()
        assert net(torch.rand(1, 1, minimum, minimum)).shape == (1, 10)
        if minimum > 1:
            too_small = torch.rand(1, 1, minimum - 1, minimum - 1)
            with pytest.raises(RuntimeError):  # tight: one pixel less breaks a layer
                net.forward(too_small)
            with pytest.raises(ValueError, match=f">= {minimum}"):
                net(too_small)


def test_the_keywords_are_traceable():
    with torch.device("meta"):
        net = densenet(growth_rate=8, arch=(2, 3)).eval()
        assert torch.fx.symbolic_trace(net)(torch.rand(2, 1, 96, 96)).shape == (2, 10)


@pytest.mark.parametrize("kwargs", [dict(growth_rate=0), dict(num_channels=-1), dict(growth_rate=2.5),
                                    dict(arch=()), dict(arch=(4, 0)), dict(arch=(4, 1.5))])
def test_bad_keywords_are_refused(kwargs):
    with pytest.raises(ValueError):
        densenet(**kwargs)
