"""coursekit.models.alexnet: d2l's AlexNet and the paper's, counted from their layer tables."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from coursekit.models import alexnet, alexnet_imagenet
from tests.helpers import count


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution or pooling, by the formula of the notes."""
    return (size + 2 * padding - kernel) // stride + 1


def _alexnet_count(convs, fcs) -> int:
    """Parameters of a plain conv stack and fully connected head, biases included."""
    return (sum(k * k * c_in * c_out + c_out for c_in, c_out, k in convs)
            + sum(n_in * n_out + n_out for n_in, n_out in fcs))


def test_alexnet_imagenet_has_the_papers_parameters():
    """The paper's single-tower AlexNet, counted from its layer table.

    torchvision's ``alexnet`` is the 64-192-384-256-256 network of "One weird
    trick" (2014) and is counted from that table, to show that the two differ
    only by design.
    """
    side = conv_out(224, 11, stride=4, padding=2)  # 55, as in the paper
    side = conv_out(conv_out(side, 3, 2), 3, 2)  # two overlapping 3x3/2 pools (conv2 keeps the size)
    side = conv_out(side, 3, 2)  # pool after conv5: 6
    paper = _alexnet_count(
        [(3, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)],
        [(256 * side * side, 4096), (4096, 4096), (4096, 1000)])
    with torch.device("meta"):
        assert count(alexnet_imagenet()) == paper
        weird_trick = _alexnet_count(
            [(3, 64, 11), (64, 192, 5), (192, 384, 3), (384, 256, 3), (256, 256, 3)],
            [(256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)])
        assert count(torchvision.models.alexnet(weights=None)) == weird_trick != paper


def test_d2l_alexnet_has_d2l_parameters():
    side = conv_out(224, 11, stride=4, padding=1)  # 54
    side = conv_out(conv_out(conv_out(side, 3, 2), 3, 2), 3, 2)  # 5
    expected = _alexnet_count(
        [(1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)],
        [(256 * side * side, 4096), (4096, 4096), (4096, 10)])
    assert count(alexnet()) == expected


# GoogLeNet paper, Table 1: output size, then #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.


def test_alexnet_ratio_keeps_default_and_shrinks_every_layer():
    assert count(alexnet()) == count(alexnet(ratio=1))
    narrow = alexnet(ratio=4)
    convs = [m for m in narrow if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [24, 64, 96, 96, 64]
    fcs = [m for m in narrow if isinstance(m, nn.Linear)]
    assert [(f.in_features, f.out_features) for f in fcs] == [(1600, 1024), (1024, 1024), (1024, 10)]
    assert narrow(torch.zeros(2, 1, 224, 224)).shape == (2, 10)
    with pytest.raises(ValueError, match="ratio"):
        alexnet(ratio=5)
