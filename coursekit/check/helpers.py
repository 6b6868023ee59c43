"""What several checks share: measuring a network, and judging its "fully connected share".

Parameter counts come from :func:`coursekit.inspect.count_params`, the same
function the learners use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .verdict import Slip, Verdict, judge


def output_shape(net: nn.Module, input_shape: Sequence[int]) -> tuple[int, ...]:
    """The shape of ``net``'s output for an input of ``input_shape``.

    Runs on the meta device, which tracks shapes without allocating or
    computing anything, so even a large input costs nothing. Moves ``net`` to
    the meta device: pass a network built for the check, not one in use.
    """
    with torch.no_grad():
        return tuple(net.to("meta").eval()(torch.empty(tuple(input_shape), device="meta")).shape)


def linear_share(net: nn.Module) -> tuple[int, float]:
    """The parameters of ``net``'s ``nn.Linear`` layers, and their fraction of all its parameters."""
    fc = sum(count_params(m).total for m in net.modules() if isinstance(m, nn.Linear))
    return fc, fc / count_params(net).total


def judge_linear_share(answer: Any, net: nn.Module, *, note: str, otherwise: str,
                       slips: Sequence[Slip] = ()) -> Verdict:
    """Judge an answer to "what fraction of ``net``'s parameters sit in its fully connected layers?".

    Exercises 02.2 (AlexNet) and 03.2 (VGG-16) ask this of two networks; ``note``
    ends the explanation of the right answer with what that network shows.
    """
    fc, share = linear_share(net)
    return judge(
        answer, "fraction", share,
        what="a float between 0 and 1, the fraction of the parameters in the fully connected layers",
        right=f"{fc:,} of {count_params(net).total:,} parameters ({share:.1%}) sit in the fully connected layers; "
              + note,
        slips=[
            Slip(1 - share, "That is the share of the convolutions; the question asks about the fully connected "
                 "layers."),
            *slips,
        ],
        otherwise=otherwise,
    )
