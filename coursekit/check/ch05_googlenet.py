"""Exercise checks for notebook 05, GoogLeNet."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def inception_out_channels(answer: Any, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                           c4: int) -> Verdict:
    """Exercise 05.1: the output channels of ``Inception(in_channels, c1, c2, c3, c4)``."""
    from ..models import Inception

    expected = output_shape(Inception(in_channels, c1, c2, c3, c4), (1, in_channels, 4, 4))[1]
    return judge(
        answer, "int", expected,
        what="an int, the number of channels the block outputs",
        right=f"{c1} + {c2[1]} + {c3[1]} + {c4} = {expected} channels; only the last layer of each branch reaches "
              "the concatenation.",
        slips=[
            Slip(c1 + sum(c2) + sum(c3) + c4, "You added the 1x1 reduction channels too: they feed the 3x3 and 5x5 "
                 "convolutions inside their branch and never reach the output."),
            Slip(c1 + c2[1] + c3[1], "Three branches out of four: the max-pool branch ends in a 1x1 convolution "
                 "with c4 channels, and those are concatenated too."),
            Slip(c1 + c2[1] + c3[1] + in_channels, "The pooling keeps the input's channels, but the 1x1 convolution "
                 "after it maps them to c4 before the concatenation."),
            Slip(in_channels + expected, "An Inception block does not keep its input (that is ResNet and DenseNet, "
                 "later): only the four branches are concatenated."),
        ],
        otherwise="The block concatenates the outputs of its four branches along the channel axis; add up the "
                  "output channels of the last layer of each branch.",
    )


def factorized_conv_parameters(answer: Any, channels: int = 64, kernel_size: int = 5) -> Verdict:
    """Exercise 05.3: parameters of a ``kernel_size`` convolution (channels -> channels, no bias)
    replaced by a stack of 3x3 ones with the same receptive field."""
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and at least 3, got {kernel_size}.")
    n = (kernel_size - 1) // 2  # each 3x3 adds 2 to the receptive field
    stack = nn.Sequential(*[nn.Conv2d(channels, channels, 3, bias=False) for _ in range(n)])
    single = count_params(nn.Conv2d(channels, channels, kernel_size, bias=False)).total
    expected = count_params(stack).total
    return judge(
        answer, "int", expected,
        what="an int, the weights of the stack of 3x3 convolutions",
        right=f"{n} stacked 3x3 convolutions, {expected:,} weights against {single:,} for one "
              f"{kernel_size}x{kernel_size}: {1 - expected / single:.0%} fewer, with an extra nonlinearity in "
              "between.",
        slips=[
            Slip(single, f"That is the single {kernel_size}x{kernel_size} convolution; count the 3x3 stack."),
            Slip(count_params(stack[0]).total, f"One 3x3 convolution sees 3x3 pixels; you need {n} of them to see "
                 f"{kernel_size}x{kernel_size} (each adds 2 to the receptive field)."),
        ],
        otherwise=f"Each 3x3 layer adds 2 pixels to the receptive field, so {kernel_size}x{kernel_size} needs "
                  "(k - 1) / 2 of them, each with 3*3*C*C weights.",
    )
