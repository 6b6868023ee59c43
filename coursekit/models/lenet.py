"""LeNet-5: two convolutions, two poolings, three fully connected layers.

LeCun et al. (1998) read 32x32 digits; d2l keeps the layer sizes and pads the
28x28 Fashion-MNIST images by 2 in the first convolution, which gives the same
feature-map sizes: 28 -> conv5 (pad 2) 28 -> pool 14 -> conv5 10 -> pool 5,
so the first fully connected layer sees 16 * 5 * 5 = 400 features.
"""

from __future__ import annotations

from torch import nn

from ._checks import check_input


def lenet(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 in d2l's form: sigmoid activations and average pooling.

    Input ``(N, in_channels, 28, 28)`` -> logits ``(N, num_classes)``.
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )
    return check_input(net, "lenet", in_channels, size=28)


def lenet_modern(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 with the two changes that came later: ReLU and max-pooling.

    Same shapes as :func:`lenet`; trains in far fewer epochs because ReLU does
    not saturate. Input ``(N, in_channels, 28, 28)`` -> logits ``(N, num_classes)``.
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
    return check_input(net, "lenet_modern", in_channels, size=28)
