"""Checks of chapters 00, 02 and 03, and the width/size options of AlexNet and VGG they use."""

import pytest
import torch
from torch import nn

from coursekit import check
from coursekit.models import alexnet, vgg, vgg11_narrow, VGG11_ARCH


def conv(k, c_in, c_out):
    return (k * k * c_in + 1) * c_out


def linear(n_in, n_out):
    return (n_in + 1) * n_out


def count(net):
    return sum(p.numel() for p in net.parameters())


def test_conv2d_output_shape(capsys):
    # floor((n + 2p - d(k - 1) - 1) / s) + 1 per side
    h = (50 + 2 * 4 - 3 * (3 - 1) - 1) // 2 + 1
    w = (100 + 2 * 2 - 1 * (5 - 1) - 1) // 1 + 1
    assert check.conv2d_output_shape((20, 33, h, w)) is True
    assert "✔" in capsys.readouterr().out
    h_no_dilation = (50 + 8 - 2 - 1) // 2 + 1
    assert check.conv2d_output_shape((20, 33, h_no_dilation, w)) is False
    assert "dilation" in capsys.readouterr().out
    assert check.conv2d_output_shape((20, 16, h, w)) is False
    assert "out_channels" in capsys.readouterr().out
    assert check.conv2d_output_shape((h, w)) is False
    assert "all four" in capsys.readouterr().out
    assert check.conv2d_output_shape(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.conv2d_output_shape(7) is False
    assert "tuple of four" in capsys.readouterr().out


def test_alexnet_flatten_features(capsys):
    side = 256
    for k, s, p in ((11, 4, 1), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)):
        side = (side + 2 * p - k) // s + 1
    assert check.alexnet_flatten_features(256 * side * side) is True
    assert "✔" in capsys.readouterr().out
    assert check.alexnet_flatten_features(6400) is False
    assert "224x224" in capsys.readouterr().out
    assert check.alexnet_flatten_features(side * side) is False
    assert "256 of them" in capsys.readouterr().out
    assert check.alexnet_flatten_features(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.alexnet_flatten_features(6400, size=224) is True


def test_alexnet_fc_share(capsys):
    fc = linear(6400, 4096) + linear(4096, 4096) + linear(4096, 10)
    total = conv(11, 1, 96) + conv(5, 96, 256) + conv(3, 256, 384) + conv(3, 384, 384) + conv(3, 384, 256) + fc
    assert check.alexnet_fc_share(round(fc / total, 2)) is True
    assert check.alexnet_fc_share(round(100 * fc / total, 1)) is False
    assert "percentage" in capsys.readouterr().out
    assert check.alexnet_fc_share(round(1 - fc / total, 2)) is False
    assert "share of the convolutions" in capsys.readouterr().out
    assert check.alexnet_fc_share(0.05) is False
    assert "arithmetic" in capsys.readouterr().out


def test_vgg_block_parameters(capsys):
    expected = conv(3, 256, 512) + 3 * conv(3, 512, 512)
    assert check.vgg_block_parameters(expected) is True
    assert "✔" in capsys.readouterr().out
    assert check.vgg_block_parameters(4 * conv(3, 256, 512)) is False
    assert "Only the first convolution" in capsys.readouterr().out
    assert check.vgg_block_parameters(4 * conv(3, 512, 512)) is False
    assert "256" in capsys.readouterr().out
    assert check.vgg_block_parameters(expected - 4 * 512) is False
    assert "biases" in capsys.readouterr().out
    assert check.vgg_block_parameters(None) is False
    assert check.vgg_block_parameters(conv(3, 1, 8), num_convs=1, in_channels=1, out_channels=8) is True


def test_vgg16_head_share(capsys):
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    fc = linear(512 * 7 * 7, 4096) + linear(4096, 4096) + linear(4096, 1000)
    total = sum(conv(3, a, b) for a, b in convs) + fc
    assert check.vgg16_head_share(round(fc / total, 3)) is True
    assert check.vgg16_head_share(round(1 - fc / total, 3)) is False
    assert "share of the convolutions" in capsys.readouterr().out
    assert check.vgg16_head_share(None) is False


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
