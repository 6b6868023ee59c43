"""ResNet: learn the residual f(x) - x, so that extra layers can default to the identity.

He, Zhang, Ren and Sun (2015). A residual block adds its input back to its
output, ``relu(F(x) + shortcut(x))``; the shortcut is the identity, or a
strided 1x1 convolution where the block changes the size or the channels.

The file follows the lecture: d2l's :class:`Residual` and the Fashion-MNIST
ResNet-18 built from it, then the ImageNet blocks (:class:`BasicBlock`,
:class:`Bottleneck`) and ResNet-18/34/50/101/152, which have exactly the
parameters of torchvision's ``resnet18`` .. ``resnet152``; last,
:func:`resnet18_small`, the ResNet-18 with the paper's small-image stem (its CIFAR-10 networks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_input


class Residual(nn.Module):
    """d2l's residual block: two 3x3 convolutions with batch norm, plus the input.

    Args:
        in_channels: input channels.
        num_channels: output channels of both convolutions.
        use_1x1conv: pass the input through a 1x1 convolution so that it matches
            the output (needed when the channels or the size change).
        strides: stride of the first 3x3 convolution (and of the 1x1 one).
        shortcut: add the input to the output. ``False`` gives the "plain"
            block of the same depth, the baseline of the ResNet paper
            (``use_1x1conv`` must then be False: there is nothing to add to).
        batch_norm: ``False`` replaces both batch norms by the identity (for
            experiments; the parameter names stay those of the full block).

    ``(N, in_channels, H, W)`` -> ``(N, num_channels, H', W')`` with
    ``H' = (H - 1) // strides + 1``.
    """

    def __init__(self, in_channels: int, num_channels: int, use_1x1conv: bool = False,
                 strides: int = 1, *, shortcut: bool = True, batch_norm: bool = True) -> None:
        super().__init__()
        if use_1x1conv and not shortcut:
            raise ValueError("use_1x1conv=True needs shortcut=True: the 1x1 convolution sits on the shortcut.")
        self.shortcut = shortcut
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = (nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)
        self.bn1 = nn.BatchNorm2d(num_channels) if batch_norm else nn.Identity()
        self.bn2 = nn.BatchNorm2d(num_channels) if batch_norm else nn.Identity()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if not self.shortcut:
            return F.relu(Y)
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels: int, num_channels: int, num_residuals: int,
                 first_block: bool = False, *, shortcut: bool = True,
                 batch_norm: bool = True) -> nn.Sequential:
    """``num_residuals`` :class:`Residual` blocks; the first halves the size unless ``first_block``.

    ``(N, in_channels, H, W)`` -> ``(N, num_channels, H/2, W/2)`` (``H, W`` if ``first_block``).
    ``shortcut`` and ``batch_norm`` are passed to every block (``shortcut=False``:
    a plain stage, whose first block has no 1x1 convolution).
    """
    blocks: list[nn.Module] = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(in_channels, num_channels, use_1x1conv=shortcut, strides=2,
                                   shortcut=shortcut, batch_norm=batch_norm))
        else:
            blocks.append(Residual(num_channels, num_channels,
                                   shortcut=shortcut, batch_norm=batch_norm))
    return nn.Sequential(*blocks)


def resnet18_d2l(in_channels: int = 1, num_classes: int = 10, *, shortcut: bool = True) -> nn.Sequential:
    """d2l's ResNet-18 for Fashion-MNIST, trained at 96x96.

    Stem ``b1`` (7x7/2 conv, BN, ReLU, 3x3/2 max-pool), four stages of two
    :class:`Residual` blocks (64, 128, 256, 512 channels), global average
    pooling and one linear layer. Feature maps at 96: 48 -> 24 -> 24 -> 12
    -> 6 -> 3 -> 1. Input ``(N, in_channels, H, W)``, any size (96 in the
    course) -> logits ``(N, num_classes)``. ``shortcut=False`` builds the
    "plain" 18-layer network of the paper: the same layers without the
    shortcuts (and without the 1x1 convolutions on them).
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    net = nn.Sequential(
        b1,
        resnet_block(64, 64, 2, first_block=True, shortcut=shortcut),
        resnet_block(64, 128, 2, shortcut=shortcut),
        resnet_block(128, 256, 2, shortcut=shortcut),
        resnet_block(256, 512, 2, shortcut=shortcut),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.Linear(512, num_classes))
    return check_input(net, "resnet18_d2l", in_channels, native_size=96)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity where shapes match, else a strided 1x1 convolution and BN (the paper's option B)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """ResNet-18/34 block: two 3x3 convolutions, each followed by BN, plus the shortcut.

    The convolutions have no bias because the BN right after them would cancel it.
    ``zero_init_residual`` starts the last BN's scale at 0, so the block starts
    as the identity (Goyal et al., 2017), which helps large-batch training.

    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
    ``H' = (H - 1) // stride + 1``.
    """

    expansion = 1  # output channels per unit of ``out_channels``

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride,
                               padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        if zero_init_residual:
            nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """ResNet-50/101/152 block: 1x1 reduce, 3x3, 1x1 expand (x4), each with BN, plus the shortcut.

    ``width`` is the channel count of the 3x3 convolution; the block outputs
    ``4 * width`` channels. The stride sits on the 3x3 convolution, as in
    torchvision ("ResNet v1.5"); the original Caffe model strides the first
    1x1, which skips three quarters of the input pixels. Both have the same
    parameters. ``zero_init_residual`` starts the last BN's scale at 0.

    ``(N, in_channels, H, W)`` -> ``(N, 4 * width, H', W')`` with
    ``H' = (H - 1) // stride + 1``.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1,
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        if zero_init_residual:
            nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """The ImageNet ResNet: stem, four stages of ``block``, global average pool, linear.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)`` for ResNet-50.
        in_channels, num_classes: input channels and classes.
        zero_init_residual: start every block's last BN scale at 0.

    Stages have 64, 128, 256, 512 (times ``block.expansion``) channels; all
    but the first halve the size. Input ``(N, in_channels, H, W)``, any size
    (224 for ImageNet) -> logits ``(N, num_classes)``.
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: tuple[int, int, int, int],
                 in_channels: int = 3, num_classes: int = 1000,
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = 64
        stages = []
        for i, (width, num_blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2  # the max-pool already halved the size before stage 1
            blocks = []
            for j in range(num_blocks):
                blocks.append(block(channels, width, stride if j == 0 else 1, zero_init_residual))
                channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)
        # He initialization (the paper's), for the convolutions feeding ReLUs.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _resnet(name: str, block: type[BasicBlock] | type[Bottleneck], layers: tuple[int, int, int, int],
            in_channels: int, num_classes: int, zero_init_residual: bool) -> ResNet:
    net = ResNet(block, layers, in_channels, num_classes, zero_init_residual)
    # Every stride-2 layer pads, so even a 1x1 image gets through.
    return check_input(net, name, in_channels, native_size=224)


def resnet18(in_channels: int = 3, num_classes: int = 1000,
             zero_init_residual: bool = False) -> ResNet:
    """ResNet-18 for ImageNet (11.7M parameters, as torchvision's ``resnet18``).

    Input ``(N, in_channels, H, W)``, any size (224 for ImageNet) -> logits ``(N, num_classes)``.
    """
    return _resnet("resnet18", BasicBlock, (2, 2, 2, 2), in_channels, num_classes, zero_init_residual)


def resnet34(in_channels: int = 3, num_classes: int = 1000,
             zero_init_residual: bool = False) -> ResNet:
    """ResNet-34 for ImageNet (21.8M parameters, as torchvision's ``resnet34``).

    Input ``(N, in_channels, H, W)``, any size (224 for ImageNet) -> logits ``(N, num_classes)``.
    """
    return _resnet("resnet34", BasicBlock, (3, 4, 6, 3), in_channels, num_classes, zero_init_residual)


def resnet50(in_channels: int = 3, num_classes: int = 1000,
             zero_init_residual: bool = False) -> ResNet:
    """ResNet-50 for ImageNet (25.6M parameters, as torchvision's ``resnet50``).

    Input ``(N, in_channels, H, W)``, any size (224 for ImageNet) -> logits ``(N, num_classes)``.
    """
    return _resnet("resnet50", Bottleneck, (3, 4, 6, 3), in_channels, num_classes, zero_init_residual)


def resnet101(in_channels: int = 3, num_classes: int = 1000,
              zero_init_residual: bool = False) -> ResNet:
    """ResNet-101 for ImageNet (44.5M parameters, as torchvision's ``resnet101``).

    Input ``(N, in_channels, H, W)``, any size (224 for ImageNet) -> logits ``(N, num_classes)``.
    """
    return _resnet("resnet101", Bottleneck, (3, 4, 23, 3), in_channels, num_classes, zero_init_residual)


def resnet152(in_channels: int = 3, num_classes: int = 1000,
              zero_init_residual: bool = False) -> ResNet:
    """ResNet-152 for ImageNet (60.2M parameters, as torchvision's ``resnet152``).

    Input ``(N, in_channels, H, W)``, any size (224 for ImageNet) -> logits ``(N, num_classes)``.
    """
    return _resnet("resnet152", Bottleneck, (3, 8, 36, 3), in_channels, num_classes, zero_init_residual)


def resnet18_small(in_channels: int = 1, num_classes: int = 10, *, width: int = 64,
                   dropout: float = 0.0) -> nn.Sequential:
    """ResNet-18 with a small-image stem, for 28x28 or 32x32 images.

    The ImageNet stem (7x7/2 convolution, 3x3/2 max-pool) divides the side by
    4 before the first block: 28x28 would become 7x7. Here the stem is one
    3x3 convolution at stride 1, as in the paper's CIFAR-10 networks (He et
    al. 2015, section 4.2), followed by the four stages of two
    :class:`BasicBlock` each (``width``, 2, 4 and 8 times ``width`` channels).
    Feature maps at 28: 28 -> 28 -> 14 -> 7 -> 4 -> 1.

    Args:
        in_channels, num_classes: input channels and classes.
        width: channels of the stem and the first stage (64, as in ResNet-18; chapter 13 uses 8, so
            that dozens of runs fit a laptop's budget).
        dropout: probability of zeroing each pooled feature before the last linear layer
            (Srivastava et al. 2014); 0 leaves no dropout layer.

    Input ``(N, in_channels, H, W)``, any size -> logits ``(N, num_classes)``.
    """
    if not (isinstance(width, int) and not isinstance(width, bool) and width >= 1):
        raise ValueError(f"width must be a positive int, got {width!r}.")
    if not (isinstance(dropout, (int, float)) and not isinstance(dropout, bool) and 0 <= dropout < 1):
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}.")
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(width), nn.ReLU()]
    channels = width
    for i, out_channels in enumerate((width, 2 * width, 4 * width, 8 * width)):
        stride = 1 if i == 0 else 2
        layers.append(nn.Sequential(BasicBlock(channels, out_channels, stride), BasicBlock(out_channels, out_channels)))
        channels = out_channels
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(channels, num_classes))
    return check_input(nn.Sequential(*layers), "resnet18_small", in_channels, native_size=28)
