"""Checks of chapter 08 (DenseNet): right answers pass, typical slips get their own hint."""

import pytest

from coursekit import check


def conv3(c_in, c_out, bias=True):
    return (9 * c_in + bias) * c_out


def test_dense_transition_channels(capsys):
    # DenseNet-BC-100's first block: 24 channels in, 16 layers of growth rate 12, then a halving transition.
    assert check.dense_transition_channels((24 + 16 * 12) // 2) is True
    assert "216" in capsys.readouterr().out
    assert check.dense_transition_channels(24 + 16 * 12) is False
    assert "halves the channels" in capsys.readouterr().out
    for only_new in (16 * 12, 16 * 12 // 2):
        assert check.dense_transition_channels(only_new) is False
        assert "only the new channels" in capsys.readouterr().out
    assert check.dense_transition_channels(24 + 16 * 12 // 2) is False
    assert "block's input included" in capsys.readouterr().out
    assert check.dense_transition_channels(24 + 15 * 12) is False
    assert "One layer short" in capsys.readouterr().out
    assert check.dense_transition_channels(24 + 12) is False
    assert "per layer" in capsys.readouterr().out
    assert check.dense_transition_channels(2 * (24 + 16 * 12)) is False
    assert "reduces the channels" in capsys.readouterr().out
    assert check.dense_transition_channels(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.dense_transition_channels(7) is False
    assert "in_channels + num_convs * growth_rate" in capsys.readouterr().out


def test_dense_transition_channels_agrees_with_the_course_network(capsys):
    # d2l's DenseNet: 64 -> 192 -> 96 -> 224 -> 112 (the docstring of ck.models.densenet)
    assert check.dense_transition_channels(96, in_channels=64, num_convs=4, growth_rate=32) is True
    assert check.dense_transition_channels(112, in_channels=96, num_convs=4, growth_rate=32) is True
    # an odd count rounds down, like transition_block(c, c // 2)
    assert check.dense_transition_channels(7, in_channels=3, num_convs=2, growth_rate=6) is True
    with pytest.raises(ValueError):
        check.dense_transition_channels(1, growth_rate=0)


def test_dense_block_parameters(capsys):
    # 3 layers of growth rate 8 on 16 channels: inputs of 16, 24 and 32 channels
    inputs = [16, 24, 32]
    right = sum(2 * c + conv3(c, 8) for c in inputs)
    assert right == 5352
    assert check.dense_block_parameters(right) is True
    assert "16, 24, 32" in capsys.readouterr().out
    assert check.dense_block_parameters(sum(conv3(c, 8) for c in inputs)) is False
    assert "convolutions only" in capsys.readouterr().out
    assert check.dense_block_parameters(sum(4 * c + conv3(c, 8) for c in inputs)) is False
    assert "buffers" in capsys.readouterr().out
    assert check.dense_block_parameters(sum(2 * c + conv3(c, 8, bias=False) for c in inputs)) is False
    assert "biases" in capsys.readouterr().out
    assert check.dense_block_parameters(3 * (2 * 16 + conv3(16, 8))) is False
    assert "more channels than the one before" in capsys.readouterr().out
    assert check.dense_block_parameters(sum(2 * c + conv3(c, 8) for c in (24, 32, 40))) is False
    assert "One step ahead" in capsys.readouterr().out
    assert check.dense_block_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.dense_block_parameters(1) is False
    assert "add the layers up" in capsys.readouterr().out


def test_dense_block_parameters_agrees_with_the_course_network(capsys):
    # the first dense block of d2l's DenseNet: 130,048 parameters (ck.inspect.layer_shapes shows it too)
    inputs = [64, 96, 128, 160]
    assert check.dense_block_parameters(sum(2 * c + conv3(c, 32) for c in inputs),
                                        num_convs=4, in_channels=64, growth_rate=32) is True
    assert "✔" in capsys.readouterr().out
    with pytest.raises(ValueError):
        check.dense_block_parameters(1, num_convs=-1)
