"""Exercise checks for chapters 00-05 (building blocks, LeNet, AlexNet, VGG, NiN, GoogLeNet)."""

from __future__ import annotations

from torch import nn

from ._verdicts import _count, _fc_share, _share_slip, _unanswered, _verdict

# --- chapter 01: LeNet -----------------------------------------------------------


def lenet_parameters(answer: int | None, first_channels: int = 16) -> bool:
    """Exercise 01.2: the parameter count of LeNet with ``first_channels`` channels in its first convolution."""
    if _unanswered(answer, "an int, the total number of parameters"):
        return False
    from ..models import lenet

    net = lenet()
    widened = nn.Sequential(*net)
    widened[0] = nn.Conv2d(1, first_channels, kernel_size=5, padding=2)
    widened[3] = nn.Conv2d(first_channels, 16, kernel_size=5)
    expected = _count(widened)
    if answer == expected:
        return _verdict(True, f"Right: {expected:,} parameters, only {expected - _count(net):,} more than LeNet's "
                        f"{_count(net):,}, because the fully connected layers, which hold most of them, do not change.")
    if answer == _count(net):
        return _verdict(False, "That is the count of the original LeNet: build the widened network and count again.")
    if answer == expected - (_count(widened[3]) - _count(net[3])):
        return _verdict(False, "Close: the second convolution changes too, since its input channels must match "
                        "the first convolution's output channels.")
    return _verdict(False, f"Not quite (you said {answer:,}). Each layer has (k*k*c_in + 1)*c_out parameters for a "
                    "convolution and (n_in + 1)*n_out for a Linear layer; add them up over the widened network, "
                    "or use sum(p.numel() for p in net.parameters()).")


# --- chapters 04, 05 ---------------------------------------------------------------


def bottleneck_parameters_saved(answer: int | None, channels: int = 256, bottleneck: int = 32,
                                kernel_size: int = 3) -> bool:
    """Exercise 04.1: parameters saved by a 1x1 bottleneck around a ``kernel_size`` convolution.

    Compares ``conv(channels, channels, k)`` with ``conv(channels, bottleneck, 1)
    -> conv(bottleneck, bottleneck, k) -> conv(bottleneck, channels, 1)``, biases included.
    """
    if _unanswered(answer, "an int, the parameters of the single convolution minus those of the bottleneck"):
        return False
    k = kernel_size
    direct = nn.Conv2d(channels, channels, k)
    narrow = nn.Sequential(nn.Conv2d(channels, bottleneck, 1), nn.Conv2d(bottleneck, bottleneck, k),
                           nn.Conv2d(bottleneck, channels, 1))
    expected = _count(direct) - _count(narrow)
    no_bias = direct.weight.numel() - sum(m.weight.numel() for m in narrow)
    if answer == expected:
        return _verdict(True, f"Right: {_count(direct):,} - {_count(narrow):,} = {expected:,} parameters saved, "
                        f"the bottleneck needs only {_count(narrow) / _count(direct):.1%} of the direct convolution's.")
    if answer == -expected:
        return _verdict(False, "Right size, wrong sign: subtract the bottleneck's count from the direct convolution's.")
    if answer == _count(direct):
        return _verdict(False, "That is the direct convolution's count alone; subtract what the bottleneck needs.")
    if answer == _count(narrow):
        return _verdict(False, "That is what the bottleneck needs; the question asks how many it saves.")
    if answer == no_bias:
        return _verdict(False, "Close: you left out the biases, one per output channel of every convolution.")
    return _verdict(False, f"Not quite (you said {answer:,}). A convolution has (k*k*c_in + 1)*c_out parameters; "
                    "count the direct one and the three of the bottleneck, or build them with nn.Conv2d and "
                    "use sum(p.numel() for p in layer.parameters()).")


def inception_out_channels(answer: int | None, in_channels: int, c1: int, c2: tuple[int, int],
                           c3: tuple[int, int], c4: int) -> bool:
    """Exercise 05.1: the output channels of ``Inception(in_channels, c1, c2, c3, c4)``."""
    if _unanswered(answer, "an int, the number of channels the block outputs"):
        return False
    import torch

    from ..models import Inception

    with torch.no_grad():
        expected = Inception(in_channels, c1, c2, c3, c4)(torch.zeros(1, in_channels, 4, 4)).shape[1]
    if answer == expected:
        return _verdict(True, f"Right: {c1} + {c2[1]} + {c3[1]} + {c4} = {expected} channels; only the last layer "
                        "of each branch reaches the concatenation.")
    if answer == c1 + sum(c2) + sum(c3) + c4:
        return _verdict(False, "You added the 1x1 reduction channels too: they feed the 3x3 and 5x5 convolutions "
                        "inside their branch and never reach the output.")
    if answer == c1 + c2[1] + c3[1]:
        return _verdict(False, "Three branches out of four: the max-pool branch ends in a 1x1 convolution "
                        "with c4 channels, and those are concatenated too.")
    if answer == c1 + c2[1] + c3[1] + in_channels:
        return _verdict(False, "The pooling keeps the input's channels, but the 1x1 convolution after it maps them "
                        "to c4 before the concatenation.")
    if answer == in_channels + expected:
        return _verdict(False, "An Inception block does not keep its input (that is ResNet and DenseNet, later): "
                        "only the four branches are concatenated.")
    return _verdict(False, f"Not quite (you said {answer}). The block concatenates the outputs of its four branches "
                    "along the channel axis; add up the output channels of the last layer of each branch.")


def factorized_conv_parameters(answer: int | None, channels: int = 64, kernel_size: int = 5) -> bool:
    """Exercise 05.3: parameters of a ``kernel_size`` convolution (channels -> channels, no bias)
    replaced by a stack of 3x3 ones with the same receptive field."""
    if _unanswered(answer, "an int, the weights of the stack of 3x3 convolutions"):
        return False
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and at least 3, got {kernel_size}.")
    n = (kernel_size - 1) // 2  # each 3x3 adds 2 to the receptive field
    stack = nn.Sequential(*[nn.Conv2d(channels, channels, 3, bias=False) for _ in range(n)])
    single = nn.Conv2d(channels, channels, kernel_size, bias=False)
    expected = _count(stack)
    if answer == expected:
        return _verdict(True, f"Right: {n} stacked 3x3 convolutions, {expected:,} weights against {_count(single):,} "
                        f"for one {kernel_size}x{kernel_size}: {1 - expected / _count(single):.0%} fewer, "
                        "with an extra nonlinearity in between.")
    if answer == _count(single):
        return _verdict(False, f"That is the single {kernel_size}x{kernel_size} convolution; count the 3x3 stack.")
    if answer == _count(stack[0]):
        return _verdict(False, f"One 3x3 convolution sees 3x3 pixels; you need {n} of them to see "
                        f"{kernel_size}x{kernel_size} (each adds 2 to the receptive field).")
    return _verdict(False, f"Not quite (you said {answer:,}). Each 3x3 layer adds 2 pixels to the receptive field, "
                    f"so {kernel_size}x{kernel_size} needs (k - 1) / 2 of them, each with 3*3*C*C weights.")


# --- chapters 00, 02, 03 -----------------------------------------------------------


def conv2d_output_shape(answer: tuple | None, input_shape: tuple = (20, 16, 50, 100), out_channels: int = 33,
                        kernel_size: tuple = (3, 5), stride: tuple = (2, 1), padding: tuple = (4, 2),
                        dilation: tuple = (3, 1)) -> bool:
    """Exercise 00.1: the output shape of ``nn.Conv2d`` with these settings on an input of ``input_shape``."""
    if _unanswered(answer, "a tuple (N, C, H, W), the shape of the output"):
        return False
    import torch

    conv = nn.Conv2d(input_shape[1], out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation)
    with torch.device("meta"):
        expected = tuple(conv.to("meta")(torch.empty(input_shape)).shape)
    try:
        answer = tuple(int(a) for a in answer)
    except TypeError:
        return _verdict(False, f"Give a tuple of four ints (N, C, H, W), like {tuple(input_shape)}; you gave {answer!r}.")

    def side(n, k, s, p, d):
        return (n + 2 * p - d * (k - 1) - 1) // s + 1

    no_dilation = tuple(expected[:2]) + tuple(side(input_shape[2 + i], kernel_size[i], stride[i], padding[i], 1)
                                              for i in range(2))
    no_padding = tuple(expected[:2]) + tuple(side(input_shape[2 + i], kernel_size[i], stride[i], 0, dilation[i])
                                             for i in range(2))
    if answer == expected:
        return _verdict(True, f"Right: {expected}. Each side is floor((n + 2p - d(k - 1) - 1) / s) + 1; the batch "
                        "size is unchanged and the channels are the layer's out_channels.")
    if len(answer) != 4:
        return _verdict(False, f"Give all four dimensions (N, C, H, W); you gave {len(answer)}.")
    if answer[2:] == expected[2:] and answer[:2] != expected[:2]:
        return _verdict(False, "The height and width are right; the batch size stays the same and the channel "
                        "count becomes out_channels.")
    if answer == no_dilation:
        return _verdict(False, "Close, but you left out the dilation: a k-wide kernel with dilation d spans "
                        "d(k - 1) + 1 pixels.")
    if answer == no_padding:
        return _verdict(False, "Close, but you left out the padding: it adds p pixels on both sides, 2p in all.")
    if answer[2:] == expected[:1:-1]:
        return _verdict(False, "Height and width are swapped: the first number of each pair is the height.")
    return _verdict(False, f"Not quite (you said {answer}). Per side: floor((n + 2p - d(k - 1) - 1) / s) + 1, with "
                    "the first number of each pair for the height and the second for the width.")


def alexnet_flatten_features(answer: int | None, size: int = 256) -> bool:
    """Exercise 02.1: how many features d2l's AlexNet hands to its first fully connected layer at ``size`` x ``size``."""
    if _unanswered(answer, "an int, the length of the flattened feature vector"):
        return False
    import torch

    from ..models import alexnet

    features = alexnet()[:13]  # the convolutional part, without the input check of the full net
    with torch.no_grad():
        maps = features.to("meta")(torch.empty(1, 1, size, size, device="meta"))
    channels, side = maps.shape[1], maps.shape[2]
    expected = channels * side * side
    if answer == expected:
        return _verdict(True, f"Right: {channels} channels of {side}x{side} maps, {expected:,} features. A different "
                        "input size changes the first fully connected layer, which is why AlexNet's head fixes it.")
    if answer == 6400:
        return _verdict(False, "6,400 is the count for 224x224 inputs; follow a "
                        f"{size}x{size} image through the layers instead.")
    if answer == side * side:
        return _verdict(False, f"That is one {side}x{side} map; the last convolution has {channels} of them.")
    if answer == channels * side:
        return _verdict(False, "The maps are square: multiply the channels by the height *and* the width.")
    return _verdict(False, f"Not quite (you said {answer:,}). Apply floor((n + 2p - k) / s) + 1 to each convolution "
                    "and pooling layer in turn, or run torch.zeros(1, 1, size, size) through net[:13] and look at "
                    "the shape.")


def alexnet_fc_share(answer: float | None) -> bool:
    """Exercise 02.2: the fraction of d2l AlexNet's parameters held by its fully connected layers."""
    if _unanswered(answer, "a float between 0 and 1, e.g. 0.5"):
        return False
    from ..models import alexnet

    net = alexnet()
    fc, expected = _fc_share(net)
    if abs(answer - expected) < 0.01:
        return _verdict(True, f"Right: {fc:,} of {_count(net):,} parameters, {expected:.1%}, sit in the three fully "
                        "connected layers, although they do under 5% of the arithmetic.")
    if (verdict := _share_slip(answer, expected)) is not None:
        return verdict
    if answer < 0.1:
        return _verdict(False, "That looks like the share of the *arithmetic* (FLOPs); count parameters instead.")
    return _verdict(False, f"Not quite (you said {answer}). Sum p.numel() over the nn.Linear layers and divide by "
                    "the total over the whole network.")


def vgg_block_parameters(answer: int | None, num_convs: int = 4, in_channels: int = 256,
                         out_channels: int = 512) -> bool:
    """Exercise 03.1: the parameter count of ``vgg_block(num_convs, in_channels, out_channels)``."""
    if _unanswered(answer, "an int, the number of parameters of the block"):
        return False
    from ..models import vgg_block

    expected = _count(vgg_block(num_convs, in_channels, out_channels))
    first = (9 * in_channels + 1) * out_channels
    rest = (9 * out_channels + 1) * out_channels
    if answer == expected:
        return _verdict(True, f"Right: {expected:,}. The first convolution maps {in_channels} to {out_channels} "
                        f"channels ({first:,} parameters); the other {num_convs - 1} map {out_channels} to "
                        f"{out_channels} ({rest:,} each). The max-pool has none.")
    if answer == num_convs * first:
        return _verdict(False, f"Only the first convolution sees {in_channels} input channels: after it the block "
                        f"works on {out_channels} channels.")
    if answer == num_convs * rest:
        return _verdict(False, f"The first convolution's input has {in_channels} channels, not {out_channels}.")
    if answer == expected - num_convs * out_channels:
        return _verdict(False, "Close: add the biases, one per output channel of each convolution.")
    return _verdict(False, f"Not quite (you said {answer:,}). Each 3x3 convolution has (3*3*c_in + 1)*c_out "
                    "parameters, and c_in is in_channels only for the first one.")


def vgg16_head_share(answer: float | None) -> bool:
    """Exercise 03.2: the fraction of ImageNet VGG-16's parameters in its three fully connected layers."""
    if _unanswered(answer, "a float between 0 and 1, e.g. 0.5"):
        return False
    import torch

    from ..models import vgg16

    with torch.device("meta"):
        net = vgg16()
    fc, expected = _fc_share(net)
    if abs(answer - expected) < 0.01:
        return _verdict(True, f"Right: {fc:,} of {_count(net):,} parameters ({expected:.1%}); the first fully "
                        "connected layer alone, 7*7*512 inputs by 4096 outputs, holds over 100 million.")
    if (verdict := _share_slip(answer, expected)) is not None:
        return verdict
    return _verdict(False, f"Not quite (you said {answer}). Sum p.numel() over the nn.Linear layers of "
                    "ck.models.vgg16() and divide by the total.")
