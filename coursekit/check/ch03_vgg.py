"""Exercise checks for notebook 03, VGG."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .code import Mistake, judge_code, same_number
from .exercise import Exercise
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


def vgg19_extra_parameters() -> tuple[int, list[int]]:
    """Exercise 03.3: the parameters VGG-19 adds to VGG-16, in all and block by block (same head for both)."""
    from ..models import VGG16_ARCH, VGG19_ARCH, vgg

    with torch.device("meta"):  # shapes only
        vgg16, vgg19 = vgg(VGG16_ARCH), vgg(VGG19_ARCH)
    per_block = [count_params(vgg19[i]).total - count_params(vgg16[i]).total for i in range(len(VGG16_ARCH))]
    return count_params(vgg19).total - count_params(vgg16).total, per_block


def vgg19_added_parameters(answer: Any) -> Verdict:
    """Exercise 03.3: how many parameters VGG-19 has more than VGG-16."""
    expected, per_block = vgg19_extra_parameters()
    grown = [(i + 1, n) for i, n in enumerate(per_block) if n]
    listed = ", ".join(f"block {b}: {n:,}" for b, n in grown)
    no_bias = expected - sum(out for (_, out) in _extra_convs())
    return judge(
        answer, "int", expected,
        what="an int, VGG-19's parameters minus VGG-16's",
        right=f"{expected:,}, all in one extra 3x3 convolution in each of the last three blocks ({listed}); the "
              "head is the same, since both leave 512 maps of 7x7.",
        slips=[
            Slip(no_bias, "Close: add the biases, one per output channel of each extra convolution."),
            Slip(per_block[-1] + per_block[-2], "That is blocks 4 and 5; block 3 gets a fourth convolution too."),
            Slip(per_block[-1], "That is one block; VGG-19 adds a convolution to each of the last three blocks."),
        ],
        otherwise="Compare VGG16_ARCH and VGG19_ARCH block by block: each extra 3x3 convolution from c to c "
                  "channels has (9c + 1)c parameters.",
    )


def _extra_convs() -> list[tuple[int, int]]:
    """(in, out) channels of the convolutions VGG-19 has and VGG-16 has not."""
    from ..models import VGG16_ARCH, VGG19_ARCH

    return [(c, c) for (n16, c), (n19, _) in zip(VGG16_ARCH, VGG19_ARCH) for _ in range(n19 - n16)]


def vgg11_field() -> list[int]:
    """Exercise 03.4: the receptive field (side, pixels) of every layer of VGG-11's five blocks at 224x224."""
    from ..inspect import receptive_field
    from ..models import VGG11_ARCH, vgg_block

    with torch.device("meta"):  # the field is geometry: no weights needed, and VGG-11's head is not built at all
        blocks, in_channels = [], 1
        for num_convs, channels in VGG11_ARCH:
            blocks.append(vgg_block(num_convs, in_channels, channels))
            in_channels = channels
    return [row.rf[0] for row in receptive_field(nn.Sequential(*blocks), (1, 1, 224, 224)).rows]


def vgg11_receptive_field(answer: Any) -> Verdict:
    """Exercise 03.4: the receptive field of a unit of VGG-11's last block."""
    from ..models import VGG11_ARCH

    fields = vgg11_field()
    expected = fields[-1]
    convs = sum(n for n, _ in VGG11_ARCH)
    return judge(
        answer, "int", expected,
        what="an int, the side of the patch a unit sees, in pixels",
        right=f"{expected}x{expected} pixels of the 224x224 image: every layer adds (k - 1) times the product "
              "of the strides before it, so the late layers, behind four poolings, add the most.",
        slips=[
            Slip(1 + 2 * convs, "That adds 2 per convolution as if no pooling came before: after a stride-2 "
                 "pooling each pixel of the map stands for 2 input pixels, so later layers add more."),
            Slip(fields[-2], "Close: the last max-pool adds to the field too, (2 - 1) times the product of the "
                 "strides before it."),
            Slip(224, "That is the whole image; a unit sees a patch of it, r = r_prev + (k - 1) x jump."),
        ],
        otherwise="Follow r = r_prev + (k - 1) x jump and jump = jump_prev x s through the layers, starting from "
                  "r = 1 and jump = 1; then check with ck.receptive_field.",
    )


# --- 03.2: the fully connected share of any network --------------------------------------------


def fully_connected_share(net: nn.Module) -> float:
    """The fraction of ``net``'s parameters (biases included) that sit in its ``nn.Linear`` layers."""
    linear = sum(p.numel() for m in net.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return linear / sum(p.numel() for p in net.parameters())


def share_nets() -> list[tuple[nn.Module]]:
    """The networks 03.2 is tried on: VGG-16 (ImageNet), one with BatchNorm, one nested, one without Linear."""
    from ..models import vgg16

    with torch.device("meta"):  # only the shapes of the parameters matter
        return [(vgg16(),),
                (nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(32, 5)),),
                (nn.Sequential(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()),
                               nn.Sequential(nn.Flatten(), nn.Linear(16, 3), nn.ReLU(), nn.Linear(3, 2))),),
                (nn.Sequential(nn.Conv2d(1, 2, 1)),)]


def _share(net: nn.Module, layers: Any, *, weights_only: bool = False, of: tuple = (nn.Linear,)) -> float:
    """A share computed the wrong ways the detectors look for."""
    def size(m: nn.Module) -> int:
        return m.weight.numel() if weights_only else count_params(m).total
    part = sum(size(m) for m in layers if isinstance(m, nn.Linear))
    whole = sum(size(m) for m in net.modules() if isinstance(m, of) and not list(m.children()))
    return part / whole


def _is(got: Any, value: float) -> bool:
    return isinstance(got, float) and abs(got - value) < 1e-9


def check_fully_connected_share(answer: Any) -> Verdict:
    """Exercise 03.2: the learner's ``fully_connected_share(net)`` on networks they have not seen."""
    return judge_code(
        answer, fully_connected_share, share_nets(),
        what="your function fully_connected_share",
        compare=same_number,
        right="the parameters of every nn.Linear, biases included and however deeply nested, divided by all the "
              "network's parameters.",
        mistakes=[
            Mistake(lambda a: isinstance(a.got, (int, float)) and a.got > 1 and abs(a.got / 100 - a.expected) < 1e-6,
                    "That is a percentage; return a fraction between 0 and 1."),
            Mistake(lambda a: isinstance(a.got, int) and a.got > 1,
                    "That is a count of parameters; divide it by the network's total."),
            Mistake(lambda a: _is(a.got, 1 - a.expected),
                    "That is the share of everything but the Linear layers."),
            Mistake(lambda a: _is(a.got, _share(a.args[0], a.args[0].modules(), weights_only=True,
                                                of=(nn.Linear, nn.Conv2d, nn.BatchNorm2d))),
                    "Count the biases too: every tensor in m.parameters(), not only m.weight."),
            Mistake(lambda a: _is(a.got, _share(a.args[0], a.args[0].children(),
                                                of=(nn.Linear, nn.Conv2d, nn.BatchNorm2d))),
                    "Some Linear layers sit inside nested blocks: go through net.modules(), not net.children()."),
            Mistake(lambda a: _is(a.got, _share(a.args[0], a.args[0].modules(), of=(nn.Linear, nn.Conv2d))),
                    "Divide by all the parameters, BatchNorm's included: net.parameters()."),
            Mistake(lambda a: isinstance(a.error, ZeroDivisionError),
                    "A network without Linear layers has a share of 0; divide by the total, which is never 0 here."),
        ],
        otherwise="Sum p.numel() over m.parameters() for every nn.Linear m in net.modules(), and divide by the "
                  "sum over net.parameters().",
    )


EX1 = Exercise(
    "03.1", "Parameters of vgg_block(4, 256, 512)", "number",
    hint="Each 3x3 convolution has (3*3*c_in + 1)*c_out parameters. Which convolutions of the block see 256 "
         "input channels, and which 512?",
    check=vgg_block_parameters,
    answer=lambda: count_params(_vgg_block(4, 256, 512)).total,
)
EX2 = Exercise(
    "03.2", "The fully connected share of any network", "code",
    hint="Go through net.modules(), keep those that are nn.Linear, and add up the numel() of their parameters; "
         "divide by the same sum over net.parameters().",
    check=check_fully_connected_share,
    answer=lambda: fully_connected_share,
)
EX3 = Exercise(
    "03.3", "What VGG-19 adds to VGG-16", "number",
    hint="Put VGG16_ARCH and VGG19_ARCH side by side: which blocks have more convolutions, and how many channels "
         "do those convolutions map?",
    check=vgg19_added_parameters,
    answer=lambda: vgg19_extra_parameters()[0],
)
EX4 = Exercise(
    "03.4", "Receptive field of VGG-11's last block", "number",
    hint="Start from r = 1 and jump = 1; each layer does r += (k - 1) * jump, then jump *= stride. Pooling "
         "layers count too.",
    check=vgg11_receptive_field,
    answer=lambda: vgg11_field()[-1],
)
EX5 = Exercise(
    "03.5", "Width against accuracy and speed", "open question",
    hint="Train ck.models.vgg11_narrow(ratio=16) and ratio=4 with the same recipe settings, and note the time per "
         "epoch and the final test accuracy of each.",
    outcome="expect the wider network (ratio=4) to take clearly longer per epoch, its convolutions doing about "
            "r^2 times the arithmetic for r times the width; whether it is also more accurate is what the runs "
            "show (one run of each is a single observation).",
    discussion="Dividing the channels by r divides the convolutions' arithmetic by about r^2, so ratio=4 costs "
               "about 16 times the multiply-adds of ratio=16 in the convolutions (the time per epoch grows less, "
               "since the data loading and the head do not shrink). Whether the extra width buys accuracy on "
               "Fashion-MNIST is what the runs show; compare a few seeds before concluding.",
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5)


def _vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Module:
    from ..models import vgg_block

    return vgg_block(num_convs, in_channels, out_channels)
