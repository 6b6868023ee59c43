"""Checks to run before a long training run, and the learning-rate range test.

* :func:`initial_loss` -- an untrained classifier should be unsure: its cross-entropy on
  ``k`` classes starts near ``ln k`` (2.303 for 10). Much more means a broken
  initialisation or scale; much less, a label leaking into the input.
* :func:`overfit_one_batch` -- a network that cannot learn one batch by heart
  (accuracy 1.0 within some tens of steps) has a bug: wrong labels, a frozen
  layer, a loss on the wrong tensor.
* :func:`lr_range_test` -- Smith's range test (Smith 2015, section 3.3; Smith
  2017): train for ``num_steps`` steps while the learning rate grows
  exponentially from ``start_lr`` to ``end_lr``, record the smoothed loss,
  stop when it diverges. The loss falls fastest somewhat below the rate where
  it stops falling; :class:`LRRangeTest` suggests the lr of the lowest smoothed
  loss divided by 10 (fastai's ``lr_min`` convention), one order of magnitude
  before the loss turns up.

All three train a copy of the network and never change the one they are given.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from .config import check_device, seed_everything
from .evaluate import evaluation_mode


def _device(net: nn.Module, device) -> torch.device:
    if device is not None:
        return check_device(device)
    first = next(iter(net.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def initial_loss(net: nn.Module, batch: tuple[torch.Tensor, torch.Tensor],
                 device: torch.device | str | None = None) -> tuple[float, float]:
    """``(loss, ln(classes))``: the untrained network's cross-entropy on ``batch`` and what chance gives.

    ``batch`` is ``(X, y)`` with ``X`` ``(B, C, H, W)`` and int labels ``(B,)``; the network is run in
    evaluation mode, without gradients, and is not changed.
    """
    device = _device(net, device)
    X, y = batch
    with torch.no_grad(), evaluation_mode(net):
        scores = net(X.to(device))
    return nn.functional.cross_entropy(scores, y.to(device)).item(), math.log(scores.shape[1])


def overfit_one_batch(net: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], steps: int = 50, lr: float = 0.01,
                      device: torch.device | str | None = None, seed: int = 0) -> list[float]:
    """Train a copy of ``net`` with Adam on one batch for ``steps`` steps; the batch accuracy after each.

    A working network and loss reach 1.0 (``B`` images can always be told apart); one that stays far
    below has a bug. ``batch`` is ``(X, y)``, ``X`` ``(B, C, H, W)``, ``y`` int ``(B,)``.
    """
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    device = _device(net, device)
    seed_everything(seed)
    net = copy.deepcopy(net).to(device).train()
    X, y = (t.to(device) for t in batch)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    accuracies = []
    for _ in range(steps):
        scores = net(X)
        loss = nn.functional.cross_entropy(scores, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        accuracies.append((scores.argmax(dim=1) == y).float().mean().item())
    return accuracies


@dataclass
class LRRangeTest:
    """What :func:`lr_range_test` recorded: the rates, the smoothed losses, and the suggestion.

    Attributes:
        lrs, losses: per step, the learning rate and the bias-corrected exponential moving average of
            the loss (the raw loss of one batch is too noisy to read).
        diverged: the sweep stopped early because the smoothed loss passed ``diverge`` times its minimum.
    """

    lrs: list[float]
    losses: list[float]
    diverged: bool

    @property
    def min_loss_lr(self) -> float:
        """The learning rate where the smoothed loss was lowest."""
        return self.lrs[min(range(len(self.losses)), key=self.losses.__getitem__)]

    @property
    def steepest_lr(self) -> float:
        """The learning rate where the smoothed loss fell fastest per factor of lr (before its minimum)."""
        end = min(range(len(self.losses)), key=self.losses.__getitem__) + 1
        logs = [math.log(lr) for lr in self.lrs[:end]]
        if end < 3:
            return self.lrs[0]
        slopes = [(self.losses[i + 1] - self.losses[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(1, end - 1)]
        return self.lrs[1 + min(range(len(slopes)), key=slopes.__getitem__)]

    @property
    def suggestion(self) -> float:
        """A learning rate to train at: :attr:`min_loss_lr` / 10 (fastai's ``lr_min``)."""
        return self.min_loss_lr / 10

    def plot(self, ax=None):
        """The smoothed loss against the learning rate (log scale), with the suggestion marked."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.2))[1]
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.axvline(self.suggestion, color="C1", ls="--", label=f"suggested lr {self.suggestion:.2g}")
        ax.axvline(self.min_loss_lr, color="C2", ls=":", label=f"lowest loss at {self.min_loss_lr:.2g}")
        ax.set(xlabel="learning rate", ylabel="smoothed training loss", title="learning-rate range test")
        ax.legend()
        return ax


def lr_range_test(net: nn.Module, train_iter, *, start_lr: float = 1e-5, end_lr: float = 10.0, num_steps: int = 100,
                  momentum: float = 0.9, loss_fn: nn.Module | None = None, smoothing: float = 0.98,
                  diverge: float = 4.0, device: torch.device | str | None = None, seed: int = 0) -> LRRangeTest:
    """Smith's learning-rate range test on a copy of ``net`` (SGD with ``momentum``).

    The lr of step ``i`` is ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``; the sweep
    takes the first ``num_steps`` batches of ``train_iter`` (``(X, y)`` pairs) and stops once the
    smoothed loss exceeds ``diverge`` times its lowest value. ``loss_fn`` defaults to cross-entropy.
    ``net`` and its optimizer are never touched: the test trains a deep copy.
    """
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
               for v in (start_lr, end_lr)):
        raise ValueError(f"start_lr and end_lr must be positive numbers (the sweep is exponential), got "
                         f"start_lr={start_lr!r}, end_lr={end_lr!r}; e.g. start_lr=1e-5, end_lr=10.")
    if start_lr >= end_lr:
        raise ValueError(f"the range is upside down or empty: start_lr={start_lr:g} must be below end_lr={end_lr:g}; "
                         "swap them.")
    if not (isinstance(num_steps, int) and not isinstance(num_steps, bool) and num_steps >= 2):
        raise ValueError(f"num_steps must be an int >= 2, got {num_steps!r}.")
    if not 0 <= smoothing < 1 or not diverge > 1:
        raise ValueError(f"smoothing must be in [0, 1) and diverge above 1, got {smoothing!r} and {diverge!r}.")
    if hasattr(train_iter, "__len__") and len(train_iter) < num_steps:
        raise ValueError(f"train_iter has {len(train_iter)} batches, fewer than the num_steps={num_steps} asked: "
                         "lower num_steps, use a smaller batch size, or give it more images.")
    device = _device(net, device)
    seed_everything(seed)
    net = copy.deepcopy(net).to(device).train()
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=start_lr, momentum=momentum)
    factor = (end_lr / start_lr) ** (1 / (num_steps - 1))
    lrs, losses, average, best, diverged = [], [], 0.0, math.inf, False
    batches = iter(train_iter)
    for step in range(num_steps):
        try:
            X, y = next(batches)
        except StopIteration:
            raise ValueError(f"train_iter ran out after {step} batches, fewer than the num_steps={num_steps} asked: "
                             "lower num_steps or give it more images.") from None
        lr = start_lr * factor**step
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_fn(net(X.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        average = smoothing * average + (1 - smoothing) * loss.item()
        smoothed = average / (1 - smoothing ** (step + 1))  # bias correction: the average starts at 0
        if not math.isfinite(smoothed) or smoothed > diverge * best:
            diverged = True
            break
        lrs.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
    if len(losses) < 2:
        raise ValueError(f"the loss diverged at the first steps (lr {start_lr:g}): lower start_lr.")
    return LRRangeTest(lrs, losses, diverged)


__all__ = ["LRRangeTest", "initial_loss", "lr_range_test", "overfit_one_batch"]
