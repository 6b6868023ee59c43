"""What several test modules share: closed-form parameter counts, reading a check's verdict,
small networks for the inspect tests and checks of the course's models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

MARKS = {True: "✔ ", False: "✘ ", None: "… "}
# Answers of every odd kind a learner may give: a check answers each with exactly one line, never an error.
ODD_ANSWERS = [None, "abc", "12", [1, 2], (1,), {}, 3.5, -1, float("nan"), True, np.int64(3), torch.tensor(2.0),
               torch.ones(3), np.array([1, 2])]


def conv_params(k: int, c_in: int, c_out: int, bias: bool = True, groups: int = 1) -> int:
    """Parameters of a k x k convolution: (k*k*c_in/groups + 1)*c_out, by the formula of the notes."""
    return (k * k * c_in // groups + bias) * c_out


def linear_params(n_in: int, n_out: int) -> int:
    """Parameters of a Linear layer: (n_in + 1)*n_out."""
    return (n_in + 1) * n_out


def count(net: nn.Module) -> int:
    """Parameters of a network, counted directly (not with coursekit's own counter)."""
    return sum(p.numel() for p in net.parameters())


def case(answer: Any, verdict: bool | None, hint: str = "", **settings: Any) -> Any:
    """One row of a check's table: the answer, the verdict it gets, a piece of its line, and exercise settings."""
    return pytest.param(answer, verdict, hint, settings)


def assert_verdict(capsys: pytest.CaptureFixture[str], result: Any, verdict: bool | None, hint: str) -> None:
    """The check printed exactly one line, with the right mark and ``hint``, and returned the same verdict."""
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith(MARKS[verdict]), lines[0]
    assert hint in lines[0], lines[0]
    assert result.correct is verdict
    assert bool(result) is (verdict is True)


def small_lenet() -> nn.Sequential:
    """LeNet with ReLU and max-pooling: learns Fashion-MNIST in a few hundred steps."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


class Tripwire(nn.Module):
    """Identity until its `at`-th call in training mode, then does `action` (a NaN or a Ctrl-C)."""

    def __init__(self, at: int, action: str) -> None:
        super().__init__()
        self.at, self.action, self.calls = at, action, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                if self.action == "interrupt":
                    raise KeyboardInterrupt
                return x * float("nan")
        return x


# --- small networks that coursekit.inspect is checked on ----------------------------------------


def d2l_lenet() -> nn.Sequential:
    """The lecture's LeNet-5 (d2l version: sigmoid, average pooling), without coursekit's input check."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10),
    )


class ResidualBlock(nn.Module):
    """ResNet's basic block; a 1x1 strided convolution on the shortcut when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=stride) if stride != 1 or c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.shortcut is not None:
            x = self.shortcut(x)
        return F.relu(y + x)


class ResNetTiny(nn.Module):
    """A stem, two residual blocks (the second halves the size) and a global-pooling head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        self.stage = nn.Sequential(ResidualBlock(8, 8), ResidualBlock(8, 12, stride=2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(12, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage(self.stem(x)))


# --- the course's models ------------------------------------------------------------------------


def assert_block_shapes(block: nn.Module, shape_in: tuple[int, ...], shape_out: tuple[int, ...]) -> None:
    """``block`` maps a random ``shape_in`` batch to ``shape_out``, and says so in ``out_channels`` if it has one."""
    assert block(torch.rand(shape_in)).shape == shape_out
    if hasattr(block, "out_channels"):
        assert block.out_channels == shape_out[1]


def assert_same_layers_as_torchvision(name: str) -> None:
    """coursekit's ``name`` has torchvision's parameters: the same total and the same tensor shapes.

    Built on the ``meta`` device: shapes only, no memory, no arithmetic.
    """
    import torchvision  # imported here: slow to import, and only the model tests need it

    from coursekit.models import get_model

    with torch.device("meta"):
        ours = get_model(name)
        theirs = getattr(torchvision.models, name)(weights=None)
    assert count(ours) == count(theirs)
    # Same multiset of tensor shapes: the same layers, not just the same total.
    assert sorted(p.shape for p in ours.parameters()) == sorted(p.shape for p in theirs.parameters())
    assert sorted(b.shape for b in ours.buffers()) == sorted(b.shape for b in theirs.buffers())
