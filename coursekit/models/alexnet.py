"""AlexNet: LeNet's recipe, made deep and wide, trained with ReLU and dropout.

Krizhevsky, Sutskever and Hinton (2012): five convolutions (96-256-384-384-256
channels) and three fully connected layers (4096-4096-1000), ~62M parameters.
The paper split every layer over two GPUs; both forms below are the
single-tower network with the paper's full channel counts, which has the same
layers and only more connections in conv2, conv4 and conv5.

Not torchvision's ``alexnet``: that one is the 64-192-384-256-256 variant of
Krizhevsky's "One weird trick" paper (2014), 61.1M parameters, with an
adaptive average pool before the head. The tests count both against their
layer tables.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ._checks import check_input


def alexnet(in_channels: int = 1, num_classes: int = 10, ratio: int = 1) -> nn.Sequential:
    """AlexNet in d2l's form, for Fashion-MNIST upsampled to 224x224.

    Feature maps: 224 -> conv11/4 (pad 1) 54 -> pool 26 -> conv5 26 -> pool 12
    -> conv3 x3 12 -> pool 5, so the head sees 256 * 5 * 5 = 6400 features.
    No local response normalization (d2l leaves it out).

    ``ratio`` divides every convolution's channels and both hidden fully
    connected layers' widths (96-256-384-384-256 and 4096 become 24-64-96-96-64
    and 1024 for ``ratio=4``): the same layers and shapes, about ``1 / ratio**2``
    of the parameters and arithmetic, for training on a CPU.
    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    if not isinstance(ratio, int) or isinstance(ratio, bool) or ratio < 1 or 96 % ratio:
        raise ValueError(f"ratio must be a positive int that divides 96 (1, 2, 4, 8...), got {ratio!r}.")
    c1, c2, c3, c4, c5 = (c // ratio for c in (96, 256, 384, 384, 256))
    hidden = 4096 // ratio
    net = nn.Sequential(
        nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c1, c2, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c4, c5, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(c5 * 5 * 5, hidden), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(hidden, num_classes),
    )
    return check_input(net, "alexnet", in_channels, size=224)


def _paper_lrn() -> nn.LocalResponseNorm:
    # The paper's k=2, n=5, alpha=1e-4, beta=0.75. Its formula multiplies the
    # sum of squares by alpha; PyTorch multiplies by alpha / n, hence 5 * 1e-4.
    return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)


def alexnet_imagenet(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """AlexNet as in the paper: 96-256-384-384-256 convolutions, 4096-4096 head, LRN.

    Layers are named as in the paper (``conv1`` .. ``conv5``, ``fc6`` ..
    ``fc8``). Local response normalization follows the ReLUs of conv1 and
    conv2; dropout (0.5) follows fc6 and fc7.

    The paper says 224x224 inputs and 55x55 conv1 maps, which only agree with
    227x227 inputs or 2 pixels of padding; like torchvision we pad by 2 so that
    224x224 works. Feature maps: 224 -> 55 -> pool 27 -> 27 -> pool 13 -> 13
    -> pool 6, so fc6 sees 256 * 6 * 6 = 9216 features. With biases the network
    has 62,378,344 parameters for 1000 classes.

    Input ``(N, in_channels, 224, 224)`` -> logits ``(N, num_classes)``.
    """
    net = nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=2),
        relu1=nn.ReLU(), norm1=_paper_lrn(), pool1=nn.MaxPool2d(kernel_size=3, stride=2),
        conv2=nn.Conv2d(96, 256, kernel_size=5, padding=2),
        relu2=nn.ReLU(), norm2=_paper_lrn(), pool2=nn.MaxPool2d(kernel_size=3, stride=2),
        conv3=nn.Conv2d(256, 384, kernel_size=3, padding=1), relu3=nn.ReLU(),
        conv4=nn.Conv2d(384, 384, kernel_size=3, padding=1), relu4=nn.ReLU(),
        conv5=nn.Conv2d(384, 256, kernel_size=3, padding=1), relu5=nn.ReLU(),
        pool5=nn.MaxPool2d(kernel_size=3, stride=2),
        flatten=nn.Flatten(),
        fc6=nn.Linear(256 * 6 * 6, 4096), relu6=nn.ReLU(), drop6=nn.Dropout(p=0.5),
        fc7=nn.Linear(4096, 4096), relu7=nn.ReLU(), drop7=nn.Dropout(p=0.5),
        fc8=nn.Linear(4096, num_classes),
    ))
    return check_input(net, "alexnet_imagenet", in_channels, size=224)
