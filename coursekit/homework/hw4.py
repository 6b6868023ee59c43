"""Assignment hw4 (chapters 09-11): receptive fields and multiply-adds by formula, a network under a FLOPs budget.

Question hw4.1 is chapter 09's exercise 09.6 (the receptive-field recurrence), graded with its check.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..check import ch09_receptive_fields
from ..check.code import Mistake, judge_code, same_number
from ..check.verdict import Slip, Verdict, judge
from ..config import for_profile
from ..inspect import flops
from .budget import Budget
from .question import Question


def measured_macs(c_in: int, c_out: int, kernel_size: int, h_out: int, w_out: int, groups: int = 1) -> int:
    """Multiply-adds of a convolution with this output size, measured by :func:`coursekit.flops`."""
    conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, groups=groups, bias=False)
    return flops(conv, (1, c_in, h_out, w_out)).macs


def check_conv_macs(answer: Any, seed: int = 0) -> Verdict:
    """hw4.2: ``conv_macs(c_in, c_out, kernel_size, h_out, w_out, groups=1)`` against :func:`coursekit.flops`."""
    g = torch.Generator().manual_seed(seed)
    trials = []
    for groups in (1, 1, 2, 4):
        c_in, c_out = (groups * int(v) for v in torch.randint(1, 9, (2,), generator=g))
        trials.append((c_in, c_out, int(2 * torch.randint(0, 3, (1,), generator=g) + 1),
                       int(torch.randint(1, 17, (1,), generator=g)), int(torch.randint(1, 17, (1,), generator=g)),
                       groups))
    return judge_code(
        answer, measured_macs, trials,
        what="your function conv_macs(c_in, c_out, kernel_size, h_out, w_out, groups=1)",
        right="c_out x h_out x w_out outputs, each (c_in / groups) x k x k multiply-adds.",
        otherwise="Count the outputs, then the multiply-adds of one output; a group sees c_in / groups channels.",
        compare=same_number,
        mistakes=[
            Mistake(lambda a: a.args[5] > 1 and a.got == a.expected * a.args[5],
                    "With groups, each output sees only c_in / groups input channels: divide by groups."),
            Mistake(lambda a: a.got == 2 * a.expected, "That counts FLOPs (2 per multiply-add): give multiply-adds."),
        ],
    )


def separable_ratio() -> float:
    """Multiply-adds of a depthwise-separable 3x3 convolution (64 -> 128, 32x32) over a standard one's."""
    separable = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False),
                              nn.Conv2d(64, 128, 1, bias=False))
    standard = nn.Conv2d(64, 128, 3, padding=1, bias=False)
    return flops(separable, (1, 64, 32, 32)).macs / flops(standard, (1, 64, 32, 32)).macs


def check_separable_ratio(answer: Any) -> Verdict:
    """hw4.3: the cost of a depthwise-separable convolution as a fraction of a standard one's."""
    expected = separable_ratio()
    return judge(
        answer, "fraction", expected,
        what="a float between 0 and 1, the separable convolution's multiply-adds over the standard one's",
        right=f"(64 x 9 + 64 x 128) / (64 x 128 x 9) = 1/128 + 1/9 = {expected:.4f}: about 8 times cheaper.",
        slips=[Slip(1 / expected, "That is the standard convolution over the separable one: invert it."),
               Slip(1 / 9, "That leaves out the depthwise 3x3 part: add its 64 x 9 per position.")],
        otherwise="Per output position: the depthwise part costs 64 x 9, the pointwise 64 x 128, the standard "
                  "64 x 128 x 9.",
    )


def budget() -> Budget:
    """hw4.4: at most 400,000 FLOPs per 28x28 image, half of what the LeNet variant of hw1 needs."""
    return Budget(min_accuracy=for_profile(smoke=0.3, laptop=0.8, full=0.86), max_flops=400_000,
                  max_seconds=for_profile(smoke=None, laptop=600, full=600))


QUESTIONS = (
    Question("hw4.1", "the receptive-field recurrence", "code", "Keep two numbers as you walk the layers: the "
             "field and the distance between units.", check=ch09_receptive_fields.check_receptive_field_of,
             answer=lambda: ch09_receptive_fields.receptive_field_of),
    Question("hw4.2", "multiply-adds by formula", "code", "Outputs times the work of one output.",
             check=check_conv_macs, answer=lambda: measured_macs),
    Question("hw4.3", "depthwise-separable cost", "number", "Count per output position, for both.",
             check=check_separable_ratio, answer=separable_ratio),
)
