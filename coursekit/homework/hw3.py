"""Assignment hw3 (chapters 06-08): batch norm from scratch, a residual block, gradient flow, a budget.

Questions hw3.1 and hw3.2 are chapter 06's exercise 06.6 (batch norm's forward pass) and chapter 07's 07.6 (a
residual block with a 1x1 shortcut), graded with their checks.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..check import ch06_batch_norm, ch07_resnet
from ..check.code import Mistake, judge_code, same_tensor
from ..check.verdict import Slip, Verdict, judge
from ..config import for_profile
from ..models.densenet import DenseBlock
from ..models.resnet import Residual
from .budget import Budget
from .question import Question


def reference_grad_norms(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The norm of the cross-entropy loss's gradient for the weight of every ``nn.Conv2d`` of ``net``, in order."""
    net.zero_grad()
    F.cross_entropy(net(X), y).backward()
    return torch.stack([m.weight.grad.norm() for m in net.modules() if isinstance(m, nn.Conv2d)])


def deep_net(num_blocks: int, shortcut: bool, width: int = 8) -> nn.Sequential:
    """A stem, ``num_blocks`` residual (or plain) blocks without batch norm, and a classifier, for 1x28x28 images."""
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                         *[Residual(width, width, shortcut=shortcut, batch_norm=False) for _ in range(num_blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def _norms_of(fn):
    def call(num_blocks, shortcut, seed):
        torch.manual_seed(seed)
        net = deep_net(num_blocks, shortcut)
        g = torch.Generator().manual_seed(seed)
        norms = fn(net, torch.randn(4, 1, 12, 12, generator=g), torch.randint(0, 10, (4,), generator=g))
        return torch.as_tensor(norms, dtype=torch.float32) if norms is not None else None
    return call


def check_grad_norms(answer: Any, seed: int = 0) -> Verdict:
    """hw3.3: ``grad_norms(net, X, y)``, the gradient norm of every convolution's weight, in order."""
    trials = [(2, True, seed), (3, False, seed + 1)]
    return judge_code(
        _norms_of(answer) if callable(answer) else answer, _norms_of(reference_grad_norms), trials,
        what="your function grad_norms(net, X, y)",
        right="one backward pass of the cross-entropy loss, then the norm of each convolution's weight.grad, "
              "in the order of net.modules().",
        otherwise="Zero the gradients first (net.zero_grad()), use F.cross_entropy(net(X), y), and return "
                  "m.weight.grad.norm() for every nn.Conv2d m in net.modules().",
        compare=same_tensor,
        mistakes=[
            Mistake(lambda a: a.got.numel() != a.expected.numel(),
                    "Give one norm per nn.Conv2d (the stem and two per block), in the order of net.modules()."),
        ],
    )


def dense_block_channels() -> int:
    """The output channels of ``DenseBlock(4, 64, 32)``, measured on an input."""
    with torch.no_grad():
        return DenseBlock(4, 64, 32).eval()(torch.zeros(1, 64, 4, 4)).shape[1]


def check_dense_channels(answer: Any) -> Verdict:
    """hw3.4: the channels out of a dense block of 4 layers, growth rate 32, on 64 input channels."""
    expected = dense_block_channels()
    return judge(
        answer, "int", expected,
        what="an int, the number of output channels",
        right=f"the input's 64 channels plus 4 layers x 32 new ones: {expected}.",
        slips=[Slip(4 * 32, "The block concatenates its input too: add the 64 input channels."),
               Slip(32, "That is what the last layer adds; the block keeps every layer's output and its input.")],
        otherwise="Each layer adds growth_rate channels to everything before it.",
    )


def budget() -> Budget:
    """hw3.5: a network with batch norm, at most 40,000 parameters."""
    return Budget(min_accuracy=for_profile(smoke=0.3, laptop=0.82, full=0.88), max_params=40_000,
                  max_seconds=for_profile(smoke=None, laptop=600, full=600))


QUESTIONS = (
    Question("hw3.1", "batch norm's forward pass", "code", "Statistics over every axis but the channels; the "
             "layer's training flag says which statistics to use.", check=ch06_batch_norm.check_batch_norm_forward,
             answer=lambda: ch06_batch_norm.batch_norm_forward),
    Question("hw3.2", "a residual block", "code", "Two 3x3 convolutions with batch norm; the shortcut changes only "
             "when the shapes differ.", check=ch07_resnet.check_residual_block,
             answer=lambda: ch07_resnet.ResidualBlock),
    Question("hw3.3", "gradient norms", "code", "One backward pass, then read weight.grad of each convolution.",
             check=check_grad_norms, answer=lambda: reference_grad_norms),
    Question("hw3.4", "channels out of a dense block", "number", "Concatenation adds channels; nothing replaces "
             "them.", check=check_dense_channels, answer=dense_block_channels),
)
