"""Exercise checks for notebook 10, the cost of an architecture.

Expected values are counted on real layers (``nn.Conv2d`` parameters,
:func:`coursekit.inspect.flops`, :func:`coursekit.inspect.memory`); the hints
recompute the usual slips of the formulas.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..inspect import count_params, flops, memory
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
