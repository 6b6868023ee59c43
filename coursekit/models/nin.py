"""Network in Network: 1x1 convolutions instead of fully connected layers.

Lin, Chen and Yan (2013): after each ordinary convolution, two 1x1
convolutions act as a small per-pixel MLP across channels. The last block
outputs one channel per class and global average pooling turns each channel
into a logit, so there is no large fully connected head and any image size
from a minimum up works.
"""

from __future__ import annotations

from torch import nn

from ._checks import check_input


def nin_block(in_channels: int, out_channels: int, kernel_size: int, strides: int,
              padding: int) -> nn.Sequential:
    """A convolution, then two 1x1 convolutions, each followed by ReLU.

    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
    ``H' = (H + 2 * padding - kernel_size) // strides + 1`` (the 1x1s keep the size).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


# Three 3x3/2 pools after an 11x11/4 convolution: a 67x67 image reaches the
# last pool at 3x3 and leaves it at 1x1; a 66x66 one reaches it at 2x2 and fails.
NIN_MIN_SIZE = 67


def nin(in_channels: int = 1, num_classes: int = 10, ratio: int = 1) -> nn.Sequential:
    """NiN in d2l's form (AlexNet-like sizes), trained on Fashion-MNIST at 224x224.

    ``ratio`` divides the channels of the first three blocks (96, 256, 384)
    to make a narrower network for CPU training; 1 (the default) is d2l's.

    Feature maps at 224: 54 -> pool 26 -> 26 -> pool 12 -> 12 -> pool 5 -> 5
    -> global average pool 1. Input ``(N, in_channels, H, W)`` with
    ``H, W >= 67`` (224 in the course) -> logits ``(N, num_classes)``.
    """
    if not isinstance(ratio, int) or isinstance(ratio, bool) or not 1 <= ratio <= 96:
        raise ValueError(f"ratio must be an int from 1 to 96, got {ratio!r}.")
    c1, c2, c3 = 96 // ratio, 256 // ratio, 384 // ratio
    net = nn.Sequential(
        nin_block(in_channels, c1, kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nin_block(c1, c2, kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nin_block(c2, c3, kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Dropout(p=0.5),
        # One output channel per class; averaging each map gives the logits.
        nin_block(c3, num_classes, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )
    return check_input(net, "nin", in_channels, min_size=NIN_MIN_SIZE, native_size=224)
