"""Exercise checks for notebook 07, ResNet."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def bottleneck_block_parameters(answer: Any, in_channels: int = 256, width: int = 128, stride: int = 2) -> Verdict:
    """Exercise 07.1: the parameters of ``Bottleneck(in_channels, width, stride)``, shortcut and BN included."""
    from ..models import BasicBlock, Bottleneck

    block = Bottleneck(in_channels, width, stride)
    expected = count_params(block).total
    out_channels = width * Bottleneck.expansion
    shortcut = count_params(block.shortcut).total
    batch_norms = sum(count_params(m).total for m in block.modules() if isinstance(m, nn.BatchNorm2d))
    biases = width + width + out_channels  # one per output channel of the three convolutions
    projection = in_channels * out_channels + 2 * out_channels  # a 1x1 convolution and its BN
    basic = count_params(BasicBlock(in_channels, out_channels, stride)).total
    parts = f"{expected - shortcut:,} in the three convolutions and their BN"
    if shortcut:
        parts += f", {shortcut:,} in the projection shortcut"
    # Only one of the two shortcut slips applies: the block has a projection or it has none.
    shortcut_slip = (
        Slip(expected - shortcut, f"Close: the block also has a projection shortcut, because its input has "
             f"{in_channels} channels and its output {out_channels}" + (f" at stride {stride}" if stride != 1 else "")
             + ": a 1x1 convolution and a BN, to count as well.")
        if shortcut else
        Slip(expected + projection, f"Input and output both have {out_channels} channels and the stride is 1, so "
             "the shortcut is the identity, with no parameters."))
    return judge(
        answer, "int", expected,
        what="an int, the number of parameters of the block",
        right=f"{expected:,} parameters ({parts}). A BasicBlock with {out_channels} channels would need {basic:,}.",
        slips=[
            shortcut_slip,
            Slip(expected - batch_norms, "Close: you left out the batch norms, each with a scale and a shift per "
                 "channel (2 * channels parameters)."),
            Slip(expected + biases, "The convolutions of a Bottleneck have no bias (bias=False): the BN right after "
                 "each one would cancel it. Leave the biases out."),
            Slip(basic, f"That is a BasicBlock (two 3x3 convolutions on {out_channels} channels). The Bottleneck "
                 f"goes {in_channels} -> {width} (1x1) -> {width} (3x3) -> {out_channels} (1x1)."),
        ],
        otherwise=f"Add up the 1x1 ({in_channels} -> {width}), the 3x3 ({width} -> {width}) and the 1x1 ({width} -> "
                  f"{out_channels}) convolutions without bias (k*k*c_in*c_out each), 2 * channels for each BN, and "
                  "the shortcut if the shapes change; or build the block and use "
                  "sum(p.numel() for p in block.parameters()).",
    )


def resnet_stage_output_shape(answer: Any, input_shape: tuple = (1, 256, 7, 7), num_channels: int = 512,
                              num_residuals: int = 2, first_block: bool = False) -> Verdict:
    """Exercise 07.2: the output shape of ``resnet_block(input_shape[1], num_channels, num_residuals,
    first_block)`` on an input of ``input_shape``."""
    from ..models import resnet_block

    stage = resnet_block(input_shape[1], num_channels, num_residuals, first_block=first_block)
    expected = output_shape(stage, input_shape)
    h, w = input_shape[2:]
    how = ("the first block keeps the size (first_block=True)" if first_block else
           "only the first block has stride 2, and a 3x3 convolution with padding 1 at stride 2 gives "
           f"(n - 1) // 2 + 1, so {h} -> {expected[2]}")
    slips = [Slip(lambda a: a[2:] == expected[2:] and a[1] != expected[1], "The height and width are right; the "
                  f"stage outputs num_channels = {num_channels} channels.")]
    if first_block:
        slips.append(Slip(lambda a: a[:2] == expected[:2] and a[2:] != (h, w), "With first_block=True no block has "
                          "stride 2: the size stays the same (in d2l's ResNet the max-pool before this stage has "
                          "already halved it)."))
    else:
        if h % 2 or w % 2:
            slips.append(Slip(expected[:2] + (h // 2, w // 2), "Almost: an odd side does not halve exactly. The "
                              "3x3 convolution with padding 1 and stride 2 gives floor((n + 2 - 3) / 2) + 1 = "
                              "(n - 1) // 2 + 1, which rounds up."))
        slips.append(Slip(expected[:2] + (h, w), "The first block of a stage (first_block=False) has stride 2 and "
                          "halves the height and width."))
    if num_residuals > 1:
        slips.append(Slip(lambda a: a[:2] == expected[:2] and a[2] < expected[2], "Only the first block of the "
                          "stage halves the size; the other blocks keep it."))
    return judge(
        answer, "shape", expected,
        what="a tuple (N, C, H, W), the shape of the output",
        example=str(tuple(input_shape)),
        right=f"{expected}. The channels become {num_channels} and {how}.",
        slips=slips,
        otherwise="The channels become num_channels; the first block halves height and width with a stride-2 3x3 "
                  "convolution (unless first_block=True) and the others keep them. Or run torch.zeros(input_shape) "
                  "through the stage and look.",
    )
