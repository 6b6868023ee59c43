"""Assignment hw2 (chapters 03-05): VGG's block, an Inception block, its receptive field and cost, a budget.

Question hw2.2 is chapter 05's exercise 05.6 (an Inception block), graded with its check.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..check import ch05_googlenet
from ..check.code import Mistake, judge_code, output_of, same_module
from ..check.verdict import Slip, Verdict, judge
from ..config import for_profile
from ..inspect import flops, receptive_field
from ..models.googlenet import Inception
from ..models.vgg import vgg_block
from .budget import Budget
from .question import Question


def _images(channels: int, side: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(2, channels, side, side, generator=torch.Generator().manual_seed(seed))


def _seeded(reference):
    """``reference`` built after seeding, so that the check's reference weights are the same every time."""
    def build(*args):
        torch.manual_seed(0)
        return reference(*args)
    return build


def check_vgg_block(answer: Any, seed: int = 0) -> Verdict:
    """hw2.1: ``vgg_block(num_convs, in_channels, out_channels)`` against :func:`coursekit.models.vgg_block`."""
    g = torch.Generator().manual_seed(seed)
    trials = [(int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(1, 5, (1,), generator=g)),
               int(torch.randint(2, 9, (1,), generator=g))) for _ in range(3)]
    make_input = lambda args: _images(args[1], 8, seed)  # noqa: E731 (one expression, read at its use)
    return judge_code(
        answer, _seeded(vgg_block), trials,
        what="your function vgg_block(num_convs, in_channels, out_channels)",
        right="num_convs 3x3 convolutions (padding 1) each followed by a ReLU, then a 2x2 max-pool of stride 2: "
              "the size is kept by every convolution and halved once at the end.",
        otherwise="Compare print(vgg_block(2, 3, 8)) with chapter 03's block.",
        compare=same_module(make_input),
        mistakes=[
            Mistake(lambda a: output_of(a.got, make_input, a.args).shape[-1] == 8,
                    "Your block keeps the size: it ends with nn.MaxPool2d(kernel_size=2, stride=2)."),
            Mistake(lambda a: output_of(a.got, make_input, a.args).shape[-1] < 4,
                    "Your block shrinks the map too much: pad each 3x3 convolution by 1 so that only the pooling "
                    "halves it."),
        ],
    )


def stack_for_field() -> nn.Sequential:
    """The network of hw2.3: two 3x3 convolutions, a 2x2 max-pool of stride 2, a 3x3 convolution."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1))


def field_of_stack() -> int:
    """The receptive field (height) of :func:`stack_for_field`'s output units, measured by coursekit."""
    return receptive_field(stack_for_field(), (1, 1, 32, 32)).rows[-1].rf[0]


def check_receptive_field(answer: Any) -> Verdict:
    """hw2.3: the receptive field of :func:`stack_for_field`'s last layer."""
    expected = field_of_stack()
    return judge(
        answer, "int", expected,
        what="an int, the side of the receptive field of one output unit, in input pixels",
        right=f"3 -> 5 after two 3x3 convolutions, 6 after the 2x2 pool, and the last 3x3 convolution steps "
              f"2 pixels per unit: 6 + 2 x 2 = {expected}.",
        slips=[
            Slip(8, "You added the last convolution's 2 as if its units were 1 pixel apart; after the pooling "
                    "they are 2 pixels apart, so it adds 2 x 2."),
            Slip(7, "Pooling widens the field too: a 2x2 window adds 1 pixel, then strides the layers after it."),
        ],
        otherwise="Track the field r and the jump j layer by layer: r += (k - 1) * j, then j *= stride.",
    )


def conv_macs_of_question() -> int:
    """The multiply-adds of ``nn.Conv2d(64, 128, 3, padding=1)`` on a 64x32x32 input, measured by coursekit."""
    return flops(nn.Conv2d(64, 128, 3, padding=1), (1, 64, 32, 32)).macs


def check_conv_macs(answer: Any) -> Verdict:
    """hw2.4: the multiply-adds of a 3x3 convolution from 64 to 128 channels on a 32x32 map."""
    expected = conv_macs_of_question()
    return judge(
        answer, "int", expected,
        what="an int, the number of multiply-adds",
        right=f"each of the 128 x 32 x 32 outputs takes 64 x 3 x 3 multiply-adds: {expected:,}.",
        slips=[
            Slip(2 * expected, "That counts FLOPs (2 per multiply-add); the question asks for multiply-adds."),
            Slip(64 * 128 * 9, "That is the cost of one output position: multiply by the 32 x 32 positions."),
        ],
        otherwise="Outputs (c_out x h x w) times the work of one output (c_in x k x k).",
    )


def budget() -> Budget:
    """hw2.5: a network built from Inception blocks, at most 100,000 parameters."""
    return Budget(min_accuracy=for_profile(smoke=0.3, laptop=0.8, full=0.88), max_params=100_000,
                  max_seconds=for_profile(smoke=None, laptop=600, full=600))


QUESTIONS = (
    Question("hw2.1", "VGG's block", "code", "A list of layers built in a loop, then nn.Sequential(*layers).",
             check=check_vgg_block, answer=lambda: vgg_block),
    Question("hw2.2", "an Inception block", "code", "Four branches built in __init__; forward runs each on x and "
             "concatenates along the channels.", check=ch05_googlenet.check_inception,
             answer=lambda: Inception),
    Question("hw2.3", "receptive field of a stack", "number", "A layer of kernel k adds (k - 1) times the "
             "distance between its input units.", check=check_receptive_field, answer=field_of_stack),
    Question("hw2.4", "multiply-adds of a convolution", "number", "Count the outputs, then the work of one.",
             check=check_conv_macs, answer=conv_macs_of_question),
)
