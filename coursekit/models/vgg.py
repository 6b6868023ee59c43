"""VGG: networks built from one repeated block.

Simonyan and Zisserman (2014): a VGG block is a few 3x3 convolutions (padding
1, so the size is kept) with ReLU, then a 2x2 max-pool that halves the size.
Five blocks take 224x224 to 7x7; three fully connected layers follow. The
configurations differ only in how many convolutions each block has
(``conv_arch``). These are the paper's networks without batch normalization,
which is also what torchvision's ``vgg11`` .. ``vgg19`` are (the tests compare
every parameter shape with them). Unlike torchvision there is no adaptive
pooling before the head, as in the paper, so the input must be 224x224.
"""

from __future__ import annotations

from torch import nn

from ._checks import check_input

ConvArch = tuple[tuple[int, int], ...]

# (number of convolutions, output channels) per block; configurations A, B, D, E of the paper.
VGG11_ARCH: ConvArch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG13_ARCH: ConvArch = ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512))
VGG16_ARCH: ConvArch = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
VGG19_ARCH: ConvArch = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions with ReLU, then a 2x2 max-pool.

    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H // 2, W // 2)``.
    """
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(conv_arch: ConvArch, in_channels: int = 1, num_classes: int = 10, size: int | None = None) -> nn.Sequential:
    """A VGG network: one :func:`vgg_block` per ``(num_convs, out_channels)`` in ``conv_arch``.

    As in d2l (and the paper for five blocks): the blocks, then
    4096-4096-``num_classes`` fully connected layers with dropout 0.5. The head
    expects the 7x7 maps that five blocks make of a 224x224 image.
    Input ``(N, in_channels, 224, 224)`` (five blocks) -> logits ``(N, num_classes)``.

    ``size``: the input side the head is sized for, when it is not the default
    ``7 * 2 ** len(conv_arch)`` (224 for five blocks). The head then sees maps
    of side ``size // 2 ** len(conv_arch)``, e.g. 3x3 for a 96x96 input, which
    makes the network much cheaper to train on a CPU.
    """
    default = 7 * 2 ** len(conv_arch)
    size = default if size is None else size
    side = size // 2 ** len(conv_arch) if isinstance(size, int) and not isinstance(size, bool) else 0
    if side < 1:
        raise ValueError(f"size must be an int of at least {2 ** len(conv_arch)} for {len(conv_arch)} blocks "
                         f"(each halves the side), got {size!r}.")
    blocks: list[nn.Module] = []
    channels = in_channels
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, channels, out_channels))
        channels = out_channels
    net = nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(out_channels * side * side, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes),
    )
    # The head is sized for 7x7 maps (by default) and every block halves the side: 224 for five blocks.
    return check_input(net, "vgg", in_channels, size=size)


def vgg11_narrow(in_channels: int = 1, num_classes: int = 10, ratio: int = 4, size: int = 224) -> nn.Sequential:
    """d2l's trainable VGG-11: every convolution has ``1 / ratio`` of the channels.

    Only the convolutions shrink; as in d2l the head keeps its 4096-unit
    layers (now fed 128 * 7 * 7 features). Roughly 1/16 of VGG-11's convolution
    arithmetic, which makes it trainable on Fashion-MNIST in the course.
    ``size`` (default 224) sizes the head for another input side, as in :func:`vgg`.
    Input ``(N, in_channels, size, size)`` -> logits ``(N, num_classes)``.
    """
    conv_arch = tuple((num_convs, channels // ratio) for num_convs, channels in VGG11_ARCH)
    return check_input(vgg(conv_arch, in_channels, num_classes, size=size), "vgg11_narrow", in_channels, size=size)


def vgg11(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """VGG-11 (configuration A), 132.9M parameters for ImageNet, as torchvision's ``vgg11``.

    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    return check_input(vgg(VGG11_ARCH, in_channels, num_classes), "vgg11", in_channels, size=224)


def vgg13(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """VGG-13 (configuration B), 133.0M parameters for ImageNet, as torchvision's ``vgg13``.

    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    return check_input(vgg(VGG13_ARCH, in_channels, num_classes), "vgg13", in_channels, size=224)


def vgg16(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """VGG-16 (configuration D), 138.4M parameters for ImageNet, as torchvision's ``vgg16``.

    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    return check_input(vgg(VGG16_ARCH, in_channels, num_classes), "vgg16", in_channels, size=224)


def vgg19(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """VGG-19 (configuration E), 143.7M parameters for ImageNet, as torchvision's ``vgg19``.

    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    return check_input(vgg(VGG19_ARCH, in_channels, num_classes), "vgg19", in_channels, size=224)
