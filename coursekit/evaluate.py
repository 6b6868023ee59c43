"""Measuring a network on a dataset: accuracy, predictions and the confusion matrix.

All three switch the network to evaluation mode (dropout off, BatchNorm with its
moving averages) for the measurement and restore the mode it was in.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from .config import check_device

PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str | None):
    """``torch.autocast`` for ``precision`` (``'bf16'``, ``'fp16'``), or a disabled one for None (fp32)."""
    if precision is None:
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=PRECISIONS[precision])


@contextlib.contextmanager
def evaluation_mode(net: nn.Module):
    """``net.eval()`` for the duration of the block, then the mode ``net`` was in."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


def _device_of(net: nn.Module, device: torch.device | str | None) -> torch.device:
    if device is not None:
        return check_device(device)
    first = next(iter(net.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def count_correct(net: nn.Module, data_iter, device: torch.device, precision: str | None = None,
                  memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """``[correct, total]`` over ``data_iter`` as an int64 tensor on ``device``.

    The counts stay on the device, so the caller decides when to pay the one
    device-to-host sync that reading them costs. The batches are put in the
    weights' memory layout: a mismatch would cost a conversion in every convolution.
    """
    counts = torch.zeros(2, dtype=torch.int64, device=device)
    with evaluation_mode(net), torch.no_grad(), autocast(device, precision):
        for X, y in data_iter:
            X, y = X.to(device).contiguous(memory_format=memory_format), y.to(device)
            counts[0] += (net(X).argmax(dim=1) == y).sum()
            counts[1] += y.numel()
    return counts


def evaluate_accuracy(net: nn.Module, data_iter, device: torch.device | str | None = None) -> float:
    """Fraction of correct predictions of ``net`` over ``data_iter``, in eval mode.

    ``device`` defaults to where the network's parameters are.
    """
    correct, total = count_correct(net, data_iter, _device_of(net, device)).tolist()
    return correct / max(total, 1)


def predict(net: nn.Module, data_iter, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels of every example in ``data_iter``, as two CPU tensors ``(N,)``.

    The i-th prediction belongs to the i-th example in the order ``data_iter``
    yields them; iterate it again only if it does not shuffle.
    """
    device = _device_of(net, device)
    predicted, true = [], []
    with evaluation_mode(net), torch.no_grad():
        for X, y in data_iter:
            predicted.append(net(X.to(device)).argmax(dim=1).cpu())
            true.append(y.cpu())
    return torch.cat(predicted), torch.cat(true)


def confusion_matrix(predicted: torch.Tensor, true: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """``(num_classes, num_classes)`` counts: row = true class, column = predicted class."""
    index = true.long() * num_classes + predicted.long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)
