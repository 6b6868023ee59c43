"""Checks of chapters 09 (receptive fields) and 10 (the cost of an architecture): right, wrong, typical slips, None."""

import pytest
from torch import nn

from coursekit import check


def field(layers):
    """The recurrence by hand: r += (k - 1) * jump, jump *= s (padding plays no part)."""
    r, jump = 1, 1
    for k, s, *_ in layers:
        r += (k - 1) * jump
        jump *= s
    return r


# --- chapter 09 ------------------------------------------------------------------


def test_receptive_field_size(capsys):
    layers = check._receptive_fields.STEM_AND_THREE_3X3
    assert field(layers) == 35  # 7, 11, 19, 27, 35
    assert check.receptive_field_size(35) is True
    assert "✔" in capsys.readouterr().out
    assert check.receptive_field_size(35.0) is True
    capsys.readouterr()
    assert check.receptive_field_size(1 + 6 + 2 + 2 + 2 + 2) is False
    assert "product of the strides" in capsys.readouterr().out
    assert check.receptive_field_size(1 + 6 * 2 + 2 * 4 + 2 * 4 + 2 * 4 + 2 * 4) is False
    assert "own stride" in capsys.readouterr().out
    assert check.receptive_field_size(1 + 12 + 4 * 2 + 4 * 4 * 3) is False
    assert "padding" in capsys.readouterr().out
    assert check.receptive_field_size(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.receptive_field_size(36) is False
    assert "r += (k - 1) * jump" in capsys.readouterr().out
    assert check.receptive_field_size("big") is False
    assert "single number" in capsys.readouterr().out
    vgg_block = [(3, 1, 1), (3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 1, 1), (2, 2, 0)]
    assert check.receptive_field_size(field(vgg_block), layers=vgg_block) is True
    assert field(vgg_block) == 16


def test_center_of_unit(capsys):
    # d2l LeNet: conv5 p2 -> centre 0, pool2 -> 0.5 (jump 2), conv5 -> 4.5, pool2 -> 5.5 (jump 4)
    assert check.center_of_unit(5.5 + 2 * 4) is True
    assert "13.5" in capsys.readouterr().out
    assert check.center_of_unit(7.5 + 2 * 4) is False  # the same net without padding
    assert "without padding" in capsys.readouterr().out
    assert check.center_of_unit(5.5 + 2) is False
    assert "unit * jump" in capsys.readouterr().out
    assert check.center_of_unit(5.5) is False
    assert "first unit" in capsys.readouterr().out
    assert check.center_of_unit(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.center_of_unit(3) is False
    assert "c += ((k - 1) / 2 - p) * jump" in capsys.readouterr().out
    assert check.center_of_unit(5.5 + 4 * 4, unit=4) is True


def test_dilated_receptive_field(capsys):
    assert check.dilated_receptive_field(1 + 2 * (1 + 2 + 4 + 8)) is True
    assert "exponentially" in capsys.readouterr().out
    assert check.dilated_receptive_field(9) is False
    assert "without dilation" in capsys.readouterr().out
    assert check.dilated_receptive_field(1 + 2 + 5 + 11 + 23) is False
    assert "not d*k" in capsys.readouterr().out
    assert check.dilated_receptive_field(17) is False
    assert "last layer" in capsys.readouterr().out
    assert check.dilated_receptive_field(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.dilated_receptive_field(100) is False
    assert "add d(k - 1)" in capsys.readouterr().out
    assert check.dilated_receptive_field(1 + 4 * (1 + 3), dilations=(1, 3), kernel_size=5) is True


def test_multipath_receptive_field(capsys):
    # stem: 7 (jump 2), max-pool 3: 11 (jump 4); branches 11, 19, 27, 19
    assert check.multipath_receptive_field(27) is True
    assert "largest" in capsys.readouterr().out
    assert check.multipath_receptive_field(11 + 8 + 16 + 8) is False
    assert "side by side" in capsys.readouterr().out
    assert check.multipath_receptive_field(11) is False
    assert "smallest branch" in capsys.readouterr().out
    assert check.multipath_receptive_field(15) is False
    assert "(5 - 1) * 4" in capsys.readouterr().out
    assert check.multipath_receptive_field(19) is False
    assert "not the largest" in capsys.readouterr().out
    assert check.multipath_receptive_field(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.multipath_receptive_field(1000) is False
    assert "take the largest" in capsys.readouterr().out


# --- chapter 10 ------------------------------------------------------------------


def test_conv_parameters(capsys):
    # the formula of the notes, with groups: (K_H*K_W*C_in/g)*C_out + C_out
    assert check.conv_parameters((3 * 3 * 64 // 4) * 128 + 128) is True
    assert "✔" in capsys.readouterr().out
    assert check.conv_parameters(3 * 3 * 64 * 128 + 128) is False
    assert "without groups" in capsys.readouterr().out
    assert check.conv_parameters(3 * 3 * 64 // 4 * 128) is False
    assert "add the biases" in capsys.readouterr().out
    assert check.conv_parameters((3 * 3 * 64 * 128 + 128) // 4) is False
    assert "do not divide the biases" in capsys.readouterr().out
    assert check.conv_parameters((3 * 3 * 16 + 1) * 32) is False
    assert "one group" in capsys.readouterr().out
    assert check.conv_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.conv_parameters(12) is False
    assert "(K_H*K_W*C_in/g)*C_out" in capsys.readouterr().out
    # the example of the notes: conv(4, 8, 3, groups=2) has 144 weights and 8 biases
    assert check.conv_parameters(152, in_channels=4, out_channels=8, kernel_size=3, groups=2) is True


def test_separable_ratio(capsys):
    right = 1 / 128 + 1 / 9
    assert check.separable_ratio(right) is True
    assert "1/128 + 1/9" in capsys.readouterr().out
    assert check.separable_ratio(round(right, 4)) is True
    capsys.readouterr()
    assert check.separable_ratio(1 / right) is False
    assert "Upside down" in capsys.readouterr().out
    assert check.separable_ratio(100 * right) is False
    assert "percentage" in capsys.readouterr().out
    assert check.separable_ratio(1 / 64 + 1 / 9) is False
    assert "not 64" in capsys.readouterr().out
    assert check.separable_ratio(1 / 128) is False
    assert "depthwise part alone" in capsys.readouterr().out
    assert check.separable_ratio(1 / 9) is False
    assert "1x1 part alone" in capsys.readouterr().out
    assert check.separable_ratio(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.separable_ratio(0.5) is False
    assert "Divide the sum" in capsys.readouterr().out
    # agrees with nn.Conv2d counts for other sizes
    for c_in, c_out, k in [(32, 32, 3), (16, 256, 5), (8, 24, 7)]:
        ordinary = nn.Conv2d(c_in, c_out, k, bias=False).weight.numel()
        separable = (nn.Conv2d(c_in, c_in, k, groups=c_in, bias=False).weight.numel()
                     + nn.Conv2d(c_in, c_out, 1, bias=False).weight.numel())
        assert separable / ordinary == pytest.approx(1 / c_out + 1 / k**2)
        assert check.separable_ratio(1 / c_out + 1 / k**2, c_in, c_out, k) is True


def test_conv_macs(capsys):
    out = (56 + 2 - 3) // 2 + 1
    assert out == 28
    right = out * out * 3 * 3 * 64 * 128
    assert check.conv_macs(right) is True
    assert "✔" in capsys.readouterr().out
    assert check.conv_macs(2 * right) is False
    assert "FLOPs" in capsys.readouterr().out
    assert check.conv_macs(56 * 56 * 3 * 3 * 64 * 128) is False
    assert "output* pixel" in capsys.readouterr().out
    assert check.conv_macs(3 * 3 * 64 * 128) is False
    assert "one output pixel" in capsys.readouterr().out
    assert check.conv_macs(right + out * out * 128) is False
    assert "bias" in capsys.readouterr().out
    assert check.conv_macs(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.conv_macs(5) is False
    assert "H_out*W_out*K*K*C_in*C_out" in capsys.readouterr().out
    assert check.conv_macs(10 * 10 * 25 * 6 * 16, 6, 16, 5, 1, 0, 14) is True  # LeNet's second convolution


def test_activation_bytes(capsys):
    right = 64 * 224 * 224 * 4
    assert check.activation_bytes(right) is True
    assert "12.8 MB" in capsys.readouterr().out
    assert check.activation_bytes(64 * 224 * 224) is False
    assert "4 bytes" in capsys.readouterr().out
    assert check.activation_bytes(64 * 224 * 224 * 32) is False
    assert "bits" in capsys.readouterr().out
    assert check.activation_bytes(12.85) is False
    assert "megabytes" in capsys.readouterr().out
    assert check.activation_bytes(right / 2**20) is False
    assert "megabytes" in capsys.readouterr().out
    assert check.activation_bytes(3 * 224 * 224 * 4) is False
    assert "input image" in capsys.readouterr().out
    assert check.activation_bytes(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.activation_bytes(7) is False
    assert "64*224*224" in capsys.readouterr().out
