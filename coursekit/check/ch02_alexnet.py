"""Exercise checks for notebook 02, AlexNet."""

from __future__ import annotations

import math
from typing import Any

import torch

from .helpers import judge_linear_share, output_shape
from .verdict import Slip, Verdict, judge


def alexnet_flatten_features(answer: Any, size: int = 256) -> Verdict:
    """Exercise 02.1: how many features d2l's AlexNet hands to its first fully connected layer
    for ``size`` x ``size`` images."""
    from ..models import alexnet

    with torch.device("meta"):  # shapes only: nothing allocated or initialised
        features = alexnet()[:13]  # the convolutional part, without the input check of the full net
    _, channels, side, _ = output_shape(features, (1, 1, size, size))
    expected = channels * side * side
    at_224 = math.prod(output_shape(features, (1, 1, 224, 224))[1:])  # the size the lecture used
    return judge(
        answer, "int", expected,
        what="an int, the length of the flattened feature vector",
        right=f"{channels} channels of {side}x{side} maps, {expected:,} features. A different input size changes "
              "the first fully connected layer, which is why AlexNet's head fixes it.",
        slips=[
            Slip(at_224, f"{at_224:,} is the count for 224x224 inputs; follow a {size}x{size} image through the "
                 "layers instead."),
            Slip(side * side, f"That is one {side}x{side} map; the last convolution has {channels} of them."),
            Slip(channels * side, "The maps are square: multiply the channels by the height *and* the width."),
        ],
        otherwise="Apply floor((n + 2p - k) / s) + 1 to each convolution and pooling layer in turn, or run "
                  "torch.zeros(1, 1, size, size) through net[:13] and look at the shape.",
    )


def alexnet_fc_share(answer: Any) -> Verdict:
    """Exercise 02.2: the fraction of d2l AlexNet's parameters held by its fully connected layers."""
    from ..models import alexnet

    with torch.device("meta"):  # counting needs the shapes of the parameters, not their values
        net = alexnet()
    return judge_linear_share(
        answer, net,
        note="they do under 5% of the arithmetic.",
        slips=[Slip(lambda a: a < 0.1, "That looks like the share of the *arithmetic* (FLOPs); count parameters "
                    "instead.")],
        otherwise="Sum p.numel() over the nn.Linear layers and divide by the total over the whole network.",
    )
