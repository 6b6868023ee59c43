"""ResNet-18 with the small-image stem (chapter 13)."""

import pytest
import torch
from torch import nn

from coursekit.models import get_model, resnet18, resnet18_small


def test_the_small_stem_keeps_28x28_until_the_first_stage_and_ends_in_logits():
    net = resnet18_small(width=8)
    X = torch.rand(2, 1, 28, 28)
    assert net[0](X).shape == (2, 8, 28, 28)  # no stride, no max-pool
    sides = []
    for layer in net:
        X = layer(X)
        if X.ndim == 4:
            sides.append(X.shape[-1])
    assert sides == [28, 28, 28, 28, 14, 7, 4, 1] and X.shape == (2, 10)


def test_at_width_64_it_has_resnet18s_blocks_with_another_stem():
    small = sum(p.numel() for p in resnet18_small(in_channels=3, num_classes=1000).parameters())
    imagenet = sum(p.numel() for p in resnet18(in_channels=3, num_classes=1000).parameters())
    # ImageNet's 7x7 stem has 3*49*64 weights, the small one 3*9*64; the blocks and the head are the same.
    assert imagenet - small == 3 * 64 * (49 - 9)


def test_dropout_sits_before_the_last_layer_only_when_asked():
    assert not any(isinstance(m, nn.Dropout) for m in resnet18_small().modules())
    net = get_model("resnet18_small", width=4, dropout=0.5)
    assert isinstance(net[-2], nn.Dropout) and net[-2].p == 0.5
    net.eval()
    X = torch.rand(3, 1, 28, 28)
    assert torch.equal(net(X), net(X))  # no dropout in evaluation mode


@pytest.mark.parametrize("kwargs", [dict(width=0), dict(width=2.5), dict(dropout=1.0), dict(dropout=-0.1)])
def test_bad_width_or_dropout_is_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        resnet18_small(**kwargs)
