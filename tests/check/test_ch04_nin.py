"""Checks of notebook 04: what a 1x1 bottleneck saves."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case, conv_params

DIRECT = conv_params(3, 256, 256)
NARROW = conv_params(1, 256, 32) + conv_params(3, 32, 32) + conv_params(1, 32, 256)
NO_BIAS = (conv_params(3, 256, 256, bias=False) - conv_params(1, 256, 32, bias=False)
           - conv_params(3, 32, 32, bias=False) - conv_params(1, 32, 256, bias=False))
WIDE = conv_params(5, 64, 64) - (conv_params(1, 64, 16) + conv_params(5, 16, 16) + conv_params(1, 16, 64))


def test_the_figures_of_the_lecture_notes():
    assert (DIRECT, NARROW) == (590080, 25920)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(DIRECT - NARROW, True, f"{DIRECT:,} - {NARROW:,} = {DIRECT - NARROW:,} parameters saved"),
    case(str(DIRECT - NARROW), True, "Right"),
    case(np.int64(DIRECT - NARROW), True, "Right"),
    case(torch.tensor(DIRECT - NARROW), True, "Right"),
    case(NARROW - DIRECT, False, "wrong sign"),
    case(DIRECT, False, "direct convolution's count alone"),
    case(NARROW, False, "how many it saves"),
    case(NO_BIAS, False, "left out the biases"),
    case(7, False, "Not quite (you said 7). A convolution has (k*k*c_in + 1)*c_out"),
    case(None, None, "replace None with an int, the parameters of the single convolution"),
    case("lots", False, "you gave the text 'lots'"),
    case([DIRECT, NARROW], False, "you gave a list"),
    case(WIDE, True, "Right", channels=64, bottleneck=16, kernel_size=5),
])
def test_bottleneck_parameters_saved(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch04_nin.bottleneck_parameters_saved(answer, **settings), verdict, hint)


LINEAR = 384 * 5 * 5 * 10 + 10
LAST_BLOCK_GROWTH = (conv_params(3, 384, 384) + 2 * conv_params(1, 384, 384)
                     - conv_params(3, 384, 10) - 2 * conv_params(1, 10, 10))


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(LINEAR + LAST_BLOCK_GROWTH, True, f"the Linear layer brings {LINEAR:,}"),
    case(LINEAR, False, "Linear layer alone"),
    case(LAST_BLOCK_GROWTH, False, "add the Linear layer"),
    case(None, None, "not answered yet"),
])
def test_alexnet_head_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch04_nin.alexnet_head_parameters(answer), verdict, hint)

