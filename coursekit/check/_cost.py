"""Exercise checks for chapter 10 the cost of an architecture.

Expected values are counted on real layers (``nn.Conv2d`` parameters,
:func:`coursekit.inspect.flops`, :func:`coursekit.inspect.memory`); the hints
recompute the usual slips of the formulas.
"""

from __future__ import annotations

from torch import nn

from ._verdicts import _count, _number, _unanswered, _verdict

__all__: list[str] = [
    "activation_bytes",
    "conv_macs",
    "conv_parameters",
    "separable_ratio",
]


def _near(a: float, b: float, rel: float = 1e-3) -> bool:
    return abs(float(a) - float(b)) <= rel * max(abs(float(b)), 1e-12)



def conv_parameters(answer, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3,
                    groups: int = 4) -> bool:
    """Exercise 10.1: the parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups)``."""
    if _unanswered(answer, "an int, the number of parameters (weights and biases)"):
        return False
    value = _number(answer, "the number of parameters")
    if value is None:
        return False
    k, c_in, c_out, g = kernel_size, in_channels, out_channels, groups
    conv = nn.Conv2d(c_in, c_out, k, groups=g)
    expected = _count(conv)
    ungrouped = _count(nn.Conv2d(c_in, c_out, k))
    if value == expected:
        return _verdict(True, f"Right: {expected:,}. Each of the {c_out} filters reads only the {c_in // g} channels "
                        f"of its group: ({k}*{k}*{c_in}/{g})*{c_out} + {c_out}, {g} times fewer weights than "
                        f"without groups ({ungrouped:,}); the biases do not change.")
    if value == ungrouped:
        return _verdict(False, f"That is the count without groups. With groups={g} every filter sees only "
                        f"{c_in}/{g} = {c_in // g} input channels.")
    if value == conv.weight.numel():
        return _verdict(False, f"Close: add the biases, one per output channel ({c_out}).")
    if value == ungrouped // g:
        return _verdict(False, f"Close: the groups divide the weights, but each of the {c_out} output channels keeps "
                        "its own bias, so do not divide the biases.")
    if value == (k * k * (c_in // g) + 1) * (c_out // g):
        return _verdict(False, "That is one group. The layer has all the groups side by side: "
                        f"{g} groups of {c_out // g} filters.")
    return _verdict(False, f"Not quite (you said {answer}). (K_H*K_W*C_in/g)*C_out weights + C_out biases; check "
                    "with sum(p.numel() for p in conv.parameters()).")


def separable_ratio(answer, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3) -> bool:
    """Exercise 10.2: weights of a depthwise separable convolution (depthwise ``kernel_size`` on
    ``in_channels``, then 1x1 to ``out_channels``) divided by those of the ordinary convolution, no biases."""
    if _unanswered(answer, "a float, the separable convolution's weights divided by the ordinary one's"):
        return False
    value = _number(answer, "the ratio")
    if value is None:
        return False
    k, c_in, c_out = kernel_size, in_channels, out_channels
    ordinary = _count(nn.Conv2d(c_in, c_out, k, bias=False))
    depthwise = _count(nn.Conv2d(c_in, c_in, k, groups=c_in, bias=False))
    pointwise = _count(nn.Conv2d(c_in, c_out, 1, bias=False))
    expected = (depthwise + pointwise) / ordinary
    if _near(value, expected):
        return _verdict(True, f"Right: ({depthwise:,} + {pointwise:,}) / {ordinary:,} = {expected:.4f} = 1/{c_out} + "
                        f"1/{k * k}: about {1 / expected:.1f} times fewer weights (and multiply-adds).")
    if _near(value, 1 / expected):
        return _verdict(False, "Upside down: divide the separable convolution's weights by the ordinary one's.")
    if 1 < value <= 100 and _near(value / 100, expected, rel=0.01):
        return _verdict(False, f"That is a percentage; give a fraction ({value / 100:.4f}).")
    if _near(value, 1 / c_in + 1 / (k * k)):
        return _verdict(False, f"The 1x1 convolution's share is C_in*C_out / (K*K*C_in*C_out) = 1/(K*K); the "
                        f"depthwise one's is K*K*C_in / (K*K*C_in*C_out) = 1/C_out (C_out = {c_out}, not {c_in}).")
    if _near(value, depthwise / ordinary):
        return _verdict(False, "That is the depthwise part alone; add the 1x1 (pointwise) convolution that mixes "
                        "the channels.")
    if _near(value, pointwise / ordinary):
        return _verdict(False, "That is the 1x1 part alone; add the depthwise convolution.")
    return _verdict(False, f"Not quite (you said {answer}). Depthwise: K*K*C_in weights; pointwise: C_in*C_out; "
                    "ordinary: K*K*C_in*C_out. Divide the sum by the ordinary count.")


def conv_macs(answer, in_channels: int = 64, out_channels: int = 128, kernel_size: int = 3, stride: int = 2,
              padding: int = 1, size: int = 56) -> bool:
    """Exercise 10.3: multiply-adds of ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)``
    on one ``in_channels`` x ``size`` x ``size`` input."""
    if _unanswered(answer, "an int, the multiply-adds of one forward pass for one image"):
        return False
    value = _number(answer, "the number of multiply-adds")
    if value is None:
        return False
    from ..inspect import flops

    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)
    counted = flops(conv, (1, in_channels, size, size))
    expected = counted.macs
    out = (size + 2 * padding - kernel_size) // stride + 1
    per_pixel = kernel_size * kernel_size * in_channels * out_channels
    if value == expected:
        return _verdict(True, f"Right: {out}x{out} output pixels times {per_pixel:,} multiply-adds each "
                        f"(K*K*C_in*C_out) = {expected:,}; that is {counted.flops:,} FLOPs.")
    if value == counted.flops:
        return _verdict(False, "That counts FLOPs (a multiply and an add are 2); the question asks for multiply-adds.")
    if value == per_pixel * size * size:
        return _verdict(False, f"The kernel runs at every *output* pixel: with stride {stride} the output is "
                        f"{out}x{out}, not {size}x{size}.")
    if value == per_pixel:
        return _verdict(False, f"That is one output pixel; the layer computes {out}x{out} of them.")
    if value == expected + out * out * out_channels:
        return _verdict(False, "Close: the bias additions are not multiply-adds (and flop counters leave them out).")
    return _verdict(False, f"Not quite (you said {answer}). Multiply-adds = H_out*W_out*K*K*C_in*C_out, with "
                    "H_out = floor((H + 2p - K) / s) + 1; check with ck.flops(conv, (1, C_in, H, W)).macs.")


def activation_bytes(answer) -> bool:
    """Exercise 10.4: bytes of the output of VGG-16's first convolution for one 224x224 image in float32."""
    if _unanswered(answer, "an int, the size in bytes"):
        return False
    value = _number(answer, "the size in bytes")
    if value is None:
        return False
    from ..inspect import memory
    from ..models import VGG16_ARCH, vgg_block

    num_convs, channels = VGG16_ARCH[0]
    first = vgg_block(num_convs, 3, channels)[0]  # the first layer of ck.models.vgg16()
    expected = memory(first, (1, 3, 224, 224)).activations
    numel = expected // 4
    if value == expected:
        return _verdict(True, f"Right: {first.out_channels} maps of 224x224 values, 4 bytes each: {expected:,} bytes "
                        f"({expected / 1e6:.1f} MB), for one image and one layer; VGG-16 has 13 such layers, and a "
                        "batch of 128 multiplies it all by 128.")
    if value == numel:
        return _verdict(False, "That is the number of values; a float32 takes 4 bytes.")
    if value == numel * 32:
        return _verdict(False, "That is in bits; a float32 is 4 bytes.")
    if value < 1e4 and _near(value * 1e6, expected, rel=0.01) or _near(value * 2**20, expected, rel=0.01):
        return _verdict(False, "Right size, but give it in bytes, not megabytes.")
    if value == 3 * 224 * 224 * 4:
        return _verdict(False, "That is the input image; the layer outputs 64 channels.")
    return _verdict(False, f"Not quite (you said {answer}). Output shape (1, 64, 224, 224), so 64*224*224 values of 4 "
                    "bytes; check with ck.inspect.memory(layer, (1, 3, 224, 224)).activations.")
