"""Assignment hw3 (chapters 06-08): batch norm from scratch, a residual block, gradient flow, a budget."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..check.code import Mistake, judge_code, same_module, same_tensor
from ..check.verdict import Slip, Verdict, judge
from ..config import for_profile
from ..models.batch_norm import batch_norm
from ..models.densenet import DenseBlock
from ..models.resnet import Residual
from .budget import Budget
from .question import Question


def _bn_trials(seed: int) -> list[tuple]:
    """``(training, X, gamma, beta, moving_mean, moving_var)``: fully connected and convolutional inputs, both modes."""
    g = torch.Generator().manual_seed(seed)
    trials = []
    for training, shape in ((True, (8, 3)), (True, (4, 3, 5, 5)), (False, (4, 3, 5, 5)), (False, (8, 3))):
        stats = (1, shape[1]) if len(shape) == 2 else (1, shape[1], 1, 1)
        X = 2 + 3 * torch.randn(shape, generator=g)
        gamma, beta = 1 + torch.rand(stats, generator=g), torch.randn(stats, generator=g)
        trials.append((training, X, gamma, beta, torch.randn(stats, generator=g), 1 + torch.rand(stats, generator=g)))
    return trials


def _in_mode(fn):
    """Call a ``batch_norm`` with its keyword ``training=`` taken from the trial's first item."""
    def call(training, X, gamma, beta, moving_mean, moving_var):
        return fn(X, gamma, beta, moving_mean, moving_var, training=training)
    return call


def _same_triple(got: Any, expected: tuple, args: tuple) -> str | None:
    """The three results ``(Y, moving_mean, moving_var)`` match the reference's."""
    if not isinstance(got, tuple) or len(got) != 3:
        return "your function should return the tuple (Y, moving_mean, moving_var)"
    for name, mine, theirs in zip(("Y", "moving_mean", "moving_var"), got, expected):
        difference = same_tensor(mine, theirs, args)
        if difference is not None:
            mode = "training" if args[0] else "evaluation"
            return f"in {mode} mode, {name}: {difference}"
    return None


def check_batch_norm(answer: Any, seed: int = 0) -> Verdict:
    """hw3.1: ``batch_norm(X, gamma, beta, moving_mean, moving_var, *, training, momentum=0.1, eps=1e-5)``.

    The reference is :func:`coursekit.models.batch_norm.batch_norm`, itself tested against
    ``torch.nn.functional.batch_norm`` (PyTorch's conventions: momentum 0.1, unbiased moving variance).
    """
    trials = _bn_trials(seed)
    learner = _in_mode(answer) if callable(answer) else answer
    return judge_code(
        learner, _in_mode(batch_norm), trials,
        what="your function batch_norm(X, gamma, beta, moving_mean, moving_var, *, training)",
        right="in training the batch's mean and biased variance normalise X (per feature, or per channel over "
              "N, H and W) and the moving averages move by momentum towards them (the unbiased variance, as "
              "PyTorch does); in evaluation the moving averages normalise X and stay as they are.",
        otherwise="Compare with torch.nn.functional.batch_norm(X, mean, var, gamma.flatten(), beta.flatten(), "
                  "training=...) on a small example.",
        compare=_same_triple,
        mistakes=[
            Mistake(lambda a: a.args[1].dim() == 4 and a.args[0] and same_tensor(a.got[0], _per_pixel(*a.args[1:4]),
                                                                               a.args) is None,
                    "For images, a channel's statistics pool over the batch and every position: mean over dims "
                    "(0, 2, 3), not over the batch alone."),
            Mistake(lambda a: not a.args[0] and same_tensor(a.got[0], _in_mode(batch_norm)(True, *a.args[1:])[0],
                                                            a.args) is None,
                    "In evaluation mode, normalise with moving_mean and moving_var, not the batch's statistics: "
                    "a prediction must not depend on the other images in the batch."),
            Mistake(lambda a: a.args[0] and same_tensor(a.got[1], _swapped_momentum(*a.args[1:]), a.args) is None,
                    "Your moving mean moves the wrong way: new = (1 - momentum) * old + momentum * batch mean."),
        ],
    )


def _per_pixel(X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """The slip of hw3.1: statistics over the batch only, for every channel and position."""
    mean, var = X.mean(dim=0, keepdim=True), X.var(dim=0, correction=0, keepdim=True)
    return gamma * (X - mean) / torch.sqrt(var + eps) + beta


def _swapped_momentum(X, gamma, beta, moving_mean, moving_var, momentum: float = 0.1) -> torch.Tensor:
    return batch_norm(X, gamma, beta, moving_mean, moving_var, training=True, momentum=1 - momentum)[1]


def check_residual(answer: Any, seed: int = 0) -> Verdict:
    """hw3.2: a class ``Residual(in_channels, num_channels, use_1x1conv=False, strides=1)`` against d2l's."""
    trials = [(3, 3, False, 1), (3, 6, True, 2), (4, 5, True, 1)]
    make_input = lambda args: torch.randn(2, args[0], 8, 8, generator=torch.Generator().manual_seed(seed))  # noqa: E731

    def reference(in_channels, num_channels, use_1x1conv, strides):
        torch.manual_seed(0)
        return Residual(in_channels, num_channels, use_1x1conv, strides)

    return judge_code(
        answer, reference, trials,
        what="your class Residual(in_channels, num_channels, use_1x1conv=False, strides=1)",
        right="conv-BN-ReLU-conv-BN, plus the input (through a 1x1 convolution with the same stride when the "
              "channels or the size change), then a ReLU.",
        otherwise="Check the order of the layers and that the ReLU comes after the addition.",
        compare=same_module(make_input),
        mistakes=[
            Mistake(lambda a: isinstance(a.error, RuntimeError) and "size" in str(a.error) and not a.args[2],
                    "The shortcut adds X to the output: their shapes must agree (use_1x1conv=False keeps them)."),
            Mistake(lambda a: isinstance(a.error, RuntimeError) and "size" in str(a.error),
                    "With use_1x1conv, X goes through nn.Conv2d(in_channels, num_channels, 1, stride=strides) "
                    "before the addition, so that its channels and size match."),
        ],
    )


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
                  max_seconds=for_profile(smoke=None, laptop=300, full=300))


QUESTIONS = (
    Question("hw3.1", "batch norm from scratch", "code", "Reduce over dim 0 for (N, C), over (0, 2, 3) for "
             "(N, C, H, W), keeping dims so that the statistics broadcast.", check=check_batch_norm,
             answer=lambda: batch_norm),
    Question("hw3.2", "a residual block", "code", "Two 3x3 convolutions with batch norm; the 1x1 convolution "
             "sits on the shortcut.", check=check_residual, answer=lambda: Residual),
    Question("hw3.3", "gradient norms", "code", "One backward pass, then read weight.grad of each convolution.",
             check=check_grad_norms, answer=lambda: reference_grad_norms),
    Question("hw3.4", "channels out of a dense block", "number", "Concatenation adds channels; nothing replaces "
             "them.", check=check_dense_channels, answer=dense_block_channels),
)
