"""Exercise checks for notebook 00, the building blocks of a CNN."""

from __future__ import annotations

from typing import Any

from torch import nn

from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def conv2d_output_shape(answer: Any, input_shape: tuple = (20, 16, 50, 100), out_channels: int = 33,
                        kernel_size: tuple = (3, 5), stride: tuple = (2, 1), padding: tuple = (4, 2),
                        dilation: tuple = (3, 1)) -> Verdict:
    """Exercise 00.1: the output shape of ``nn.Conv2d`` with these settings on an input of ``input_shape``."""
    conv = nn.Conv2d(input_shape[1], out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation)
    # The layer turns int settings into (height, width) pairs; read them back so both forms work.
    k, s, p, d = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    expected = output_shape(conv, input_shape)

    def with_sides(pad: tuple, dil: tuple) -> tuple[int, ...]:
        """The expected shape, with the height and width computed from these paddings and dilations."""
        return expected[:2] + tuple((input_shape[2 + i] + 2 * pad[i] - dil[i] * (k[i] - 1) - 1) // s[i] + 1
                                    for i in range(2))

    return judge(
        answer, "shape", expected,
        what="a tuple (N, C, H, W), the shape of the output",
        example=str(tuple(input_shape)),
        right=f"{expected}. Each side is floor((n + 2p - d(k - 1) - 1) / s) + 1; the batch size is unchanged "
              "and the channels are the layer's out_channels.",
        slips=[
            Slip(lambda a: a[2:] == expected[2:] and a[:2] != expected[:2],
                 "The height and width are right; the batch size stays the same and the channel count becomes "
                 "out_channels."),
            Slip(with_sides(p, (1, 1)),
                 "Close, but you left out the dilation: a k-wide kernel with dilation d spans d(k - 1) + 1 pixels."),
            Slip(with_sides((0, 0), d),
                 "Close, but you left out the padding: it adds p pixels on both sides, 2p in all."),
            Slip(lambda a: a[2:] == expected[:1:-1],
                 "Height and width are swapped: the first number of each pair is the height."),
        ],
        otherwise="Per side: floor((n + 2p - d(k - 1) - 1) / s) + 1, with the first number of each pair for the "
                  "height and the second for the width.",
    )
