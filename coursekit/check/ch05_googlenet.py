"""Exercise checks for notebook 05, GoogLeNet."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import models
from ..inspect import count_params
from .code import Mistake, judge_code, output_of, same_module
from .exercise import Exercise
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def inception_out_channels(answer: Any, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                           c4: int) -> Verdict:
    """Exercise 05.1: the output channels of ``Inception(in_channels, c1, c2, c3, c4)``."""
    expected = output_shape(models.Inception(in_channels, c1, c2, c3, c4), (1, in_channels, 4, 4))[1]
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


# A block of exercise 05.1 that GoogLeNet does not have, so its answer is on no table of the chapter.
BLOCK = dict(in_channels=640, c1=176, c2=(144, 304), c3=(40, 96), c4=80)
# Exercise 05.2: a 7x7 convolution on 96 channels, not the 5x5 on 64 that the chapter computes.
FACTORED = dict(channels=96, kernel_size=7)


def factorized_stack(channels: int, kernel_size: int) -> nn.Sequential:
    """The stack of (kernel_size - 1) / 2 bias-free 3x3 convolutions with a kernel_size receptive field."""
    return nn.Sequential(*[nn.Conv2d(channels, channels, 3, bias=False) for _ in range((kernel_size - 1) // 2)])


# --- 05.6: write an Inception block ------------------------------------------------------------

# (in_channels, c1, c2, c3, c4): small blocks with odd, unequal widths, so that a mix-up shows.
INCEPTION_TRIALS = [(16, 8, (4, 12), (2, 6), 4), (3, 5, (6, 7), (1, 2), 3)]


def _inception_input(args: tuple) -> torch.Tensor:
    return torch.randn(2, args[0], 9, 9, generator=torch.Generator().manual_seed(0))


def _cat_error(a: Any, dim: str) -> bool:
    return isinstance(a.error, RuntimeError) and f"except in dimension {dim}" in str(a.error)


def check_inception(answer: Any) -> Verdict:
    """Exercise 05.6: the learner's ``Inception(in_channels, c1, c2, c3, c4)`` against ``ck.models.Inception``."""
    return judge_code(
        answer, models.Inception, INCEPTION_TRIALS,
        what="your class Inception",
        compare=same_module(_inception_input),
        right="four branches (1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool then 1x1), each ending in a ReLU and "
              "padded to keep the height and width, concatenated along the channels.",
        mistakes=[
            Mistake(lambda a: _cat_error(a, "1"),
                    "The branches' maps differ in height or width: pad the 3x3 convolution by 1, the 5x5 by 2, and "
                    "give the max-pool stride=1, padding=1, so every branch keeps H x W."),
            Mistake(lambda a: _cat_error(a, "0") or _cat_error(a, "2") or _cat_error(a, "3"),
                    "Concatenate along the channels, torch.cat(..., dim=1); dim 0 is the batch."),
            Mistake(lambda a: output_of(a.got, _inception_input, a.args).shape[1] == sum(
                (a.args[1], a.args[2][1], a.args[3][1], a.args[0])),
                    "The pooling branch keeps the input's channels: follow the max-pool with a 1x1 convolution "
                    "to c4 channels."),
            Mistake(lambda a: output_of(a.got, _inception_input, a.args).shape[0] != 2,
                    "The output's batch size changed: concatenate along the channels, dim=1."),
            Mistake(lambda a: (output_of(a.got, _inception_input, a.args) < 0).any(),
                    "Some outputs are negative: each branch ends with a ReLU (the pooling branch after its 1x1 "
                    "convolution)."),
        ],
        otherwise="Compare your branches with the four listed at the top of the chapter, in that order.",
    )


EX1 = Exercise(
    "05.1", "Output channels of an Inception block", "number",
    hint="Only the last layer of each branch reaches the concatenation. Which of the numbers c2 = (reduce, out) "
         "and c3 = (reduce, out) is that?",
    check=lambda answer: inception_out_channels(answer, **BLOCK),
    answer=lambda: models.Inception(**BLOCK).out_channels,
)
EX2 = Exercise(
    "05.2", "Weights of a factored 7x7 convolution", "number",
    hint="Each 3x3 layer adds 2 to the receptive field: how many do you need to see 7x7? Each has 3*3*C*C "
         "weights without bias.",
    check=lambda answer: factorized_conv_parameters(answer, **FACTORED),
    answer=lambda: count_params(factorized_stack(**FACTORED)).total,
)
EX3 = Exercise(
    "05.3", "The auxiliary classifiers in the layer table", "open question",
    hint="ck.layer_shapes runs the network once to record the shapes. Which mode is the network in then, and "
         "what does GoogLeNet's forward do with the auxiliary heads in that mode?",
    outcome="the table runs the network in eval mode, where the auxiliary heads are skipped, so their rows are "
            "missing while the parameter total, which counts every registered module, includes them.",
    discussion="The auxiliary classifiers are only called in training mode, so a forward pass in eval mode "
               "never reaches them: no rows. count_params goes through all parameters, so the total counts "
               "them. Their inputs are the outputs of blocks 4a and 4d, whose shapes the table "
               "shows. The paper's 7x7 average pooling expects exactly 7x7 maps, i.e. 224x224 images; "
               "nn.AdaptiveAvgPool2d averages whatever size arrives.",
)
EX4 = Exercise(
    "05.4", "An Inception v3 block", "open question",
    hint="Keep block 3a's widths; replace the 5x5 by two 3x3 (the first to the reduction width) and the 3x3 by "
         "3x1 then 1x3, add nn.BatchNorm2d after each convolution, and count with ck.count_params.",
    outcome="the factored block ends up with fewer weights than block 3a for the same widths (the 3x1 + 1x3 "
            "branch saves the most); the BatchNorm layers add only two parameters per channel.",
    discussion="Two 3x3 convolutions replace 25 weights per channel pair with 18, and 3x1 + 1x3 replace 9 with "
               "6, so the factored branches are cheaper; BatchNorm adds a scale and a shift per channel. The "
               "block keeps its output shape, so it can replace 3a in the network as it is.",
)
EX5 = Exercise(
    "05.5", "Width or resolution", "open question",
    hint="Train the laptop recipe twice, once with ratio=2 and once at 96x96, and note the time per epoch and the "
         "final test accuracy of each against the chapter's run.",
    outcome="both changes cost time: doubling the width multiplies the convolutions' arithmetic by about 4, a "
            "96x96 input by (96/64)^2; which one buys more accuracy per second is what your runs show (one run "
            "of each is a single observation).",
    discussion="Width multiplies the arithmetic by the square of the factor (every convolution gets more inputs "
               "and outputs); resolution by the square of the side ratio, and it also keeps more detail of the "
               "28x28 images, which were upsampled anyway. On Fashion-MNIST the extra resolution carries little "
               "new information, so width is often the better use of compute; measure before concluding.",
)
EX6 = Exercise(
    "05.6", "Write an Inception block", "code",
    hint="Six layers in __init__: a 1x1; a 1x1 then a 3x3 (padding 1); a 1x1 then a 5x5 (padding 2); a 3x3 "
         "max-pool with stride 1 and padding 1, then a 1x1. In forward, apply a ReLU after every convolution and "
         "concatenate the four branch outputs.",
    check=check_inception,
    answer=lambda: models.Inception,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
