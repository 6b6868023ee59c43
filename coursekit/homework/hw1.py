"""Assignment hw1 (chapters 00-02): convolution and pooling from scratch, a gradient, a LeNet on a budget.

Question hw1.1 is chapter 00's exercise 00.6 (a cross-correlation with padding and stride), graded with its
check: the chapter's code checks are the building blocks of the homework.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..check import ch00_building_blocks
from ..check.code import Mistake, judge_code, same_tensor
from ..check.verdict import Slip, Verdict, judge
from ..config import for_profile
from ..inspect import count_params
from ..models import lenet
from .budget import Budget
from .question import Question


def _grid(seed: int, n: int = 4) -> list[tuple[int, int, int, int]]:
    """``n`` seeded ``(h, w, kh, kw)``: images from 3x3 to 9x9, kernels that fit, not all square."""
    g = torch.Generator().manual_seed(seed)
    sizes = []
    for _ in range(n):
        h, w = (int(v) for v in torch.randint(3, 10, (2,), generator=g))
        kh, kw = int(torch.randint(1, h + 1, (1,), generator=g)), int(torch.randint(1, w + 1, (1,), generator=g))
        sizes.append((h, w, kh, kw))
    return sizes


def reference_pool2d(X: torch.Tensor, pool_size: tuple[int, int], mode: str = "max") -> torch.Tensor:
    """Pooling with stride 1 and no padding, ``(h, w)`` -> ``(h - ph + 1, w - pw + 1)``."""
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], pool_size, stride=1)[0, 0]


def check_pool2d(answer: Any, seed: int = 0) -> Verdict:
    """hw1.2: ``pool2d(X, pool_size, mode)`` against torch's max and average pooling (stride 1)."""
    g = torch.Generator().manual_seed(seed)
    trials = [(torch.randn(h, w, generator=g), (kh, kw), mode)
              for (h, w, kh, kw), mode in zip(_grid(seed + 1), ("max", "avg", "max", "avg"))]
    other = {"max": "avg", "avg": "max"}
    return judge_code(
        answer, reference_pool2d, trials,
        what="your function pool2d(X, pool_size, mode)",
        right="pool2d takes the maximum or the mean of every window, as nn.MaxPool2d and nn.AvgPool2d do "
              "with stride 1.",
        otherwise="Each output Y[i, j] is the max (mode='max') or the mean (mode='avg') of X[i:i + ph, j:j + pw].",
        compare=same_tensor,
        mistakes=[
            Mistake(lambda a: same_tensor(a.got, reference_pool2d(a.args[0], a.args[1], other[a.args[2]]),
                                          a.args) is None,
                    "You swapped the modes: mode='max' takes the maximum of each window, mode='avg' the mean."),
        ],
    )


def reference_kernel_grad(X: torch.Tensor, dY: torch.Tensor) -> torch.Tensor:
    """The gradient of ``(dY * corr2d(X, K)).sum()`` with respect to ``K``, by autograd."""
    K = torch.zeros(X.shape[0] - dY.shape[0] + 1, X.shape[1] - dY.shape[1] + 1, requires_grad=True)
    (dY * F.conv2d(X[None, None], K[None, None])[0, 0]).sum().backward()
    return K.grad


def check_kernel_grad(answer: Any, seed: int = 0) -> Verdict:
    """hw1.3: ``corr2d_kernel_grad(X, dY)`` against autograd's gradient for the kernel."""
    g = torch.Generator().manual_seed(seed)
    trials = []
    for h, w, kh, kw in _grid(seed + 2):
        trials.append((torch.randn(h, w, generator=g), torch.randn(h - kh + 1, w - kw + 1, generator=g)))
    return judge_code(
        answer, reference_kernel_grad, trials,
        what="your function corr2d_kernel_grad(X, dY)",
        right="the kernel's gradient is itself a cross-correlation: corr2d(X, dY). Every weight K[a, b] meets "
              "the input pixels X[i + a, j + b], each weighted by the gradient dY[i, j] of the output it made.",
        otherwise="Write dL/dK[a, b] = sum over i, j of dY[i, j] * X[i + a, j + b], then compare with "
                  "K.grad after backward() on a small example.",
        compare=same_tensor,
        mistakes=[
            Mistake(lambda a: tuple(a.got.shape) == tuple(a.args[0].shape),
                    "Your result has the shape of X: that is the gradient with respect to the input. The question "
                    "asks for the kernel's, of shape (h - oh + 1, w - ow + 1)."),
            Mistake(lambda a: same_tensor(a.got, a.expected.flip(0, 1), a.args) is None,
                    "Your gradient is the right one flipped: slide dY over X without flipping it."),
        ],
    )


def check_conv_parameters(answer: Any) -> Verdict:
    """hw1.4: the parameters of ``nn.Conv2d(6, 16, kernel_size=5)``, LeNet's second convolution."""
    conv = nn.Conv2d(6, 16, kernel_size=5)
    expected = count_params(conv).total
    return judge(
        answer, "int", expected,
        what="an int, the number of parameters of nn.Conv2d(6, 16, kernel_size=5)",
        right=f"16 kernels of 6 x 5 x 5 weights plus 16 biases: {expected:,}.",
        slips=[
            Slip(conv.weight.numel(), "Close: add the biases, one per output channel."),
            Slip(16 * 5 * 5 + 16, "Each of the 16 kernels spans all 6 input channels: 6 x 5 x 5 weights each."),
        ],
        otherwise="A convolution has (c_in * kh * kw + 1) * c_out parameters.",
    )


def lenet_flatten_features() -> int:
    """The ``in_features`` of LeNet's first ``nn.Linear``."""
    return next(m for m in lenet().modules() if isinstance(m, nn.Linear)).in_features


def check_flatten_features(answer: Any) -> Verdict:
    """hw1.5: how many features LeNet (``ck.models.lenet``) hands its first fully connected layer."""
    expected = lenet_flatten_features()
    return judge(
        answer, "int", expected,
        what="an int, the number of features entering LeNet's first nn.Linear",
        right=f"16 channels of 5 x 5 after the second pooling: {expected}.",
        slips=[
            Slip(16 * 4 * 4, "That is what an unpadded first convolution would give; LeNet's pads by 2, so 28x28 "
                             "stays 28x28 before the first pooling."),
            Slip(28 * 28, "That is the number of pixels: the convolutions and poolings come first."),
        ],
        otherwise="Follow the shapes: 28x28 -> conv (padding 2) -> pool -> conv 5x5 -> pool, with 16 channels "
                  "at the end; or print ck.layer_shapes(ck.models.lenet(), (1, 1, 28, 28)).",
    )


def budget() -> Budget:
    """hw1.6: a LeNet variant of at most 60,000 parameters; the accuracy to reach depends on the profile."""
    return Budget(min_accuracy=for_profile(smoke=0.3, laptop=0.83, full=0.88), max_params=60_000,
                  max_seconds=for_profile(smoke=None, laptop=600, full=600))


QUESTIONS = (
    Question("hw1.1", "corr2d with padding and stride", "code", "Pad first, then loop over the windows' top-left "
             "corners, stride apart.", check=ch00_building_blocks.check_corr2d,
             answer=lambda: ch00_building_blocks.corr2d_reference),
    Question("hw1.2", "pool2d from scratch", "code", "Same loop as corr2d; replace the weighted sum by .max() or "
             ".mean() of the window.", check=check_pool2d, answer=lambda: reference_pool2d),
    Question("hw1.3", "the kernel's gradient", "code", "Which input pixels does K[0, 0] multiply, and which "
             "output does each product go to?", check=check_kernel_grad, answer=lambda: reference_kernel_grad),
    Question("hw1.4", "parameters of a convolution", "number", "Weights per kernel times kernels, plus biases.",
             check=check_conv_parameters, answer=lambda: count_params(nn.Conv2d(6, 16, 5)).total),
    Question("hw1.5", "LeNet's flattened features", "number", "Follow the spatial size through each layer.",
             check=check_flatten_features, answer=lenet_flatten_features),
)
