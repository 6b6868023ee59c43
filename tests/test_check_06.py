"""Checks of chapter 06 (batch normalization): right answers, typical slips, wrong answers, None."""

import math

import pytest
from torch import nn

import coursekit as ck
from coursekit import check


def count(net):
    return sum(p.numel() for p in net.parameters())


def test_batch_norm_eval_output(capsys):
    # y = gamma * (x - mean) / sqrt(var + eps) + beta with the defaults x=5, mean=3, var=4, gamma=3, beta=0.5
    right = 3 * (5 - 3) / math.sqrt(4 + 1e-5) + 0.5
    assert check.batch_norm_eval_output(right) is True
    assert "✔" in capsys.readouterr().out
    assert check.batch_norm_eval_output(3.5) is True  # eps is far below the tolerance
    capsys.readouterr()
    for slip, hint in [(3 * 2 / 4 + 0.5, "variance"), (2 / 2, "x_hat"), (3 * 2 / 2, "add the shift beta"),
                       (2 / 2 + 0.5, "scale x_hat by gamma"), (0.5, "its own statistics"),
                       (3 * 5 / 2 + 0.5, "Subtract the running mean"), ((3 * 5 + 0.5 - 3) / 2, "reversed")]:
        assert check.batch_norm_eval_output(slip) is False
        assert hint in capsys.readouterr().out, slip
    assert check.batch_norm_eval_output(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.batch_norm_eval_output(-7) is False
    assert "Not quite" in capsys.readouterr().out
    assert check.batch_norm_eval_output("3.5?") is False
    assert "as a single number" in capsys.readouterr().out
    # other numbers: computed, not remembered
    assert check.batch_norm_eval_output(2 * (1 - 2) / math.sqrt(9) - 1, x=1, running_mean=2, running_var=9,
                                        gamma=2, beta=-1) is True


def test_bn_lenet_added_parameters(capsys):
    features = 6 + 16 + 120 + 84  # the outputs of the two convolutions and the two hidden Linear layers
    assert check.bn_lenet_added_parameters(2 * features) is True
    assert "✔" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(features) is False
    assert "gamma and the shift beta" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(4 * features) is False
    assert "buffers" in capsys.readouterr().out
    per_pixel = 2 * (6 * 24 * 24 + 16 * 8 * 8 + 120 + 84)
    assert check.bn_lenet_added_parameters(per_pixel) is False
    assert "per *channel*" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(count(ck.models.bn_lenet())) is False
    assert "whole BN-LeNet" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(count(ck.models.bn_lenet()) - count(ck.models.lenet())) is False
    assert "pads its first convolution" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.bn_lenet_added_parameters(3) is False
    assert "Not quite" in capsys.readouterr().out
    # agrees with the from-scratch network, whose gamma and beta are the only parameters its BatchNorms have
    scratch = ck.models.bn_lenet_scratch()
    bn = sum(p.numel() for m in scratch if isinstance(m, ck.models.BatchNorm) for p in m.parameters())
    assert bn == 2 * features


def test_bn_lenet_buffers(capsys):
    features = 6 + 16 + 120 + 84
    assert check.bn_lenet_buffers(2 * features + 4) is True
    assert "num_batches_tracked counter" in capsys.readouterr().out
    assert check.bn_lenet_buffers(2 * features) is False
    assert "one more buffer" in capsys.readouterr().out
    assert check.bn_lenet_buffers(12) is False
    assert "buffer tensors" in capsys.readouterr().out
    assert check.bn_lenet_buffers(features) is False
    assert "two statistics per channel" in capsys.readouterr().out
    assert check.bn_lenet_buffers(2 * features) is False  # the learnable parameters, same number
    capsys.readouterr()
    assert check.bn_lenet_buffers(count(ck.models.bn_lenet())) is False
    assert "learnable parameters" in capsys.readouterr().out
    assert check.bn_lenet_buffers(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.bn_lenet_buffers(1000) is False
    assert "Not quite" in capsys.readouterr().out
    # the scratch layers hold only the two statistics
    assert sum(b.numel() for b in ck.models.bn_lenet_scratch().buffers()) == 2 * features


def test_moving_mean_after(capsys):
    right = 3 * (1 - 0.9**10)
    assert check.moving_mean_after(right) is True
    assert "✔" in capsys.readouterr().out
    assert check.moving_mean_after(round(right, 2)) is True  # an answer rounded to two decimals is fine
    capsys.readouterr()
    assert check.moving_mean_after(3.0) is False
    assert "old d2l convention" in capsys.readouterr().out
    assert check.moving_mean_after(3 * 0.9**10) is False
    assert "weight left on the *start*" in capsys.readouterr().out
    assert check.moving_mean_after(0.3) is False
    assert "after one batch" in capsys.readouterr().out
    assert check.moving_mean_after(3 * 0.1 * 4, steps=4) is False
    assert "not additive" in capsys.readouterr().out
    assert check.moving_mean_after(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.moving_mean_after(1.0) is False
    assert "Not quite" in capsys.readouterr().out
    assert check.moving_mean_after(-2 * (1 - 0.5**3), steps=3, momentum=0.5, batch_mean=-2) is True


@pytest.mark.parametrize("name", ["bn_lenet", "bn_lenet_scratch"])
def test_without_batch_norm_keeps_everything_else(name):
    from coursekit.check._batch_norm import _without_batch_norm

    net = ck.models.get_model(name)
    plain = _without_batch_norm(net)
    assert len(plain) == len(net)
    assert sum(isinstance(m, nn.Identity) for m in plain) == 4
    assert count(net) - count(plain) == 452
