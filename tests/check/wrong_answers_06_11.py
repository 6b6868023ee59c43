"""Typical wrong answers to the code exercises of chapters 06-11, for TYPICAL_MISTAKES in test_exercises.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _dims(X: torch.Tensor) -> list[int]:
    return [d for d in range(X.dim()) if d != 1]


def _view(t: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    return t.reshape([1, -1] + [1] * (X.dim() - 2))


def bn_always_training(X, bn):
    """Batch statistics in eval mode too: batch norm left in training mode at evaluation."""
    return F.batch_norm(X, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=True,
                        momentum=bn.momentum, eps=bn.eps)


def bn_unbiased_output(X, bn):
    """Normalises the output with the unbiased variance."""
    if not bn.training:
        return F.batch_norm(X, bn.running_mean, bn.running_var, bn.weight, bn.bias, eps=bn.eps)
    F.batch_norm(X, bn.running_mean, bn.running_var, training=True, momentum=bn.momentum)  # the right update
    mean, var = X.mean(dim=_dims(X)), X.var(dim=_dims(X), correction=1)
    return _view(bn.weight, X) * (X - _view(mean, X)) / torch.sqrt(_view(var, X) + bn.eps) + _view(bn.bias, X)


def bn_biased_running_var(X, bn):
    """The right output, but the running variance gets the batch's biased variance."""
    if not bn.training:
        return F.batch_norm(X, bn.running_mean, bn.running_var, bn.weight, bn.bias, eps=bn.eps)
    mean, var = X.mean(dim=_dims(X)), X.var(dim=_dims(X), correction=0)
    with torch.no_grad():
        bn.running_mean.mul_(1 - bn.momentum).add_(bn.momentum * mean)
        bn.running_var.mul_(1 - bn.momentum).add_(bn.momentum * var)
    return _view(bn.weight, X) * (X - _view(mean, X)) / torch.sqrt(_view(var, X) + bn.eps) + _view(bn.bias, X)


def bn_no_update(X, bn):
    """The right output, but the running statistics never move."""
    return F.batch_norm(X, None, None, bn.weight, bn.bias, training=True, eps=bn.eps) if bn.training else \
        F.batch_norm(X, bn.running_mean, bn.running_var, bn.weight, bn.bias, eps=bn.eps)


class ResidualNoShortcutConv(nn.Module):
    """Adds the input as it is, even when the channels or the size change."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + x)


class ResidualReluBeforeAdd(ResidualNoShortcutConv):
    """A right shortcut, but the ReLU comes before the addition."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))) + self.shortcut(x)


class ResidualAlwaysProjects(ResidualReluBeforeAdd):
    """A 1x1 convolution on the shortcut even where the identity fits."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


def count(module: nn.Module) -> int:
    """Parameters of a module, counted directly."""
    return sum(p.numel() for p in module.parameters())
