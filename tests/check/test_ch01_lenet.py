"""Checks of notebook 01: the parameters of a widened LeNet."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case, conv_params, d2l_lenet, linear_params

FC = linear_params(400, 120) + linear_params(120, 84) + linear_params(84, 10)
RIGHT = conv_params(5, 1, 16) + conv_params(5, 16, 16) + FC
ORIGINAL = conv_params(5, 1, 6) + conv_params(5, 6, 16) + FC


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(RIGHT, True, f"{RIGHT - ORIGINAL:,} more than LeNet's {ORIGINAL:,}"),
    case(str(RIGHT), True, "Right"),
    case(f"{RIGHT:,}", True, "Right"),
    case(float(RIGHT), True, "Right"),
    case(np.int64(RIGHT), True, "Right"),
    case(torch.tensor(RIGHT), True, "Right"),
    case(ORIGINAL, False, "count of the original LeNet"),
    case(conv_params(5, 1, 16) + conv_params(5, 6, 16) + FC, False, "second convolution changes too"),
    case(1, False, "Not quite (you said 1). Each layer has (k*k*c_in + 1)*c_out"),
    case("123", False, "Not quite (you said 123)"),
    case(RIGHT + 0.5, False, "not a whole number"),
    case([RIGHT], False, "you gave a list"),
    case(None, None, "replace None with an int, the total number of parameters"),
    case(ORIGINAL, True, "Right", first_channels=6),
])
def test_lenet_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch01_lenet.lenet_parameters(answer, **settings), verdict, hint)


@pytest.mark.parametrize("size", [12, 13, 28, 31, 64, 99])
def test_the_flatten_formula_matches_lenet_itself(size):
    features = d2l_lenet()[:7](torch.zeros(1, 1, size, size)).shape[1]  # up to and including Flatten
    assert check.ch01_lenet.lenet_flatten_features(size) == features
