"""Exercise checks for notebook 04, Network in Network."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params
from .verdict import Slip, Verdict, judge


def bottleneck_parameters_saved(answer: Any, channels: int = 256, bottleneck: int = 32,
                                kernel_size: int = 3) -> Verdict:
    """Exercise 04.1: parameters saved by a 1x1 bottleneck around a ``kernel_size`` convolution.

    Compares ``conv(channels, channels, k)`` with ``conv(channels, bottleneck, 1)
    -> conv(bottleneck, bottleneck, k) -> conv(bottleneck, channels, 1)``, biases included.
    """
    k = kernel_size
    direct = nn.Conv2d(channels, channels, k)
    narrow = nn.Sequential(nn.Conv2d(channels, bottleneck, 1), nn.Conv2d(bottleneck, bottleneck, k),
                           nn.Conv2d(bottleneck, channels, 1))
    n_direct, n_narrow = count_params(direct).total, count_params(narrow).total
    expected = n_direct - n_narrow
    no_bias = direct.weight.numel() - sum(m.weight.numel() for m in narrow)
    return judge(
        answer, "int", expected,
        what="an int, the parameters of the single convolution minus those of the bottleneck",
        right=f"{n_direct:,} - {n_narrow:,} = {expected:,} parameters saved, the bottleneck needs only "
              f"{n_narrow / n_direct:.1%} of the direct convolution's.",
        slips=[
            Slip(-expected, "Right size, wrong sign: subtract the bottleneck's count from the direct convolution's."),
            Slip(n_direct, "That is the direct convolution's count alone; subtract what the bottleneck needs."),
            Slip(n_narrow, "That is what the bottleneck needs; the question asks how many it saves."),
            Slip(no_bias, "Close: you left out the biases, one per output channel of every convolution."),
        ],
        otherwise="A convolution has (k*k*c_in + 1)*c_out parameters; count the direct one and the three of the "
                  "bottleneck, or build them with nn.Conv2d and use sum(p.numel() for p in layer.parameters()).",
    )
