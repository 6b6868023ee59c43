"""Checks of chapter 07 (ResNet)."""

import torch

import coursekit as ck
from coursekit import check


def bn(c):
    return 2 * c


def test_bottleneck_block_parameters_with_projection(capsys):
    # ResNet-50's first block of layer2: 256 -> 128 (1x1) -> 128 (3x3, stride 2) -> 512 (1x1), projection 256 -> 512.
    body = 256 * 128 + bn(128) + 9 * 128 * 128 + bn(128) + 128 * 512 + bn(512)
    projection = 256 * 512 + bn(512)
    assert body + projection == 379_392  # the figure of the lecture notes' torchinfo table
    assert check.bottleneck_block_parameters(body + projection) is True
    out = capsys.readouterr().out
    assert "✔" in out and "projection shortcut" in out
    assert check.bottleneck_block_parameters(body) is False
    assert "projection shortcut" in capsys.readouterr().out
    no_bn = 256 * 128 + 9 * 128 * 128 + 128 * 512 + 256 * 512
    assert check.bottleneck_block_parameters(no_bn) is False
    assert "batch norms" in capsys.readouterr().out
    assert check.bottleneck_block_parameters(body + projection + 128 + 128 + 512) is False
    assert "no bias" in capsys.readouterr().out
    basic = sum(p.numel() for p in ck.models.BasicBlock(256, 512, stride=2).parameters())
    assert check.bottleneck_block_parameters(basic) is False
    assert "That is a BasicBlock" in capsys.readouterr().out
    assert check.bottleneck_block_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.bottleneck_block_parameters(12) is False
    assert "Not quite" in capsys.readouterr().out


def test_bottleneck_block_parameters_identity_shortcut(capsys):
    body = 256 * 64 + bn(64) + 9 * 64 * 64 + bn(64) + 64 * 256 + bn(256)
    assert body == 70_400
    assert check.bottleneck_block_parameters(body, in_channels=256, width=64, stride=1) is True
    assert check.bottleneck_block_parameters(body + 256 * 256 + bn(256), in_channels=256, width=64, stride=1) is False
    assert "identity" in capsys.readouterr().out.splitlines()[-1]


def test_resnet_stage_output_shape(capsys):
    assert check.resnet_stage_output_shape((1, 512, 4, 4)) is True
    assert "(n - 1) // 2 + 1" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((1, 512, 3, 3)) is False
    assert "rounds up" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((1, 256, 4, 4)) is False
    assert "num_channels = 512" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((1, 512, 7, 7)) is False
    assert "halves the height" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((1, 512, 2, 2)) is False
    assert "Only the first block" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((512, 4, 4)) is False
    assert "all four dimensions" in capsys.readouterr().out
    assert check.resnet_stage_output_shape(512) is False
    assert "tuple of four ints" in capsys.readouterr().out
    assert check.resnet_stage_output_shape(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((9, 9, 9, 9)) is False
    assert "Not quite" in capsys.readouterr().out


def test_resnet_stage_output_shape_first_block(capsys):
    stage = dict(input_shape=(2, 64, 24, 24), num_channels=64, first_block=True)
    assert check.resnet_stage_output_shape((2, 64, 24, 24), **stage) is True
    assert "keeps the size" in capsys.readouterr().out
    assert check.resnet_stage_output_shape((2, 64, 12, 12), **stage) is False
    assert "no block has stride 2" in capsys.readouterr().out


def test_stage_check_agrees_with_the_network():
    net = ck.models.resnet18_d2l()
    X = torch.zeros(1, 1, 96, 96)
    X = net[1](net[0](X))  # stem and the first stage: (1, 64, 24, 24)
    assert check.resnet_stage_output_shape(tuple(net[2](X).shape), input_shape=tuple(X.shape), num_channels=128)
