"""Exercise checks for notebook 08, DenseNet."""

from __future__ import annotations

from typing import Any

import torch

from .. import models
from ..inspect import count_params
from .code import Attempt, Mistake, judge_code, same_number
from .exercise import Exercise
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def _positive_ints(**values: int) -> None:
    """Reject exercise settings that build no network (a wrong answer never gets here: only the teacher's)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")


def dense_transition_channels(answer: Any, in_channels: int = 24, num_convs: int = 16,
                              growth_rate: int = 12) -> Verdict:
    """Exercise 08.1: the channels coming out of ``DenseBlock(num_convs, in_channels, growth_rate)``
    followed by a transition layer that halves them (the defaults: DenseNet-BC-100's first block)."""
    _positive_ints(in_channels=in_channels, num_convs=num_convs, growth_rate=growth_rate)
    from ..models import DenseBlock, transition_block

    with torch.device("meta"):  # shapes only, nothing allocated or computed
        dense = output_shape(DenseBlock(num_convs, in_channels, growth_rate), (1, in_channels, 2, 2))[1]
        expected = output_shape(transition_block(dense, dense // 2), (1, dense, 2, 2))[1]
    new = num_convs * growth_rate
    off_by_one = in_channels + (num_convs - 1) * growth_rate
    only_new = ("You counted only the new channels: a dense block keeps its input and concatenates the "
                f"{num_convs} layers' outputs to it, so the {in_channels} input channels are still there.")
    one_short = (f"One layer short: each of the {num_convs} layers adds {growth_rate} channels (the first layer's "
                 "input is the block's input, and its output is new).")
    per_layer = (f"Every layer adds {growth_rate} channels, not just the block as a whole: the growth rate is per "
                 f"layer, so the block adds {num_convs} * {growth_rate}.")
    return judge(
        answer, "int", expected,
        what="an int, the channels after the dense block and its transition layer",
        right=f"the block outputs {in_channels} + {num_convs} * {growth_rate} = {dense} channels, and the "
              f"transition's 1x1 convolution halves them to {expected}.",
        slips=[
            Slip(dense, f"{dense} is what the dense block outputs; the transition layer's 1x1 convolution then "
                 "halves the channels."),
            Slip(new, only_new),
            Slip(new // 2, only_new),
            Slip(in_channels + new // 2, "The transition halves all the channels, the block's input included, not "
                 "only the new ones."),
            Slip(off_by_one, one_short),
            Slip(off_by_one // 2, one_short),
            Slip(in_channels + growth_rate, per_layer),
            Slip((in_channels + growth_rate) // 2, per_layer),
            Slip(2 * dense, "The transition layer reduces the channels (1x1 convolution to half as many); it halves "
                 "the height and width too."),
        ],
        otherwise="A dense block outputs in_channels + num_convs * growth_rate channels; the transition layer keeps "
                  "half of them.",
    )


def dense_block_parameters(answer: Any, num_convs: int = 3, in_channels: int = 16, growth_rate: int = 8) -> Verdict:
    """Exercise 08.2: the parameters of d2l's ``DenseBlock(num_convs, in_channels, growth_rate)``
    (each layer: BatchNorm, ReLU, 3x3 convolution with bias)."""
    _positive_ints(in_channels=in_channels, num_convs=num_convs, growth_rate=growth_rate)
    from ..models import DenseBlock

    expected = count_params(DenseBlock(num_convs, in_channels, growth_rate)).total
    inputs = [in_channels + i * growth_rate for i in range(num_convs)]
    bn = sum(2 * c for c in inputs)

    def layers(channels: list[int]) -> int:
        """The parameters of layers with these input channels: BatchNorm and a 3x3 convolution with bias."""
        return sum(2 * c + (9 * c + 1) * growth_rate for c in channels)

    return judge(
        answer, "int", expected,
        what="an int, the number of parameters of the dense block",
        right=f"{expected:,}. Layer i sees {', '.join(map(str, inputs))} channels in turn; each has a BatchNorm (2 "
              f"per input channel: {bn:,} in all) and a 3x3 convolution to {growth_rate} channels, (9 * c_i + 1) * "
              f"{growth_rate}. The concatenation itself has no parameters.",
        slips=[
            Slip(expected - bn, "You counted the convolutions only: every layer starts with a BatchNorm, which has a "
                 "scale and a shift per input channel."),
            Slip(expected + bn, "The BatchNorm's running mean and variance are buffers, not parameters: count 2 per "
                 "channel (scale and shift), not 4."),
            Slip(expected - num_convs * growth_rate, "Close: add the convolutions' biases, one per output channel of "
                 "each layer."),
            Slip(layers([in_channels] * num_convs), "Each layer sees more channels than the one before: layer i's "
                 f"input is the block's input plus the i earlier outputs, {in_channels} + i * {growth_rate}."),
            Slip(layers([c + growth_rate for c in inputs]), f"One step ahead: the first layer sees only the block's "
                 f"{in_channels} input channels, the second one adds the first layer's output, and so on."),
        ],
        otherwise="Layer i (from 0) sees c_i = in_channels + i * growth_rate channels and has 2 * c_i BatchNorm "
                  "parameters plus (9 * c_i + 1) * growth_rate for its convolution; add the layers up.",
    )


def transition_channels_answer(in_channels: int = 24, num_convs: int = 16, growth_rate: int = 12) -> int:
    """The right answer of 08.1: channels after ``DenseBlock(num_convs, in_channels, growth_rate)`` and its
    halving transition, read from the built block."""
    dense = models.DenseBlock(num_convs, in_channels, growth_rate).out_channels
    return dense // 2


# --- 08.6: a DenseNet's output channels as a function ---------------------------------------------------


def densenet_out_channels(num_channels: int, growth_rate: int, arch: tuple[int, ...]) -> int:
    """The channels of DenseNet's last feature map (what its Linear layer receives): ``num_channels`` out of the
    stem, dense blocks of ``arch[i]`` layers adding ``growth_rate`` channels each, a transition halving the
    channels after every block but the last."""
    channels = num_channels
    for i, num_convs in enumerate(arch):
        channels += num_convs * growth_rate       # every layer concatenates growth_rate new channels
        if i < len(arch) - 1:
            channels //= 2                        # the transition's 1x1 convolution halves them
    return channels


# (num_channels, growth_rate, arch): DenseNet-BC-100's blocks, a small network, and odd counts that halve unevenly.
DENSENET_TRIALS = [(24, 12, (16, 16, 16)), (16, 8, (2, 3)), (15, 7, (2, 3, 1))]


def _variant(args: tuple, *, halve_last: bool = False, halve: bool = True, new_only: bool = False,
             per_block: bool = False) -> int:
    """Channels under one of the usual slips of the bookkeeping."""
    channels, growth, arch = args
    for i, num_convs in enumerate(arch):
        new = growth if per_block else num_convs * growth
        last = i == len(arch) - 1
        if halve and (halve_last or not last):
            channels = channels + new // 2 if new_only else (channels + new) // 2
        else:
            channels += new
    return channels


def _gives(a: Attempt, **slip: bool) -> bool:
    return a.got == _variant(a.args, **slip) != a.expected


def check_densenet_out_channels(answer: Any) -> Verdict:
    """Exercise 08.6: the learner's ``densenet_out_channels(num_channels, growth_rate, arch)``."""
    return judge_code(
        answer, densenet_out_channels, DENSENET_TRIALS,
        what="your function densenet_out_channels(num_channels, growth_rate, arch)",
        compare=same_number,
        right="each block adds num_convs * growth_rate channels to what it receives, and each transition but none "
              "after the last block halves the total, rounding down (//).",
        mistakes=[
            Mistake(lambda a: _gives(a, halve=False),
                    "The channels only grow in your count: a transition layer after every block but the last halves "
                    "them with its 1x1 convolution."),
            Mistake(lambda a: _gives(a, halve_last=True),
                    "No transition follows the last block: its output goes to BN, ReLU and global average pooling "
                    "with all its channels."),
            Mistake(lambda a: _gives(a, new_only=True),
                    "The transition halves all the channels of the block's output, the block's input included, not "
                    "only the new ones."),
            Mistake(lambda a: _gives(a, per_block=True),
                    "The growth rate is per layer: a block of num_convs layers adds num_convs * growth_rate channels."),
        ],
        otherwise="Follow the channels block by block; check with ck.models.densenet(num_channels=..., "
                  "growth_rate=..., arch=...)[-1].in_features.",
    )


EX1 = Exercise(
    "08.1", "Channel bookkeeping", "number",
    hint="Each layer of a dense block concatenates growth_rate new channels to everything before it; the "
         "transition's 1x1 convolution then keeps half of the total.",
    check=lambda a: dense_transition_channels(a, in_channels=24, num_convs=16, growth_rate=12),
    answer=transition_channels_answer,
)
EX2 = Exercise(
    "08.2", "Parameters of a dense block", "number",
    hint="Layer i sees in_channels + i * growth_rate channels: a BatchNorm with two parameters per input channel, "
         "then a 3x3 convolution to growth_rate channels with biases. Sum over the layers.",
    check=lambda a: dense_block_parameters(a, num_convs=3, in_channels=16, growth_rate=8),
    answer=lambda: count_params(models.DenseBlock(3, 16, 8)).total,
)
EX3 = Exercise(
    "08.3", "Memory of the concatenations", "open question",
    hint="Split the sum into L copies of c_0 and k times the sum of i for i from 0 to L - 1; then divide by the "
         "output's (c_0 + L k) H W and look at large L.",
    outcome="a closed form quadratic in L, and a ratio to the output that grows roughly linearly with L, like the "
            "ratio column of the memory table.",
    discussion="The inputs hold H W (L c_0 + k L (L - 1) / 2) values: each layer copies everything before it. "
               "Divided by the output's (c_0 + L k) H W, the ratio tends to about (L - 1) / 2 once L k is much "
               "larger than c_0: it grows linearly with the number of layers, so the memory of a block grows with "
               "the square of its depth. This is why DenseNet keeps its blocks short, and why memory-efficient "
               "implementations recompute the concatenations in the backward pass instead of keeping them.",
)
EX4 = Exercise(
    "08.4", "Growth rate", "open question",
    hint="Write the channel table from the stem's 64 with 16 added per layer, and remember that a 3x3 "
         "convolution's weights are proportional to its input channels times its output channels.",
    outcome="the parameter count falls by much more than half; the time per epoch falls too, usually by less. "
            "The change in test accuracy is one observation per run: compare it with the spread between seeds.",
    discussion="Every convolution's weights are (input channels) x (growth rate) x 9, and the input channels "
               "themselves grow by the growth rate per layer, so halving it roughly halves both factors of the "
               "new channels' share: the dense layers' weights fall towards a quarter, the stem and the Linear "
               "layer change little. Time follows the arithmetic only partly: the stem and memory traffic of the "
               "concatenations do not shrink as fast.",
)
EX5 = Exercise(
    "08.5", "Add instead of concatenate", "open question",
    hint="With addition every layer's input keeps the block's input channels: each conv_block then maps "
         "in_channels to in_channels, and the block's output has in_channels channels.",
    outcome="a network that keeps a constant width inside each block (no growth), with fewer or more parameters "
            "depending on the width you choose; the memory kept for backward falls because nothing is "
            "concatenated. Compare the accuracy over a few seeds before concluding.",
    discussion="Adding instead of concatenating turns the dense block into a residual-like block: each layer sees "
               "the sum of the earlier outputs instead of all of them side by side, so later layers can no longer "
               "pick out an early feature map on its own. Its input stays in_channels wide, so the layers must "
               "output in_channels channels, and the cost of the concatenations (copies kept for backward) goes "
               "away.",
)
EX6 = Exercise(
    "08.6", "Write DenseNet's channel count", "code",
    hint="Start from num_channels and walk through arch: what does a block of n layers add, and what does the "
         "layer after each block do to the count? Mind the last block, and use // for whole channels.",
    check=check_densenet_out_channels,
    answer=lambda: densenet_out_channels,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
