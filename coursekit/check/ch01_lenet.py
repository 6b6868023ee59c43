"""Exercise checks for notebook 01, LeNet."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params
from .verdict import Slip, Verdict, judge


def lenet_parameters(answer: Any, first_channels: int = 16) -> Verdict:
    """Exercise 01.2: the parameter count of LeNet with ``first_channels`` channels in its first convolution."""
    from ..models import lenet

    net = lenet()
    widened = nn.Sequential(*net)
    widened[0] = nn.Conv2d(1, first_channels, kernel_size=5, padding=2)
    widened[3] = nn.Conv2d(first_channels, 16, kernel_size=5)  # its input channels follow the first layer
    expected, original = count_params(widened).total, count_params(net).total
    second_grows = count_params(widened[3]).total - count_params(net[3]).total
    return judge(
        answer, "int", expected,
        what="an int, the total number of parameters",
        right=f"{expected:,} parameters, only {expected - original:,} more than LeNet's {original:,}, because the "
              "fully connected layers, which hold most of them, do not change.",
        slips=[
            Slip(original, "That is the count of the original LeNet: build the widened network and count again."),
            Slip(expected - second_grows, "Close: the second convolution changes too, since its input channels "
                 "must match the first convolution's output channels."),
        ],
        otherwise="Each layer has (k*k*c_in + 1)*c_out parameters for a convolution and (n_in + 1)*n_out for a "
                  "Linear layer; add them up over the widened network, or use "
                  "sum(p.numel() for p in net.parameters()).",
    )
