"""DenseNet: concatenate instead of add.

Huang, Liu, van der Maaten and Weinberger (2016). Where a ResNet block outputs
``x + f(x)``, a dense block outputs ``[x, f1(x), f2([x, f1(x)]), ...]``: every
layer sees all earlier feature maps and adds ``growth_rate`` channels.
Transition blocks between dense blocks halve the channels (1x1 convolution)
and the size (2x2 average pool) to keep the growth in check.

d2l's form uses plain BN-ReLU-3x3 conv layers. DenseNet-121 uses the
"bottleneck" layer (BN-ReLU-1x1 conv to ``4 * growth_rate`` channels, then
BN-ReLU-3x3 conv) and has exactly the parameters of torchvision's
``densenet121``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ._checks import check_input

# The stem (7x7/2 conv, 3x3/2 max-pool) and three 2x2/2 average pools: a 29x29
# image reaches the last pool at 2x2; a 28x28 one (plain Fashion-MNIST) at 1x1, and fails.
DENSENET_MIN_SIZE = 29


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """d2l's dense layer: BN, ReLU, 3x3 convolution (pre-activation order).

    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)``.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))


def bottleneck_block(in_channels: int, growth_rate: int, bn_size: int = 4) -> nn.Sequential:
    """DenseNet-B's dense layer: BN-ReLU-1x1 conv to ``bn_size * growth_rate``, BN-ReLU-3x3 conv.

    The 1x1 convolution caps the input of the 3x3 one however many channels
    the block has accumulated. The convolutions have no bias since a BN
    follows each of them, as in the paper's code.
    ``(N, in_channels, H, W)`` -> ``(N, growth_rate, H, W)``.
    """
    width = bn_size * growth_rate
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, width, kernel_size=1, bias=False),
        nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, growth_rate, kernel_size=3, padding=1, bias=False))


class DenseBlock(nn.Module):
    """``num_convs`` dense layers, each fed the concatenation of the input and all earlier outputs.

    Args:
        num_convs: number of layers.
        in_channels: input channels.
        growth_rate: channels each layer adds.
        bn_size: None for d2l's :func:`conv_block` layers; an int for
            :func:`bottleneck_block` layers of width ``bn_size * growth_rate``.

    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)`` with
    ``out_channels = in_channels + num_convs * growth_rate``.
    """

    def __init__(self, num_convs: int, in_channels: int, growth_rate: int,
                 bn_size: int | None = None) -> None:
        super().__init__()
        layers = []
        for i in range(num_convs):
            channels = in_channels + i * growth_rate
            layers.append(conv_block(channels, growth_rate) if bn_size is None
                          else bottleneck_block(channels, growth_rate, bn_size))
        self.net = nn.Sequential(*layers)
        self.out_channels = in_channels + num_convs * growth_rate

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(in_channels: int, out_channels: int, bias: bool = True) -> nn.Sequential:
    """BN, ReLU, 1x1 convolution, 2x2 average pool: fewer channels, half the size.

    ``bias=False`` for DenseNet-121 (a BN follows in the next block anyway).
    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H // 2, W // 2)``.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=bias),
        nn.AvgPool2d(kernel_size=2, stride=2))


def densenet(in_channels: int = 1, num_classes: int = 10, *, num_channels: int = 64, growth_rate: int = 32,
             arch: tuple[int, ...] = (4, 4, 4, 4)) -> nn.Sequential:
    """d2l's DenseNet for Fashion-MNIST, trained at 96x96.

    ResNet's stem, four dense blocks of four :func:`conv_block` layers with
    growth rate 32, transitions halving the channels (64 -> 192 -> 96 -> 224
    -> 112 -> 240 -> 120 -> 248), then BN, ReLU, global average pool, linear.
    Input ``(N, in_channels, H, W)`` with ``H, W >= 29`` (96 in the course) ->
    logits ``(N, num_classes)``.

    The keywords are d2l's names, with its values as defaults: ``num_channels``
    out of the stem, ``growth_rate`` channels added by every layer, and
    ``arch`` the number of layers of each dense block (a transition follows
    every block but the last). A smaller growth rate gives a narrower, faster
    network. The smallest input side is 29 for four blocks, and
    ``2 ** (len(arch) + 1) - 3`` in general.
    """
    for name, value in (("num_channels", num_channels), ("growth_rate", growth_rate)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    arch = tuple(arch)
    if not arch or any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in arch):
        raise ValueError(f"arch must be a non-empty sequence of positive ints (layers per dense block), got {arch!r}.")
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, num_channels, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(num_channels), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    blks: list[nn.Module] = []
    for i, num_convs in enumerate(arch):
        block = DenseBlock(num_convs, num_channels, growth_rate)
        blks.append(block)
        num_channels = block.out_channels
        if i != len(arch) - 1:
            blks.append(transition_block(num_channels, num_channels // 2))
            num_channels = num_channels // 2
    net = nn.Sequential(
        b1, *blks,
        nn.BatchNorm2d(num_channels), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.Linear(num_channels, num_classes))
    # The stem halves twice (rounding up), then len(arch) - 1 pools halve (rounding down):
    # the smallest side that survives is 2 ** (len(arch) + 1) - 3, 29 for d2l's four blocks.
    min_size = 2 ** (len(arch) + 1) - 3
    return check_input(net, "densenet", in_channels, min_size=min_size, native_size=96)


def densenet121(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """DenseNet-121 (DenseNet-BC, growth rate 32) for ImageNet: 8.0M parameters.

    Dense blocks of 6, 12, 24 and 16 :func:`bottleneck_block` layers;
    transitions halve the channels (compression 0.5): 64 -> 256 -> 128 -> 512
    -> 256 -> 1024 -> 512 -> 1024. Submodule names follow torchvision
    (``features.denseblock1``, ``features.transition1``, ..., ``classifier``).
    Input ``(N, in_channels, H, W)`` with ``H, W >= 29`` (224 for ImageNet) ->
    logits ``(N, num_classes)``.
    """
    growth_rate, bn_size, block_config = 32, 4, (6, 12, 24, 16)
    features: OrderedDict[str, nn.Module] = OrderedDict(
        conv0=nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
        norm0=nn.BatchNorm2d(64), relu0=nn.ReLU(),
        pool0=nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    channels = 64
    for i, num_convs in enumerate(block_config, start=1):
        block = DenseBlock(num_convs, channels, growth_rate, bn_size)
        features[f"denseblock{i}"] = block
        channels = block.out_channels
        if i != len(block_config):
            features[f"transition{i}"] = transition_block(channels, channels // 2, bias=False)
            channels = channels // 2
    features["norm5"] = nn.BatchNorm2d(channels)
    net = nn.Sequential(OrderedDict(
        features=nn.Sequential(features), relu=nn.ReLU(),
        avgpool=nn.AdaptiveAvgPool2d((1, 1)), flatten=nn.Flatten(),
        classifier=nn.Linear(channels, num_classes)))
    # He initialization, as in the paper's code (and torchvision).
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
    return check_input(net, "densenet121", in_channels, min_size=DENSENET_MIN_SIZE, native_size=224)
