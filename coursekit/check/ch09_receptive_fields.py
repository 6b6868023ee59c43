"""Exercise checks for notebook 09, receptive fields.

Every expected value comes from :func:`coursekit.inspect.receptive_field`
applied to a network built from the exercise's layers, never from a typed-in
number; the hints recompute the usual slips of the recurrence
``r_l = r_{l-1} + (k_l - 1) * (product of the strides before layer l)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from .. import models
from ..inspect import receptive_field
from .code import Attempt, Mistake, judge_code, same_number
from .exercise import Exercise
from .verdict import Slip, Verdict, judge

# (kernel, stride, padding) of ResNet's stem followed by three 3x3 convolutions.
STEM_AND_THREE_3X3 = ((7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1))


def _field(net: nn.Module, side: int = 512, channels: int = 1) -> Any:
    """The receptive-field table of ``net`` on a ``side`` x ``side`` input."""
    return receptive_field(net, (1, channels, side, side))


def _stack(layers: Sequence[Sequence[int]]) -> nn.Sequential:
    """Convolutions (and nothing else) with the given (kernel, stride, padding[, dilation])."""
    convs = []
    for layer in layers:
        k, s, p, d = (tuple(layer) + (1,))[:4]
        convs.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
    return nn.Sequential(*convs)


def receptive_field_size(answer: Any, layers: Sequence[Sequence[int]] = STEM_AND_THREE_3X3) -> Verdict:
    """Exercise 09.1: the receptive field of the last layer of a stack of ``(kernel, stride, padding)`` layers."""
    expected = int(_field(_stack(layers))[-1].rf[0])
    no_strides = 1 + sum(k - 1 for k, *_ in layers)
    own_stride, jump = 1, 1
    with_padding, jump_p = 1, 1
    for k, s, p, *_ in layers:
        own_stride += (k - 1) * jump * s
        with_padding += (k - 1 + 2 * p) * jump_p
        jump *= s
        jump_p *= s
    return judge(
        answer, "int", expected,
        what="a number, the side of the receptive field in input pixels",
        right=f"{expected} pixels. Each layer adds (k - 1) times the jump it sees, the product of the strides of "
              "the layers before it; its own stride only matters for the layers after it.",
        slips=[
            Slip(no_strides, f"{no_strides} is the sum of (k - 1) with every jump set to 1: after a stride-2 layer "
                 "neighbouring units are 2 input pixels apart, so each later kernel tap reaches further. Multiply "
                 "(k - 1) by the product of the strides of the earlier layers."),
            Slip(own_stride, "Too large: you multiplied (k - 1) by the layer's own stride too. A layer's stride "
                 "spaces out its *outputs*; its kernel still reads inputs that are one jump apart, and the jump is "
                 "the product of the strides of the layers *before* it."),
            Slip(with_padding, "You counted the padding. Padding adds zeros at the border but no reach: a kernel of "
                 "size k still sees k positions. Padding moves the centres of the fields, not their size."),
        ],
        otherwise="Start from r = 1 and jump = 1; for each layer do r += (k - 1) * jump, then jump *= s. Check with "
                  "ck.inspect.receptive_field on an nn.Sequential of these convolutions.",
    )


def center_of_unit(answer: Any, unit: int = 2) -> Verdict:
    """Exercise 09.2: the centre (input pixel) of unit ``unit`` (row and column) of d2l LeNet's second pooling layer."""
    from ..models import lenet

    row = _field(lenet()[:6], side=28)[-1]
    center, jump, rf = row.center[0], row.jump[0], row.rf[0]
    expected = center + unit * jump
    no_padding = _field(_stack([(5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0)]), side=28)[-1]
    return judge(
        answer, "float", expected,
        what="a number, the input row (= column) at the centre of that unit's field",
        right=f"the first unit's field is centred on pixel {center:g} and neighbouring units are {jump:g} pixels "
              f"apart, so unit {unit} sits at {center:g} + {unit} * {jump:g} = {expected:g}. Its field spans rows "
              f"{expected - (rf - 1) / 2:g} to {expected + (rf - 1) / 2:g}.",
        slips=[
            Slip(no_padding.center[0] + unit * no_padding.jump[0], "That is the centre without padding. LeNet's "
                 "first convolution pads by 2, which moves every centre 2 pixels up and left: "
                 "c_l = c_{l-1} + ((k - 1) / 2 - p) * jump."),
            Slip(center + unit, f"Units of this layer are {jump:g} input pixels apart (the jump), not 1: move from "
                 "the first unit's centre by unit * jump."),
            Slip(center, f"That is the centre of the first unit, (0, 0); unit {unit} is {unit} jumps further."),
        ],
        otherwise="Track the centre of the first unit along with the jump: c starts at 0, and each layer does "
                  "c += ((k - 1) / 2 - p) * jump, then jump *= s. Then add unit * jump.",
    )


def dilated_receptive_field(answer: Any, dilations: Sequence[int] = (1, 2, 4, 8), kernel_size: int = 3) -> Verdict:
    """Exercise 09.3: the receptive field of a stack of stride-1 convolutions with these dilations."""
    k = kernel_size
    expected = int(_field(_stack([(k, 1, 0, d) for d in dilations]))[-1].rf[0])
    return judge(
        answer, "int", expected,
        what="a number, the side of the receptive field in input pixels",
        right=f"{expected} pixels from {len(dilations)} layers of {k}x{k} weights. A dilated kernel spans "
              "d(k - 1) + 1 pixels, so each layer adds d(k - 1): the field grows with the sum of the dilations "
              "(exponentially with depth if they double) while the parameters grow with the number of layers.",
        slips=[
            Slip(1 + len(dilations) * (k - 1), "That is the field without dilation. A kernel with dilation d has "
                 "gaps of d - 1 between its taps and spans d(k - 1) + 1 pixels."),
            Slip(1 + sum(d * k - 1 for d in dilations), f"A dilated kernel spans d(k - 1) + 1 pixels, not d*k: with "
                 f"d = 2 a {k}-tap kernel covers {2 * (k - 1) + 1} pixels."),
            Slip(dilations[-1] * (k - 1) + 1, "That is what the last layer spans on its own input; add what the "
                 "layers below contribute (with stride 1 the jump stays 1, so the spans simply add up)."),
        ],
        otherwise="With stride 1 everywhere the jump stays 1, so start from r = 1 and add d(k - 1) for every layer.",
    )


def multipath_receptive_field(answer: Any, c1: int = 64, c2: tuple[int, int] = (96, 128),
                              c3: tuple[int, int] = (16, 32), c4: int = 32) -> Verdict:
    """Exercise 09.4: the receptive field at the output of an Inception block that follows ResNet's stem
    (7x7 convolution stride 2, 3x3 max-pooling stride 2)."""
    from ..models import Inception

    stem = [nn.Conv2d(1, 64, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
    table = _field(nn.Sequential(*stem, Inception(64, c1, c2, c3, c4)), side=64)
    expected = int(table[-1].rf[0])
    before = int(table[len(stem)].rf[0])  # the output of the max-pooling
    jump = int(table[len(stem)].jump[0])
    branches = [before, before + 2 * jump, before + 4 * jump, before + 2 * jump]  # 1x1, 3x3, 5x5, pool + 1x1
    return judge(
        answer, "int", expected,
        what="a number, the side of the receptive field of the block's output",
        right=f"{expected}. The four branches see {', '.join(map(str, branches))} pixels; concatenated, a unit sees "
              "the union of what its branches see, so the largest one (the 5x5 branch) sets the field.",
        slips=[
            Slip(before + sum(b - before for b in branches), "The branches run side by side, not one after the "
                 "other: their growths do not add up. A unit of the concatenation sees the union of the branches' "
                 "fields: take the largest."),
            Slip(min(branches), "That is the smallest branch (the 1x1); the concatenation also holds the channels of "
                 "the 5x5 branch, which see more."),
            Slip(before + 4, f"Close: after the stem neighbouring units are {jump} pixels apart, so the 5x5 kernel "
                 f"adds (5 - 1) * {jump} pixels, not 4."),
            Slip(lambda a: a in branches, "That is one of the branches, but not the largest: the block's output "
                 "concatenates all four, so a unit sees as far as the farthest-reaching one."),
        ],
        otherwise="Compute the field after the stem (r and jump), then the field of each branch, and take the "
                  "largest.",
    )


def field_of_stack(layers: Sequence[Sequence[int]]) -> int:
    """The receptive field of the last of these ``(kernel, stride, padding[, dilation])`` convolutions, measured
    with :func:`coursekit.inspect.receptive_field`."""
    return int(_field(_stack(layers))[-1].rf[0])


def centre_of_lenet_unit(unit: int) -> float:
    """The right answer of 09.2: the centre of unit ``unit`` of d2l LeNet's second pooling layer, measured."""
    row = _field(models.lenet()[:6], side=28)[-1]
    return float(row.center[0] + unit * row.jump[0])


# 09.3 asks about a hybrid dilated stack, not the notebook's 1, 2, 4, 8, whose field is computed above it.
DILATIONS = (1, 2, 5, 1, 2, 5)


def _dilation_stacks() -> str:
    field = field_of_stack([(3, 1, 0, d) for d in DILATIONS])
    plain = (field - 1) // 2
    return (f"Ordinary 3x3 layers add 2 pixels each: {plain} of them reach {field} pixels, with {9 * plain} weights "
            f"(one channel) against {9 * len(DILATIONS)} for the dilated stack. Repeating 1, 2, 5 (rather than "
            "doubling) leaves no gridding holes: the dilations share no common factor, so every input pixel of "
            "the field is read.")


def inception_after_stem_fields() -> tuple[int, int]:
    """The receptive fields of 09.4: the Inception block's output, and its 1x1 branch alone."""
    from ..models import Inception

    stem = [nn.Conv2d(1, 64, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
    block = Inception(64, 64, (96, 128), (16, 32), 32)
    whole = int(_field(nn.Sequential(*stem, block), side=64)[-1].rf[0])
    one_by_one = int(_field(nn.Sequential(*stem, block.p1_1), side=64)[-1].rf[0])
    return whole, one_by_one


def _one_by_one_branch() -> str:
    return (f"The channels of the 1x1 branch see only the stem's field, {inception_after_stem_fields()[1]} pixels: "
            "a concatenation mixes channels with different fields, and the block's field is that of its "
            "farthest-reaching branch.")


# --- 09.6: the receptive-field recurrence for a sequential network ------------------------------------


def _side(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else value


def receptive_field_of(net: nn.Sequential) -> int:
    """The receptive field (in input pixels, along one side) of the last layer of ``net``, a sequence of square
    convolutions and poolings; other layers (activations, batch norm) do not change it."""
    field, jump = 1, 1
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s = _side(layer.kernel_size), _side(layer.stride)
            d = _side(getattr(layer, "dilation", 1))          # average pooling has no dilation
            field += d * (k - 1) * jump                       # a dilated kernel spans d(k - 1) + 1 inputs
            jump *= s                                         # the stride spaces out the next layer's inputs
    return field


def receptive_field_trials() -> list[tuple[nn.Sequential]]:
    return [
        (nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                       nn.MaxPool2d(2)),),
        (nn.Sequential(nn.Conv2d(1, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8), nn.ReLU(),
                       nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(8, 8, 3, stride=2, padding=1)),),
        (nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2, padding=2), nn.Conv2d(2, 2, 3, stride=2), nn.AvgPool2d(2),
                       nn.Conv2d(2, 2, 3, dilation=3)),),
    ]


def field_variant(net: nn.Sequential, *, jump: bool = True, own_stride: bool = False, dilation: bool = True,
                  padding: bool = False, pools: bool = True) -> int:
    """The recurrence with one of the usual slips, for the detectors."""
    field, j = 1, 1
    for layer in net:
        if isinstance(layer, nn.Conv2d) or (pools and isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d))):
            k, s = _side(layer.kernel_size), _side(layer.stride)
            d = _side(getattr(layer, "dilation", 1)) if dilation else 1
            p = _side(layer.padding) if padding else 0
            field += (d * (k - 1) + 2 * p) * (j * s if own_stride else j)
            j = j * s if jump else 1
    return field


def _slip(a: Attempt, **variant: bool) -> bool:
    return a.got == field_variant(a.args[0], **variant) != a.expected


def check_receptive_field_of(answer: Any) -> Verdict:
    """Exercise 09.6: the learner's ``receptive_field_of(net)``."""
    return judge_code(
        answer, receptive_field_of, receptive_field_trials(),
        what="your function receptive_field_of(net)",
        compare=same_number,
        right="start from 1 with a jump of 1; every convolution and pooling adds d(k - 1) times the jump it sees, "
              "then multiplies the jump by its stride; padding and activations change nothing.",
        mistakes=[
            Mistake(lambda a: _slip(a, jump=False),
                    "Each kernel tap is a jump apart in input pixels, and the jump is the product of the strides of "
                    "the layers before: multiply (k - 1) by it."),
            Mistake(lambda a: _slip(a, own_stride=True),
                    "A layer's own stride spaces out its outputs, not the inputs its kernel reads: update the jump "
                    "after adding the layer's (k - 1) * jump."),
            Mistake(lambda a: _slip(a, dilation=False),
                    "A dilated kernel spans d(k - 1) + 1 pixels: read layer.dilation and multiply (k - 1) by it."),
            Mistake(lambda a: _slip(a, padding=True),
                    "Padding adds zeros at the border, not reach: leave layer.padding out of the size."),
            Mistake(lambda a: _slip(a, pools=False),
                    "Pooling layers have a kernel and a stride too: they enlarge the field and multiply the jump "
                    "like a convolution."),
            Mistake(lambda a: a.got == a.expected - 1,
                    "One short: a single pixel has a field of 1, so start from 1, not 0."),
        ],
        otherwise="Compare your value with ck.receptive_field(net, (1, 1, 64, 64))[-1] for the same network, and "
                  "follow the recurrence layer by layer.",
    )


EX1 = Exercise(
    "09.1", "A receptive field by hand", "number",
    hint="Start from r = 1 and jump = 1; for each layer add (k - 1) * jump, then multiply the jump by the layer's "
         "stride. Padding plays no part.",
    check=receptive_field_size,
    answer=lambda: field_of_stack(STEM_AND_THREE_3X3),
)
EX2 = Exercise(
    "09.2", "Centres", "number",
    hint="Track the centre of the first unit with the jump: c starts at 0 and each layer does "
         "c += ((k - 1) / 2 - p) * jump, then jump *= s. Unit i is i jumps further.",
    check=center_of_unit,
    answer=lambda: centre_of_lenet_unit(2),
)
EX3 = Exercise(
    "09.3", "A hybrid dilated stack", "number",
    hint="With stride 1 everywhere the jump stays 1, so each layer adds what its kernel spans minus one: d(k - 1).",
    check=lambda a: dilated_receptive_field(a, dilations=DILATIONS),
    answer=lambda: field_of_stack([(3, 1, 0, d) for d in DILATIONS]),
    discussion=_dilation_stacks,
)
EX4 = Exercise(
    "09.4", "Branches", "number",
    hint="Compute the field and the jump after the stem; each branch then adds (k - 1) * jump for each of its "
         "kernels. What does a concatenation of the branches see?",
    check=multipath_receptive_field,
    answer=lambda: inception_after_stem_fields()[0],
    discussion=_one_by_one_branch,
)
EX5 = Exercise(
    "09.5", "Augmentation, further", "open question",
    hint="Reuse the shift experiment's code with the new transform in the training data only; for rotations, "
         "rotate the test images with v2.functional.rotate and plot accuracy against the angle.",
    outcome="with padding 8 the accuracy stays high for shifts up to about 8 pixels and falls beyond; without "
            "rotation augmentation the accuracy falls as the test images rotate. The cost on centred images is "
            "one observation per run: compare it with the spread between seeds.",
    discussion="Convolutions are shift-equivariant and global average pooling makes the network nearly "
               "shift-invariant, but only for shifts the borders and the pooling grid allow; random crops teach "
               "the rest, up to the shifts seen in training. Nothing in a CNN is rotation-invariant: rotations "
               "have to be learned from the data, and augmentation spends some capacity on them, which can cost "
               "a little accuracy on centred, upright images.",
)
EX6 = Exercise(
    "09.6", "Write the receptive-field recurrence", "code",
    hint="Loop over the layers of the nn.Sequential; only nn.Conv2d, nn.MaxPool2d and nn.AvgPool2d change the "
         "field. Read kernel_size, stride and dilation (they may be ints or tuples), and keep the jump as well as "
         "the field.",
    check=check_receptive_field_of,
    answer=lambda: receptive_field_of,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
