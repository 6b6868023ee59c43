"""Exercise checks for notebook 03, VGG."""

from __future__ import annotations

from typing import Any

import torch

from ..inspect import count_params
from .helpers import judge_linear_share
from .verdict import Slip, Verdict, judge


def vgg_block_parameters(answer: Any, num_convs: int = 4, in_channels: int = 256, out_channels: int = 512) -> Verdict:
    """Exercise 03.1: the parameter count of ``vgg_block(num_convs, in_channels, out_channels)``."""
    from ..models import vgg_block

    expected = count_params(vgg_block(num_convs, in_channels, out_channels)).total
    first = (9 * in_channels + 1) * out_channels
    rest = (9 * out_channels + 1) * out_channels
    return judge(
        answer, "int", expected,
        what="an int, the number of parameters of the block",
        right=f"{expected:,}. The first convolution maps {in_channels} to {out_channels} channels ({first:,} "
              f"parameters); the other {num_convs - 1} map {out_channels} to {out_channels} ({rest:,} each). "
              "The max-pool has none.",
        slips=[
            Slip(num_convs * first, f"Only the first convolution sees {in_channels} input channels: after it the "
                 f"block works on {out_channels} channels."),
            Slip(num_convs * rest, f"The first convolution's input has {in_channels} channels, not {out_channels}."),
            Slip(expected - num_convs * out_channels, "Close: add the biases, one per output channel of each "
                 "convolution."),
        ],
        otherwise="Each 3x3 convolution has (3*3*c_in + 1)*c_out parameters, and c_in is in_channels only for the "
                  "first one.",
    )


def vgg16_head_share(answer: Any) -> Verdict:
    """Exercise 03.2: the fraction of ImageNet VGG-16's parameters in its three fully connected layers."""
    from ..models import vgg16

    with torch.device("meta"):  # 138 million parameters: count their shapes, allocate nothing
        net = vgg16()
    return judge_linear_share(
        answer, net,
        note="the first one alone, 7*7*512 inputs by 4096 outputs, holds over 100 million.",
        otherwise="Sum p.numel() over the nn.Linear layers of ck.models.vgg16() and divide by the total.",
    )
