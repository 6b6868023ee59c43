"""Checks for the exercises: call one with your answer and read what it says.

Each check prints a short verdict and, when the answer is off, what is
probably wrong and where to look; it returns True or False so a notebook can
branch on it. Expected values are computed here from the networks
themselves, never typed in, so a check stays right if a model changes.
"""

from __future__ import annotations

from torch import nn


def _verdict(ok: bool, message: str) -> bool:
    print(("✔ " if ok else "✘ ") + message)
    return ok


def _unanswered(answer, what: str) -> bool:
    if answer is None:
        print(f"… not answered yet: replace None with {what} and run the cell again.")
        return True
    return False


def _count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# --- chapter 01: LeNet -----------------------------------------------------------


def lenet_parameters(answer: int | None, first_channels: int = 16) -> bool:
    """Exercise 01.2: the parameter count of LeNet with ``first_channels`` channels in its first convolution."""
    if _unanswered(answer, "an int, the total number of parameters"):
        return False
    from .models import lenet

    net = lenet()
    widened = nn.Sequential(*net)
    widened[0] = nn.Conv2d(1, first_channels, kernel_size=5, padding=2)
    widened[3] = nn.Conv2d(first_channels, 16, kernel_size=5)
    expected = _count(widened)
    if answer == expected:
        return _verdict(True, f"Right: {expected:,} parameters, only {expected - _count(net):,} more than LeNet's "
                        f"{_count(net):,}, because the fully connected layers, which hold most of them, do not change.")
    if answer == _count(net):
        return _verdict(False, "That is the count of the original LeNet: build the widened network and count again.")
    if answer == expected - (_count(widened[3]) - _count(net[3])):
        return _verdict(False, "Close: the second convolution changes too, since its input channels must match "
                        "the first convolution's output channels.")
    return _verdict(False, f"Not quite (you said {answer:,}). Each layer has (k*k*c_in + 1)*c_out parameters for a "
                    "convolution and (n_in + 1)*n_out for a Linear layer; add them up over the widened network, "
                    "or use sum(p.numel() for p in net.parameters()).")
