"""Checks of notebook 02: AlexNet's flattened features, the share of its fully connected layers, dropout."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case, conv_params, linear_params


def last_side(size):
    """The side of the last feature maps: floor((n + 2p - k) / s) + 1 through every convolution and pooling."""
    for k, s, p in ((11, 4, 1), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)):
        size = (size + 2 * p - k) // s + 1
    return size


SIDE = last_side(256)
FEATURES = 256 * SIDE * SIDE
AT_224 = 256 * last_side(224) ** 2


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(FEATURES, True, f"256 channels of {SIDE}x{SIDE} maps"),
    case(str(FEATURES), True, "Right"),
    case(np.int32(FEATURES), True, "Right"),
    case(torch.tensor([FEATURES]), True, "Right"),
    case(torch.tensor(FEATURES), True, "Right"),
    case(AT_224, False, "count for 224x224 inputs"),
    case(SIDE * SIDE, False, "the last convolution has 256 of them"),
    case(256 * SIDE, False, "height *and* the width"),
    case(1000, False, "Not quite (you said 1,000). Apply floor((n + 2p - k) / s) + 1"),
    case(None, None, "replace None with an int, the length of the flattened feature vector"),
    case((256, SIDE, SIDE), False, "you gave a tuple"),
    case([256, SIDE, SIDE], False, "you gave a list"),
    case(AT_224, True, "Right", size=224),
])
def test_alexnet_flatten_features(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch02_alexnet.alexnet_flatten_features(answer, **settings), verdict, hint)


FC = linear_params(6400, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
CONVS = (conv_params(11, 1, 96) + conv_params(5, 96, 256) + conv_params(3, 256, 384) + conv_params(3, 384, 384)
         + conv_params(3, 384, 256))
SHARE = FC / (FC + CONVS)


@pytest.mark.parametrize("answer, verdict, hint", [
    (SHARE, True, f"{FC:,} of {FC + CONVS:,} parameters"),
    (round(SHARE, 2), True, "Right"),
    (str(round(SHARE, 2)), True, "Right"),
    (np.float64(SHARE), True, "Right"),
    (torch.tensor(SHARE), True, "Right"),
    (round(100 * SHARE, 1), False, "That is a percentage"),
    (round(1 - SHARE, 2), False, "share of the convolutions"),
    (0.05, False, "share of the *arithmetic*"),
    (0.5, False, "Not quite (you said 0.5). Replace the first nn.Linear"),
    ("0.5", False, "Not quite (you said 0.5)"),
    ("92%", False, "you gave the text '92%'"),
    ([SHARE], False, "you gave a list"),
    (None, None, "replace None with a float between 0 and 1"),
])
def test_alexnet_fc_share(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch02_alexnet.alexnet_fc_share(answer, size=224), verdict, hint)


FC_256 = linear_params(FEATURES, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
SHARE_256 = FC_256 / (FC_256 + CONVS)


@pytest.mark.parametrize("answer, verdict, hint", [
    (SHARE_256, True, f"{FC_256:,} of {FC_256 + CONVS:,} parameters"),
    (round(SHARE_256, 3), True, "grew with the 256x256 maps"),
    (SHARE, False, "That is the share at 224x224"),
    (1 - SHARE_256, False, "share of the convolutions"),
    (None, None, "not answered yet"),
])
def test_alexnet_fc_share_at_256(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch02_alexnet.alexnet_fc_share(answer), verdict, hint)


def test_dropout_reference_is_dropout():
    torch.manual_seed(0)
    X = torch.randn(200, 200)
    for p in (0.0, 0.3, 0.9):
        out = check.ch02_alexnet.dropout_layer(X, p)
        kept = out != 0
        assert torch.allclose(out[kept], X[kept] / (1 - p))
        assert abs((~kept).float().mean().item() - p) < 0.01
    assert torch.equal(check.ch02_alexnet.dropout_layer(X, 1.0), torch.zeros_like(X))
    # torch's own dropout passes the check, so the check judges dropout, not one implementation of it
    assert check.ch02_alexnet.check_dropout(torch.nn.functional.dropout).correct
