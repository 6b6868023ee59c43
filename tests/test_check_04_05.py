"""Checks of chapters 04 (NiN) and 05 (GoogLeNet), and the narrow options of their models."""

import pytest
import torch

import coursekit as ck
from coursekit import check


def conv(k, c_in, c_out, bias=True):
    return (k * k * c_in + bias) * c_out


def test_bottleneck_parameters_saved(capsys):
    direct = conv(3, 256, 256)
    narrow = conv(1, 256, 32) + conv(3, 32, 32) + conv(1, 32, 256)
    assert (direct, narrow) == (590080, 25920)  # the figures of the lecture notes
    assert check.bottleneck_parameters_saved(direct - narrow) is True
    assert "✔" in capsys.readouterr().out
    assert check.bottleneck_parameters_saved(narrow - direct) is False
    assert "wrong sign" in capsys.readouterr().out
    assert check.bottleneck_parameters_saved(direct) is False
    assert "direct convolution's count alone" in capsys.readouterr().out
    assert check.bottleneck_parameters_saved(narrow) is False
    assert "how many it saves" in capsys.readouterr().out
    no_bias = conv(3, 256, 256, False) - conv(1, 256, 32, False) - conv(3, 32, 32, False) - conv(1, 32, 256, False)
    assert check.bottleneck_parameters_saved(no_bias) is False
    assert "biases" in capsys.readouterr().out
    assert check.bottleneck_parameters_saved(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.bottleneck_parameters_saved(7) is False
    assert "(k*k*c_in + 1)*c_out" in capsys.readouterr().out
    wide = conv(5, 64, 64) - (conv(1, 64, 16) + conv(5, 16, 16) + conv(1, 16, 64))
    assert check.bottleneck_parameters_saved(wide, channels=64, bottleneck=16, kernel_size=5) is True


def test_inception_out_channels(capsys):
    block = dict(in_channels=832, c1=384, c2=(192, 384), c3=(48, 128), c4=128)
    assert check.inception_out_channels(1024, **block) is True
    assert "✔" in capsys.readouterr().out
    assert check.inception_out_channels(384 + 192 + 384 + 48 + 128 + 128, **block) is False
    assert "reduction channels" in capsys.readouterr().out
    assert check.inception_out_channels(384 + 384 + 128, **block) is False
    assert "max-pool branch" in capsys.readouterr().out
    assert check.inception_out_channels(384 + 384 + 128 + 832, **block) is False
    assert "maps them to c4" in capsys.readouterr().out
    assert check.inception_out_channels(None, **block) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.inception_out_channels(3, **block) is False
    assert "four branches" in capsys.readouterr().out
    # agrees with the block of the network itself
    assert check.inception_out_channels(256, 192, 64, (96, 128), (16, 32), 32) is True


def test_factorized_conv_parameters(capsys):
    assert check.factorized_conv_parameters(2 * 9 * 64 * 64) is True
    assert "28% fewer" in capsys.readouterr().out
    assert check.factorized_conv_parameters(25 * 64 * 64) is False
    assert "single 5x5" in capsys.readouterr().out
    assert check.factorized_conv_parameters(9 * 64 * 64) is False
    assert "you need 2 of them" in capsys.readouterr().out
    assert check.factorized_conv_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.factorized_conv_parameters(1) is False
    assert "(k - 1) / 2" in capsys.readouterr().out
    assert check.factorized_conv_parameters(3 * 9 * 32 * 32, channels=32, kernel_size=7) is True
    with pytest.raises(ValueError):
        check.factorized_conv_parameters(1, kernel_size=4)


def count(net):
    return sum(p.numel() for p in net.parameters())


def test_nin_ratio():
    assert count(ck.models.nin(ratio=1)) == count(ck.models.nin()) == 1_992_166
    narrow = ck.models.nin(ratio=2)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, torch.nn.Conv2d)][::3] == [48, 128, 192, 10]
    assert narrow(torch.zeros(2, 1, 96, 96)).shape == (2, 10)
    with pytest.raises(ValueError):
        ck.models.nin(ratio=0)


def test_googlenet_ratio():
    assert count(ck.models.googlenet(ratio=1)) == count(ck.models.googlenet()) == 5_977_530
    narrow = ck.models.googlenet(ratio=4)
    blocks = [m for m in narrow.modules() if isinstance(m, ck.models.Inception)]
    assert [b.out_channels for b in blocks] == [64, 120, 128, 128, 128, 132, 208, 208, 256]
    assert narrow[-1].in_features == 256
    assert narrow(torch.zeros(2, 1, 64, 64)).shape == (2, 10)
    assert ck.models.googlenet(ratio=64)(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError):
        ck.models.googlenet(ratio=1.5)
