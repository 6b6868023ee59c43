"""GoogLeNet: parallel branches with different receptive fields, concatenated.

Szegedy et al. (2014), "Going deeper with convolutions". An Inception block
looks at its input through a 1x1, a 3x3 and a 5x5 convolution and a 3x3
max-pool side by side and stacks the four results along the channel axis.
1x1 convolutions before the 3x3 and 5x5 ones (and after the pool) cut the
channel count, which is what keeps 9 Inception blocks affordable.

Not torchvision's ``googlenet``: its "5x5" branch uses a 3x3 convolution (a
mistake kept for compatibility with its pretrained weights), it puts batch
normalization after every bias-free convolution and leaves out local response
normalization, and its auxiliary heads pool adaptively. Its parameter count
therefore differs from the paper's; :func:`googlenet_imagenet` follows the
paper (Table 1 and Section 5) and the tests count it against that table.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_input


class Inception(nn.Module):
    """The Inception block: four branches whose outputs are concatenated.

    Args:
        in_channels: input channels.
        c1: channels of the 1x1 branch.
        c2: ``(reduce, out)`` channels of the 1x1 -> 3x3 branch.
        c3: ``(reduce, out)`` channels of the 1x1 -> 5x5 branch.
        c4: channels of the 1x1 convolution after the 3x3 max-pool.

    ``(N, in_channels, H, W)`` -> ``(N, c1 + c2[1] + c3[1] + c4, H, W)``
    (``out_channels``); every branch pads to keep the size.
    """

    def __init__(self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                 c4: int) -> None:
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def googlenet(in_channels: int = 1, num_classes: int = 10, ratio: int = 1) -> nn.Sequential:
    """GoogLeNet in d2l's form: the paper's nine Inception blocks, trained at 96x96.

    Five stages ``b1`` .. ``b5``, each (but the last) ending in a stride-2
    max-pool; no local response normalization, auxiliary classifiers or
    dropout. Feature maps at 96: 48 -> 24 -> 12 -> 6 -> 3 -> global average
    pool. Input ``(N, in_channels, H, W)``, any size (96 in the course) ->
    logits ``(N, num_classes)``. ``ratio`` divides every channel count (each
    branch keeps at least one channel) for a narrower network on a CPU; 1 (the
    default) is d2l's.
    """
    if not isinstance(ratio, int) or isinstance(ratio, bool) or not 1 <= ratio <= 64:
        raise ValueError(f"ratio must be an int from 1 to 64, got {ratio!r}.")

    def w(c: int) -> int:
        return max(1, c // ratio)

    def inception(c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int, c_in: int) -> Inception:
        return Inception(c_in, w(c1), (w(c2[0]), w(c2[1])), (w(c3[0]), w(c3[1])), w(c4))

    blocks = []

    def stage(*specs: tuple) -> list[Inception]:
        made = []
        for spec in specs:
            c_in = blocks[-1].out_channels if blocks else w(192)
            blocks.append(inception(*spec, c_in=c_in))
            made.append(blocks[-1])
        return made

    b1 = nn.Sequential(
        nn.Conv2d(in_channels, w(64), kernel_size=7, stride=2, padding=3), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(
        nn.Conv2d(w(64), w(64), kernel_size=1), nn.ReLU(),
        nn.Conv2d(w(64), w(192), kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b3 = nn.Sequential(
        *stage((64, (96, 128), (16, 32), 32),
               (128, (128, 192), (32, 96), 64)),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b4 = nn.Sequential(
        *stage((192, (96, 208), (16, 48), 64),
               (160, (112, 224), (24, 64), 64),
               (128, (128, 256), (24, 64), 64),
               (112, (144, 288), (32, 64), 64),
               (256, (160, 320), (32, 128), 128)),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b5 = nn.Sequential(
        *stage((256, (160, 320), (32, 128), 128),
               (384, (192, 384), (48, 128), 128)),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    net = nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(blocks[-1].out_channels, num_classes))
    # Every stride-2 layer pads, so even a 1x1 image gets through.
    return check_input(net, "googlenet", in_channels, native_size=96)


class AuxClassifier(nn.Module):
    """The paper's auxiliary classifier, attached to Inception 4a and 4d during training.

    5x5/3 average pool, 1x1 convolution to 128 channels, fully connected
    1024 with 70% dropout, then a linear classifier.
    ``(N, in_channels, 14, 14)`` -> ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=5, stride=3)  # 14x14 -> 4x4
        self.conv = nn.Conv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.dropout = nn.Dropout(p=0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv(self.pool(x)))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(self.dropout(x))


class GoogLeNetOutputs(NamedTuple):
    """What :class:`GoogLeNet` returns in training mode with auxiliary classifiers."""

    main: torch.Tensor
    aux1: torch.Tensor
    aux2: torch.Tensor


def _paper_lrn() -> nn.LocalResponseNorm:
    # The paper gives no LRN settings; these are its reference Caffe model's
    # (size 5, alpha 1e-4, beta 0.75), where alpha is divided by size as in PyTorch.
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75)


class GoogLeNet(nn.Module):
    """GoogLeNet as in the paper, for ImageNet at 224x224 (see :func:`googlenet_imagenet`)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000,
                 aux_logits: bool = True) -> None:
        super().__init__()
        # Stem: 224 -> 112 -> 56 -> 28, with LRN as in the paper's Figure 3.
        self.stem = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(kernel_size=3, stride=2, padding=1), norm1=_paper_lrn(),
            conv2_reduce=nn.Conv2d(64, 64, kernel_size=1), relu2_reduce=nn.ReLU(),
            conv2=nn.Conv2d(64, 192, kernel_size=3, padding=1), relu2=nn.ReLU(),
            norm2=_paper_lrn(), pool2=nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        ))
        self.inception3a = Inception(192, 64, (96, 128), (16, 32), 32)
        self.inception3b = Inception(256, 128, (128, 192), (32, 96), 64)
        self.pool3 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # 28 -> 14
        self.inception4a = Inception(480, 192, (96, 208), (16, 48), 64)
        self.inception4b = Inception(512, 160, (112, 224), (24, 64), 64)
        self.inception4c = Inception(512, 128, (128, 256), (24, 64), 64)
        self.inception4d = Inception(512, 112, (144, 288), (32, 64), 64)
        self.inception4e = Inception(528, 256, (160, 320), (32, 128), 128)
        self.pool4 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # 14 -> 7
        self.inception5a = Inception(832, 256, (160, 320), (32, 128), 128)
        self.inception5b = Inception(832, 384, (192, 384), (48, 128), 128)
        self.avgpool = nn.AvgPool2d(kernel_size=7, stride=1)  # 7 -> 1
        self.dropout = nn.Dropout(p=0.4)
        self.fc = nn.Linear(1024, num_classes)
        self.aux_logits = aux_logits
        self.aux1 = AuxClassifier(512, num_classes) if aux_logits else None
        self.aux2 = AuxClassifier(528, num_classes) if aux_logits else None

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        x = self.stem(x)
        x = self.pool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        # The auxiliary heads only help training (extra gradient in the middle of the network).
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.pool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.aux_logits and self.training:
            return GoogLeNetOutputs(x, aux1, aux2)
        return x


def googlenet_imagenet(in_channels: int = 3, num_classes: int = 1000,
                       aux_logits: bool = True) -> GoogLeNet:
    """GoogLeNet as in the paper: LRN in the stem, dropout 0.4, two auxiliary classifiers.

    Input ``(N, in_channels, 224, 224)`` (the 7x7 average pool and the
    auxiliary heads are sized for it). Output ``(N, num_classes)`` logits in
    eval mode or with ``aux_logits=False``; in training mode with
    ``aux_logits=True`` a :class:`GoogLeNetOutputs` ``(main, aux1, aux2)`` of
    three such tensors, to be combined with :func:`googlenet_loss`.
    Without the auxiliary classifiers it has 7.0M parameters (Table 1 of the
    paper sums to about 6.8M; its params column is loosely rounded), with
    them 13.4M.
    """
    net = GoogLeNet(in_channels, num_classes, aux_logits)
    return check_input(net, "googlenet_imagenet", in_channels, size=224)


def googlenet_loss(outputs: torch.Tensor | GoogLeNetOutputs, targets: torch.Tensor,
                   aux_weight: float = 0.3) -> torch.Tensor:
    """Cross-entropy of GoogLeNet's outputs: ``main + aux_weight * (aux1 + aux2)``.

    The paper weights each auxiliary loss by 0.3. A plain logits tensor (eval
    mode, or no auxiliary classifiers) gives the ordinary cross-entropy.
    Returns a scalar tensor.
    """
    if isinstance(outputs, GoogLeNetOutputs):
        main, aux1, aux2 = outputs
        return (F.cross_entropy(main, targets)
                + aux_weight * (F.cross_entropy(aux1, targets) + F.cross_entropy(aux2, targets)))
    return F.cross_entropy(outputs, targets)
