"""Checks of notebook 00: the output shape of a convolution, the new exercises' answers, corr2d's reference."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import coursekit as ck
from coursekit import check
from tests.helpers import assert_verdict, case, conv_params


def side(n, k, s, p, d):
    """floor((n + 2p - d(k - 1) - 1) / s) + 1, the formula of the notes."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# The exercise: input (20, 16, 50, 100), 33 channels out, kernel (3, 5), stride (2, 1), padding (4, 2), dilation (3, 1).
H, W = side(50, 3, 2, 4, 3), side(100, 5, 1, 2, 1)
RIGHT = (20, 33, H, W)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(RIGHT, True, "Right: (20, 33, 26, 100)"),
    case(list(RIGHT), True, "Right"),
    case(torch.Size(RIGHT), True, "Right"),
    case(torch.tensor(RIGHT), True, "Right"),
    case(np.array(RIGHT), True, "Right"),
    case(str(RIGHT), True, "Right"),
    case((20, 33, side(50, 3, 2, 4, 1), side(100, 5, 1, 2, 1)), False, "left out the dilation"),
    case((20, 33, side(50, 3, 2, 0, 3), side(100, 5, 1, 0, 1)), False, "left out the padding"),
    case((20, 16, H, W), False, "channel count becomes out_channels"),
    case((20, 33, W, H), False, "Height and width are swapped"),
    case((H, W), False, "Give all four dimensions (N, C, H, W); you gave 2."),
    case((1, 2, 3, 4), False, "Not quite (you said (1, 2, 3, 4))"),
    case(None, None, "replace None with a tuple (N, C, H, W), the shape of the output"),
    case(7, False, "a tuple of ints, like (20, 16, 50, 100)); you gave 7."),
    case("hello", False, "you gave the text 'hello'"),
    case(torch.tensor(26), False, "you gave a tensor of shape ()"),
    case((20, 33, 26.5, 100), False, "you gave a tuple"),
    # int settings work too: a 3x3 convolution with padding 1 keeps the size
    case((1, 8, 32, 32), True, "Right", input_shape=(1, 3, 32, 32), out_channels=8, kernel_size=3, stride=1,
         padding=1, dilation=1),
])
def test_conv2d_output_shape(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch00_building_blocks.conv2d_output_shape(answer, **settings), verdict, hint)


def test_the_answers_of_the_new_exercises_follow_the_formulas():
    assert ck.exercise("00.2").right_answer() == conv_params(3, 64, 64, groups=64) + conv_params(1, 64, 64)
    assert ck.exercise("00.3").right_answer() == 4 * (20 * 10 + 20 * 20 + 2 * 20)  # four gates, two biases each
    # f = 0.1 x1^2 + 2 x2^2: the steep curvature is 4, and a step multiplies x2 by 1 - 4 lr, which is -1 at lr 0.5
    assert ck.exercise("00.4").right_answer() == pytest.approx(0.5)


@pytest.mark.parametrize("h, w, kh, kw, padding, stride", [(6, 7, 3, 2, 1, 1), (9, 5, 4, 1, 0, 2), (3, 3, 3, 3, 2, 3)])
def test_the_corr2d_reference_is_conv2d(h, w, kh, kw, padding, stride):
    X, K = torch.randn(h, w), torch.randn(kh, kw)
    want = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    torch.testing.assert_close(check.ch00_building_blocks.corr2d_reference(X, K, padding, stride), want)
