"""Exercise checks for notebook 08, DenseNet."""

from __future__ import annotations

from typing import Any

import torch

from ..inspect import count_params
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
