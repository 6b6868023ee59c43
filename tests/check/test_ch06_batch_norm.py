"""Checks of notebook 06: batch norm in eval mode, its parameters and buffers, and the running mean."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import check
from coursekit.check.ch06_batch_norm import without_batch_norm
from tests.helpers import assert_verdict, case, count

# y = gamma * (x - mean) / sqrt(var + eps) + beta with the defaults x=5, mean=3, var=4, gamma=3, beta=0.5
RIGHT = 3 * (5 - 3) / math.sqrt(4 + 1e-5) + 0.5


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(RIGHT, True, "In eval mode the layer is a fixed affine map"),
    case(3.5, True, "Right"),  # eps is far below the tolerance
    case("3.5", True, "Right"),
    case(np.float32(3.5), True, "Right"),
    case(torch.tensor([[3.5]]), True, "Right"),
    case(torch.tensor(3.5), True, "Right"),
    case(3 * 2 / 4 + 0.5, False, "divided by the variance"),
    case(2 / 2, False, "standardised value x_hat"),
    case(3 * 2 / 2, False, "add the shift beta"),
    case(2 / 2 + 0.5, False, "scale x_hat by gamma"),
    case(0.5, False, "its own statistics"),
    case(3 * 5 / 2 + 0.5, False, "Subtract the running mean"),
    case((3 * 5 + 0.5 - 3) / 2, False, "The order is reversed"),
    case(-7, False, "Not quite (you said -7). In eval mode y = gamma"),
    case(None, None, "replace None with a float, the layer's output for x"),
    case("3.5?", False, "you gave the text '3.5?'"),
    case(torch.ones(2), False, "you gave a tensor of shape (2,)"),
    case([3.5], False, "you gave a list [3.5]"),
    # other numbers: computed, not remembered
    case(2 * (1 - 2) / math.sqrt(9) - 1, True, "Right", x=1, running_mean=2, running_var=9, gamma=2, beta=-1),
])
def test_batch_norm_eval_output(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch06_batch_norm.batch_norm_eval_output(answer, **settings), verdict, hint)


FEATURES = 6 + 16 + 120 + 84  # the outputs of the two convolutions and the two hidden Linear layers
PER_PIXEL = 2 * (6 * 24 * 24 + 16 * 8 * 8 + 120 + 84)
BN_LENET = count(ck.models.bn_lenet())


@pytest.mark.parametrize("answer, verdict, hint", [
    (2 * FEATURES, True, "for each of the 226 channels and features that are normalised (6 + 16 + 120 + 84)"),
    (str(2 * FEATURES), True, "Right"),
    (np.int64(2 * FEATURES), True, "Right"),
    (torch.tensor(2 * FEATURES), True, "Right"),
    (FEATURES, False, "the scale gamma and the shift beta"),
    (4 * FEATURES, False, "You counted the running mean and variance too"),
    (4 * FEATURES + 4, False, "You counted the running mean and variance too"),
    (PER_PIXEL, False, "per *channel*"),
    (BN_LENET, False, "whole BN-LeNet"),
    (BN_LENET - count(ck.models.lenet()), False, "pads its first convolution"),
    (3, False, "Not quite (you said 3). Each batch-norm layer learns gamma and beta"),
    (None, None, "replace None with an int, the learnable parameters of all batch-norm layers together"),
    ([226, 226], False, "you gave a list"),
])
def test_bn_lenet_added_parameters(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch06_batch_norm.bn_lenet_added_parameters(answer), verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint", [
    (2 * FEATURES + 4, True, "plus one num_batches_tracked counter per layer (4)"),
    ("456", True, "Right"),
    (torch.tensor(456), True, "Right"),
    (np.int64(456), True, "Right"),
    (2 * FEATURES, False, "one more buffer"),  # also the learnable parameters: the closer slip wins
    (12, False, "number of buffer tensors"),
    (FEATURES, False, "two statistics per channel"),
    (FEATURES + 4, False, "two statistics per channel"),
    (BN_LENET, False, "That counts the learnable parameters"),
    (1000, False, "Not quite (you said 1,000). Sum b.numel() over net.buffers()"),
    (None, None, "replace None with an int, the number of values in all the buffers together"),
    (True, False, "you gave True (a bool, not a number)"),
    ([452, 4], False, "you gave a list"),
])
def test_bn_lenet_buffers(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch06_batch_norm.bn_lenet_buffers(answer), verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(3 * (1 - 0.9**10), True, "3 * (1 - (1 - 0.1)^10) = 1.954"),
    case(1.95, True, "Right"),  # an answer rounded to two decimals is fine
    case("1.95", True, "Right"),
    case(np.float64(1.954), True, "Right"),
    case(torch.tensor(1.954), True, "Right"),
    case(3.0, False, "old d2l convention"),
    case(3 * 0.9**10, False, "weight left on the *start*"),
    case(0.3, False, "after one batch"),
    case(3 * 0.1 * 4, False, "not additive", steps=4),
    case(1.0, False, "Not quite (you said 1). Apply running = (1 - momentum) * running"),
    case(None, None, "replace None with a float, the running mean after the last batch"),
    case(float("nan"), False, "you gave nan"),
    case([1.95], False, "you gave a list"),
    case(-2 * (1 - 0.5**3), True, "Right", steps=3, momentum=0.5, batch_mean=-2),
])
def test_moving_mean_after(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch06_batch_norm.moving_mean_after(answer, **settings), verdict, hint)


def test_without_batch_norm_agrees_with_the_from_scratch_network():
    # the from-scratch BatchNorm's only parameters are gamma and beta
    scratch = ck.models.bn_lenet_scratch()
    assert sum(p.numel() for m in scratch if isinstance(m, ck.models.BatchNorm) for p in m.parameters()) == 452
    assert sum(b.numel() for b in scratch.buffers()) == 2 * FEATURES
    for net in (ck.models.bn_lenet(), scratch):
        plain = without_batch_norm(net)
        assert len(plain) == len(net)
        assert sum(isinstance(m, nn.Identity) for m in plain) == 4
        assert count(net) - count(plain) == 2 * FEATURES


@pytest.mark.parametrize("shape, training", [((16, 5), True), ((4, 5, 3, 3), True), ((4, 5, 3, 3), False)])
def test_the_reference_forward_is_pytorchs_batch_norm(shape, training):
    # 06.6's reference (shown by .solution()) must compute what nn.BatchNorm computes, running statistics included.
    from coursekit.check.ch06_batch_norm import batch_norm_forward

    torch.manual_seed(0)
    layer = (nn.BatchNorm1d(5) if len(shape) == 2 else nn.BatchNorm2d(5)).train(training)
    with torch.no_grad():
        for t in (layer.weight, layer.bias, layer.running_mean):
            t.normal_()
        layer.running_var.uniform_(0.5, 2)
    ours = copy.deepcopy(layer)
    X = 3 + 2 * torch.randn(shape)
    torch.testing.assert_close(batch_norm_forward(X, ours), layer(X))
    torch.testing.assert_close(ours.running_mean, layer.running_mean)
    torch.testing.assert_close(ours.running_var, layer.running_var)


def test_the_pair_of_counts_is_judged_in_one_line(capsys):
    from coursekit.check.ch06_batch_norm import bn_lenet_costs, bn_lenet_costs_answer

    right = bn_lenet_costs_answer()
    assert right == (count(ck.models.bn_lenet()) - count(without_batch_norm(ck.models.bn_lenet())),
                     sum(b.numel() for b in ck.models.bn_lenet().buffers()))
    assert bn_lenet_costs(right).correct is True
    assert bn_lenet_costs((right[0], right[1] + 1)).correct is False
    assert bn_lenet_costs(right[0]).correct is False
    assert bn_lenet_costs((right[0], None)).correct is None
    assert [line[0] for line in capsys.readouterr().out.splitlines()] == ["✔", "✘", "✘", "…"]
