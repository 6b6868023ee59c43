"""Checks of notebook 05: an Inception block's channels and a factorized convolution's weights."""

import numpy as np
import pytest
import torch

import coursekit as ck
from coursekit import check
from tests.helpers import assert_verdict, case

# The block of exercise 05.1: Inception(832, 384, (192, 384), (48, 128), 128).
BLOCK = dict(in_channels=832, c1=384, c2=(192, 384), c3=(48, 128), c4=128)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(384 + 384 + 128 + 128, True, "384 + 384 + 128 + 128 = 1024 channels", **BLOCK),
    case("1024", True, "Right", **BLOCK),
    case(np.int16(1024), True, "Right", **BLOCK),
    case(torch.tensor(1024.0), True, "Right", **BLOCK),
    case(384 + 192 + 384 + 48 + 128 + 128, False, "reduction channels", **BLOCK),
    case(384 + 384 + 128, False, "max-pool branch", **BLOCK),
    case(384 + 384 + 128 + 832, False, "maps them to c4", **BLOCK),
    case(832 + 1024, False, "does not keep its input", **BLOCK),
    case(3, False, "Not quite (you said 3). The block concatenates the outputs of its four branches", **BLOCK),
    case(None, None, "replace None with an int, the number of channels the block outputs", **BLOCK),
    case((1024,), False, "you gave a tuple (1024,)", **BLOCK),
    case([384, 384, 128, 128], False, "you gave a list", **BLOCK),
    # the first block of GoogLeNet itself
    case(64 + 128 + 32 + 32, True, "Right", in_channels=192, c1=64, c2=(96, 128), c3=(16, 32), c4=32),
])
def test_inception_out_channels(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch05_googlenet.inception_out_channels(answer, **settings), verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(2 * 9 * 64 * 64, True, "28% fewer"),
    case("73,728", True, "Right"),
    case(np.int64(2 * 9 * 64 * 64), True, "Right"),
    case(torch.tensor(2 * 9 * 64 * 64), True, "Right"),
    case(25 * 64 * 64, False, "single 5x5"),
    case(9 * 64 * 64, False, "you need 2 of them"),
    case(1, False, "Not quite (you said 1). Each 3x3 layer adds 2 pixels to the receptive field, so 5x5 needs"),
    case(None, None, "replace None with an int, the weights of the stack of 3x3 convolutions"),
    case([9, 64, 64], False, "you gave a list"),
    case(3 * 9 * 32 * 32, True, "Right", channels=32, kernel_size=7),
])
def test_factorized_conv_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch05_googlenet.factorized_conv_parameters(answer, **settings), verdict, hint)


@pytest.mark.parametrize("kernel_size", [1, 4])
def test_factorized_conv_parameters_rejects_an_impossible_exercise(kernel_size):
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        check.ch05_googlenet.factorized_conv_parameters(1, kernel_size=kernel_size)


def test_the_new_blocks_answers_follow_the_formulas():
    assert ck.exercise("05.1").right_answer() == 176 + 304 + 96 + 80  # the last layer of each branch
    assert ck.exercise("05.2").right_answer() == 3 * 3 * 3 * 96 * 96  # three bias-free 3x3 layers see 7x7
