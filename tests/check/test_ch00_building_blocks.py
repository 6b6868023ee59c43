"""Checks of notebook 00: the output shape of a convolution."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case


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
