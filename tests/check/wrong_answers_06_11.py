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


def densenet_channels_without_transitions(num_channels, growth_rate, arch):
    return num_channels + growth_rate * sum(arch)


def densenet_channels_halving_the_last_block(num_channels, growth_rate, arch):
    for num_convs in arch:
        num_channels = (num_channels + num_convs * growth_rate) // 2
    return num_channels


def densenet_channels_float(num_channels, growth_rate, arch):
    for i, num_convs in enumerate(arch):
        num_channels += num_convs * growth_rate
        if i < len(arch) - 1:
            num_channels /= 2
    return num_channels


def _field(net, *, jump=True, padding=False, pools=True):
    field, j = 1, 1
    for layer in net:
        if isinstance(layer, nn.Conv2d) or (pools and isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d))):
            k = layer.kernel_size[0] if isinstance(layer.kernel_size, tuple) else layer.kernel_size
            s = layer.stride[0] if isinstance(layer.stride, tuple) else layer.stride
            d = getattr(layer, "dilation", 1)
            d = d[0] if isinstance(d, tuple) else d
            p = layer.padding[0] if isinstance(layer.padding, tuple) else layer.padding
            field += (d * (k - 1) + (2 * p if padding else 0)) * j
            j = j * s if jump else 1
    return field


def field_without_jump(net):
    return _field(net, jump=False)


def field_with_padding(net):
    return _field(net, padding=True)


def field_without_pooling(net):
    return _field(net, pools=False)


def grouped_bottleneck_ungrouped(channels, width, groups):
    return (channels + 1) * width + (9 * width + 1) * width + (width + 1) * channels


def grouped_bottleneck_without_biases(channels, width, groups):
    return channels * width + 9 * width // groups * width + width * channels


def grouped_bottleneck_dividing_biases(channels, width, groups):
    return (channels + 1) * width + (9 * width + 1) * width // groups + (width + 1) * channels


def _mask(values, n_pruned):
    mask = torch.ones_like(values)
    mask.view(-1)[values.flatten().argsort()[:n_pruned]] = 0
    return mask


def prune_the_largest(weight, amount):
    return _mask(-weight.abs(), round(amount * weight.numel()))


def prune_per_row(weight, amount):
    rows = weight.reshape(weight.shape[0], -1)
    return torch.stack([_mask(row.abs(), round(amount * row.numel())) for row in rows]).reshape(weight.shape)


def prune_returning_the_weight(weight, amount):
    return weight * _mask(weight.abs(), round(amount * weight.numel()))
