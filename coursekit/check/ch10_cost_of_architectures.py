"""Exercise checks for notebook 10, the cost of an architecture.

Expected values are counted on real layers (``nn.Conv2d`` parameters,
:func:`coursekit.inspect.flops`, :func:`coursekit.inspect.memory`); the hints
recompute the usual slips of the formulas.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params, flops, memory
from .code import Attempt, Mistake, judge_code, same_number
from .exercise import Exercise
from .verdict import Slip, Verdict, close, judge


def conv_parameters(answer: Any, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3,
                    groups: int = 4) -> Verdict:
    """Exercise 10.1: the parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups)``."""
    k, c_in, c_out, g = kernel_size, in_channels, out_channels, groups
    conv = nn.Conv2d(c_in, c_out, k, groups=g)
    expected = count_params(conv).total
    ungrouped = count_params(nn.Conv2d(c_in, c_out, k)).total
    return judge(
        answer, "int", expected,
        what="an int, the number of parameters (weights and biases)",
        right=f"{expected:,}. Each of the {c_out} filters reads only the {c_in // g} channels of its group: "
              f"({k}*{k}*{c_in}/{g})*{c_out} + {c_out}, {g} times fewer weights than without groups "
              f"({ungrouped:,}); the biases do not change.",
        slips=[
            Slip(ungrouped, f"That is the count without groups. With groups={g} every filter sees only "
                 f"{c_in}/{g} = {c_in // g} input channels."),
            Slip(conv.weight.numel(), f"Close: add the biases, one per output channel ({c_out})."),
            Slip(ungrouped // g, f"Close: the groups divide the weights, but each of the {c_out} output channels "
                 "keeps its own bias, so do not divide the biases."),
            Slip((k * k * (c_in // g) + 1) * (c_out // g), "That is one group. The layer has all the groups side by "
                 f"side: {g} groups of {c_out // g} filters."),
        ],
        otherwise="(K_H*K_W*C_in/g)*C_out weights + C_out biases; check with "
                  "sum(p.numel() for p in conv.parameters()).",
    )


def separable_ratio(answer: Any, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3) -> Verdict:
    """Exercise 10.2: weights of a depthwise separable convolution (depthwise ``kernel_size`` on
    ``in_channels``, then 1x1 to ``out_channels``) divided by those of the ordinary convolution, no biases."""
    k, c_in, c_out = kernel_size, in_channels, out_channels
    ordinary = count_params(nn.Conv2d(c_in, c_out, k, bias=False)).total
    depthwise = count_params(nn.Conv2d(c_in, c_in, k, groups=c_in, bias=False)).total
    pointwise = count_params(nn.Conv2d(c_in, c_out, 1, bias=False)).total
    expected = (depthwise + pointwise) / ordinary
    return judge(
        answer, "fraction", expected,
        what="a float, the separable convolution's weights divided by the ordinary one's",
        right=f"({depthwise:,} + {pointwise:,}) / {ordinary:,} = {expected:.4f} = 1/{c_out} + 1/{k * k}: about "
              f"{1 / expected:.1f} times fewer weights (and multiply-adds).",
        slips=[
            Slip(1 / expected, "Upside down: divide the separable convolution's weights by the ordinary one's."),
            Slip(1 / c_in + 1 / (k * k), f"The 1x1 convolution's share is C_in*C_out / (K*K*C_in*C_out) = 1/(K*K); "
                 f"the depthwise one's is K*K*C_in / (K*K*C_in*C_out) = 1/C_out (C_out = {c_out}, not {c_in})."),
            Slip(depthwise / ordinary, "That is the depthwise part alone; add the 1x1 (pointwise) convolution that "
                 "mixes the channels."),
            Slip(pointwise / ordinary, "That is the 1x1 part alone; add the depthwise convolution."),
        ],
        otherwise="Depthwise: K*K*C_in weights; pointwise: C_in*C_out; ordinary: K*K*C_in*C_out. Divide the sum by "
                  "the ordinary count.",
    )


def conv_macs(answer: Any, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3, stride: int = 2,
              padding: int = 1, size: int = 56) -> Verdict:
    """Exercise 10.3: multiply-adds of ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)``
    on one ``in_channels`` x ``size`` x ``size`` input."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)
    counted = flops(conv, (1, in_channels, size, size))
    expected = counted.macs
    out = (size + 2 * padding - kernel_size) // stride + 1
    per_pixel = kernel_size * kernel_size * in_channels * out_channels
    return judge(
        answer, "int", expected,
        what="an int, the multiply-adds of one forward pass for one image",
        right=f"{out}x{out} output pixels times {per_pixel:,} multiply-adds each (K*K*C_in*C_out) = {expected:,}; "
              f"that is {counted.flops:,} FLOPs.",
        slips=[
            Slip(counted.flops, "That counts FLOPs (a multiply and an add are 2); the question asks for "
                 "multiply-adds."),
            Slip(per_pixel * size * size, f"The kernel runs at every *output* pixel: with stride {stride} the output "
                 f"is {out}x{out}, not {size}x{size}."),
            Slip(per_pixel, f"That is one output pixel; the layer computes {out}x{out} of them."),
            Slip(expected + out * out * out_channels, "Close: the bias additions are not multiply-adds (and flop "
                 "counters leave them out)."),
        ],
        otherwise="Multiply-adds = H_out*W_out*K*K*C_in*C_out, with H_out = floor((H + 2p - K) / s) + 1; check with "
                  "ck.flops(conv, (1, C_in, H, W)).macs.",
    )


def activation_bytes(answer: Any) -> Verdict:
    """Exercise 10.4: bytes of the output of VGG-16's first convolution for one 224x224 image in float32."""
    from ..models import VGG16_ARCH, vgg_block

    num_convs, channels = VGG16_ARCH[0]
    first = vgg_block(num_convs, 3, channels)[0]  # the first layer of ck.models.vgg16()
    expected = memory(first, (1, 3, 224, 224)).activations
    numel = expected // 4
    return judge(
        answer, "int", expected,
        what="an int, the size in bytes",
        right=f"{first.out_channels} maps of 224x224 values, 4 bytes each: {expected:,} bytes "
              f"({expected / 1e6:.1f} MB), for one image and one layer; VGG-16 has 13 such layers, and a batch of "
              "128 multiplies it all by 128.",
        slips=[
            Slip(numel, "That is the number of values; a float32 takes 4 bytes."),
            Slip(numel * 32, "That is in bits; a float32 is 4 bytes."),
            # Megabytes are usually not whole: the predicate sees the number as given.
            Slip(lambda a: a < 1e4 and (close(a * 1e6, expected) or close(a * 2**20, expected)),
                 "Right size, but give it in bytes, not megabytes."),
            Slip(3 * 224 * 224 * 4, f"That is the input image; the layer outputs {channels} channels."),
        ],
        otherwise=f"Output shape (1, {channels}, 224, 224), so {channels}*224*224 values of 4 bytes; check with "
                  "ck.inspect.memory(layer, (1, 3, 224, 224)).activations.",
    )


# 10.2 asks about a 5x5 convolution from 96 to 192 channels, a size the notebook's ratio table does not list.
SEPARABLE_SETTINGS = dict(in_channels=96, out_channels=192, kernel_size=5)


def separable_ratio_answer(in_channels: int, out_channels: int, kernel_size: int) -> float:
    """The weights of a depthwise separable convolution over those of the ordinary one, counted on real layers."""
    depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, groups=in_channels, bias=False)
    pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    ordinary = nn.Conv2d(in_channels, out_channels, kernel_size, bias=False)
    return (count_params(depthwise).total + count_params(pointwise).total) / count_params(ordinary).total


def vgg16_first_conv_bytes() -> int:
    """The right answer of 10.4: bytes of VGG-16's first convolution's output for one 224x224 image, float32."""
    from ..models import VGG16_ARCH, vgg_block

    return memory(vgg_block(VGG16_ARCH[0][0], 3, VGG16_ARCH[0][1])[0], (1, 3, 224, 224)).activations


def _batch_of_128() -> str:
    one = vgg16_first_conv_bytes()
    return (f"For a batch of 128: 128 x {one:,} = {128 * one:,} bytes ({128 * one / 2**30:.2f} GiB), for this one "
            "layer's output alone; training keeps it, and those of the other layers, for the backward pass.")


# --- 10.6: the parameters of a bottleneck with a grouped 3x3 convolution, as a function ----------------


def grouped_bottleneck_parameters(channels: int, width: int, groups: int) -> int:
    """Parameters of ResNeXt's bottleneck without batch norm: a 1x1 convolution from ``channels`` to ``width``,
    a 3x3 convolution on ``width`` channels in ``groups`` groups, and a 1x1 back to ``channels``, biases
    included."""
    reduce = (channels + 1) * width                    # 1x1: every output reads all the inputs
    grouped = (3 * 3 * width // groups + 1) * width    # 3x3: every output reads only its group's width / groups
    expand = (width + 1) * channels
    return reduce + grouped + expand


# (channels, width, groups): ResNeXt's 32x4d-like widths, a small block and one with a width of 8 per group.
GROUPED_TRIALS = [(256, 128, 32), (64, 32, 4), (48, 24, 3)]


def grouped_variant(args: tuple, *, divide: bool = True, bias: bool = True, divide_bias: bool = False,
                    divide_all: bool = False, one_group: bool = False) -> int:
    """The count under one of the usual slips, for the detectors."""
    c, w, g = args
    b = 1 if bias else 0
    reduce = (c // g if divide_all else c) * w + b * w
    grouped_weights = 9 * (w // g if divide or divide_all else w) * (w // g if one_group else w)
    grouped_bias = b * (w // g if divide_bias or one_group else w)
    expand = (w // g if divide_all else w) * c + b * c
    return reduce + grouped_weights + grouped_bias + expand


def _slip(a: Attempt, **variant: bool) -> bool:
    return a.got == grouped_variant(a.args, **variant) != a.expected


def check_grouped_bottleneck(answer: Any) -> Verdict:
    """Exercise 10.6: the learner's ``grouped_bottleneck_parameters(channels, width, groups)``."""
    return judge_code(
        answer, grouped_bottleneck_parameters, GROUPED_TRIALS,
        what="your function grouped_bottleneck_parameters(channels, width, groups)",
        compare=same_number,
        right="the two 1x1 convolutions are ordinary, (c_in + 1) * c_out each; the grouped 3x3 has "
              "(9 * width / groups + 1) * width: groups divide the weights, not the filters or their biases.",
        mistakes=[
            Mistake(lambda a: _slip(a, divide=False),
                    "You counted the 3x3 convolution as if it had no groups: each of its filters reads only the "
                    "width / groups channels of its own group, so divide its weights by groups."),
            Mistake(lambda a: _slip(a, bias=False),
                    "You forgot the biases: every convolution has one per output channel."),
            Mistake(lambda a: _slip(a, divide_bias=True),
                    "Groups divide the weights, not the biases: the grouped convolution still has one bias per "
                    "output channel, width of them."),
            Mistake(lambda a: _slip(a, one_group=True),
                    "That is one group of the 3x3 convolution: the layer has groups of them side by side, "
                    "width output channels in all."),
            Mistake(lambda a: _slip(a, divide_all=True),
                    "Only the 3x3 convolution is grouped; the two 1x1 convolutions read all their input channels."),
        ],
        otherwise="Build the block with nn.Conv2d(..., groups=groups) and compare with "
                  "sum(p.numel() for p in block.parameters()).",
    )


EX1 = Exercise(
    "10.1", "Grouped convolution", "number",
    hint="With g groups every filter reads only C_in / g input channels; the number of filters, and so of biases, "
         "does not change.",
    check=conv_parameters,
    answer=lambda: count_params(nn.Conv2d(64, 128, 3, groups=4)).total,
)
EX2 = Exercise(
    "10.2", "Separable ratio, 5x5", "number",
    hint="Count the depthwise weights (K*K per input channel), the pointwise ones (C_in*C_out) and the ordinary "
         "convolution's (K*K*C_in*C_out), then divide the sum of the first two by the third.",
    check=lambda a: separable_ratio(a, **SEPARABLE_SETTINGS),
    answer=lambda: separable_ratio_answer(**SEPARABLE_SETTINGS),
)
EX3 = Exercise(
    "10.3", "Multiply-adds", "number",
    hint="Find the output's height and width with floor((H + 2p - K) / s) + 1; every output value takes "
         "K*K*C_in multiply-adds.",
    check=conv_macs,
    answer=lambda: flops(nn.Conv2d(64, 128, 3, stride=2, padding=1), (1, 64, 56, 56)).macs,
)
EX4 = Exercise(
    "10.4", "Activation memory", "number",
    hint="The output has the layer's out_channels maps of the input's height and width (padding 1 keeps it); a "
         "float32 takes 4 bytes.",
    check=activation_bytes,
    answer=vgg16_first_conv_bytes,
    discussion=_batch_of_128,
)
EX5 = Exercise(
    "10.5", "A lighter VGG", "open question",
    hint="Count before and after with ck.count_params and ck.flops, and measure the activations with "
         "ck.inspect.memory; compare the three ratios.",
    outcome="parameters and multiply-adds fall by large factors; the activation memory changes least (it may "
            "even grow).",
    discussion="The head held most of VGG-16's parameters and separable convolutions cut the convolutions' "
               "weights and multiply-adds by roughly 1/C_out + 1/9. The feature maps, however, keep their "
               "channels and sizes (a separable layer even adds the depthwise output as an extra map), so the "
               "memory of the activations, which dominates training at large batches, barely moves.",
)
EX6 = Exercise(
    "10.6", "Write a grouped bottleneck's parameter count", "code",
    hint="Count the three convolutions one by one with (K*K*C_in/groups + 1)*C_out, using groups only where the "
         "layer is grouped. Which of the terms do the groups divide?",
    check=check_grouped_bottleneck,
    answer=lambda: grouped_bottleneck_parameters,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
