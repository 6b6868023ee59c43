"""The function API of the d2l helpers (d2l-zh 2.0's ``train_ch6``, d2lzh_pytorch's ``train_ch5``...).

The same names, arguments, return values and printed lines as the books,
with coursekit's device-resident data and fast training loop underneath.

Where the books disagree, both call shapes are accepted:

* ``evaluate_accuracy(net, data_iter)`` (d2l) and ``evaluate_accuracy(data_iter, net)`` (d2lzh_pytorch);
* ``Residual(num_channels, use_1x1conv, strides)`` (d2l 1.0, input channels inferred),
  ``Residual(input_channels, num_channels, use_1x1conv, strides)`` (d2l-zh 2.0) and
  ``Residual(in_channels, out_channels, use_1x1conv, stride)`` (d2lzh_pytorch).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from torch import nn

from .. import data, models
from ..config import try_all_gpus, try_gpu
from ..data import get_fashion_mnist_labels
from ..evaluate import evaluate_accuracy as _evaluate_accuracy
from ..plot import in_notebook, show_images, show_in_place
from ..reporters import LiveCurves, ProgressBar, Reporter, Run
from ..train import TrainOptions, fit

__all__ = [
    "Accumulator", "Animator", "FlattenLayer", "GlobalAvgPool2d", "Residual", "Timer", "accuracy", "corr2d",
    "cpu", "evaluate_accuracy", "evaluate_accuracy_gpu", "get_fashion_mnist_labels", "gpu",
    "load_data_fashion_mnist", "num_gpus", "plot", "plt", "set_axes", "set_figsize", "show_images", "train_ch5",
    "train_ch6", "try_all_gpus", "try_gpu", "use_svg_display",
]

# --- devices -----------------------------------------------------------------------


def cpu() -> torch.device:
    """The CPU device."""
    return torch.device("cpu")


def gpu(i: int = 0) -> torch.device:
    """The ``i``-th CUDA device (it need not exist; see :func:`try_gpu`)."""
    return torch.device(f"cuda:{i}")


def num_gpus() -> int:
    """Number of CUDA devices."""
    return torch.cuda.device_count()


def load_data_fashion_mnist(batch_size: int, resize=None, root=None):
    """Fashion-MNIST as ``(train_iter, test_iter)``; ``root`` may be given positionally, as d2lzh_pytorch does.

    The loaders of :func:`coursekit.load_data_fashion_mnist`: images already on
    :func:`try_gpu`'s device, so the books' ``X.to(device)`` costs nothing.
    """
    return data.load_data_fashion_mnist(batch_size, resize, root=root)


# --- plotting ----------------------------------------------------------------------


def use_svg_display() -> None:
    """Draw figures as SVG in Jupyter."""
    from matplotlib_inline import backend_inline

    backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)) -> None:
    """SVG figures of ``figsize`` inches from now on."""
    use_svg_display()
    plt.rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend) -> None:
    """Labels, limits, scales, legend and grid of ``axes`` in one call."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _has_one_axis(X) -> bool:
    return (hasattr(X, "ndim") and X.ndim == 1) or (isinstance(X, list) and not hasattr(X[0], "__len__"))


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None, xscale="linear",
         yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(3.5, 2.5), axes=None):
    """Plot one or several curves: ``plot(y)``, ``plot(x, y)`` or ``plot(x, [y1, y2])``."""
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    set_figsize(figsize)
    if axes is None:
        axes = plt.gca()
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


class Animator:
    """Curves that grow point by point; in Jupyter the figure is replaced in place (no flicker)."""

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None, xscale="linear",
                 yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1, ncols=1, figsize=(3.5, 2.5)):
        self.fig, axes = plt.subplots(nrows, ncols, figsize=figsize)
        self.axes = [axes] if nrows * ncols == 1 else axes
        self._config = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend or [])
        self.X, self.Y, self.fmts = None, None, fmts
        self._handle = None
        plt.close(self.fig)  # shown through the display handle only

    def add(self, x, y) -> None:
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        set_axes(self.axes[0], *self._config)
        self._handle = show_in_place(self.fig, self._handle)


# --- bookkeeping ---------------------------------------------------------------------


class Timer:
    """Records several running times; it starts when created."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self.tik = time.time()

    def stop(self) -> float:
        self.times.append(time.time() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return sum(self.times)

    def cumsum(self) -> list[float]:
        return np.array(self.times).cumsum().tolist()


class Accumulator:
    """Running sums of ``n`` quantities."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct predictions (a float, as in d2l), from logits or from class indices."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())


def evaluate_accuracy_gpu(net: nn.Module, data_iter, device=None) -> float:
    """Accuracy of ``net`` on ``data_iter``, on ``device`` (default: where the net's parameters are)."""
    return _evaluate_accuracy(net, data_iter, device)


def evaluate_accuracy(net_or_iter, iter_or_net, device=None) -> float:
    """Accuracy of a net on a dataset: ``(net, data_iter)`` as in d2l or ``(data_iter, net)`` as in d2lzh_pytorch."""
    net, data_iter = (net_or_iter, iter_or_net) if isinstance(net_or_iter, nn.Module) else (iter_or_net, net_or_iter)
    return evaluate_accuracy_gpu(net, data_iter, device)


# --- layers --------------------------------------------------------------------------


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of ``X`` with kernel ``K`` (no padding, stride 1), written out as in the book."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


class FlattenLayer(nn.Module):
    """``(N, ...)`` -> ``(N, -1)``: d2lzh_pytorch's name for ``nn.Flatten``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1)


class GlobalAvgPool2d(nn.Module):
    """``(N, C, H, W)`` -> ``(N, C, 1, 1)``: the mean over each whole feature map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, kernel_size=x.shape[2:])


class Residual(models.Residual):
    """ResNet's residual block, called the way any of the books call it (see the module docstring).

    With only ``num_channels`` given (d2l 1.0) the input channels are inferred
    from the first batch, as d2l's ``LazyConv2d`` version does.
    """

    _ALIASES = {"input_channels": "in_channels", "out_channels": "num_channels", "stride": "strides"}

    def __init__(self, *args, **kwargs) -> None:
        kwargs = {self._ALIASES.get(k, k): v for k, v in kwargs.items()}
        two_counts = "in_channels" in kwargs or (len(args) >= 2 and type(args[1]) is int)
        names = ("in_channels", "num_channels", "use_1x1conv", "strides") if two_counts else (
            "num_channels", "use_1x1conv", "strides")
        params = dict(zip(names, args)) | kwargs
        lazy = "in_channels" not in params
        num_channels = params["num_channels"]
        strides = params.get("strides", 1)
        super().__init__(params.get("in_channels", num_channels), num_channels,
                         params.get("use_1x1conv", False), strides)
        if lazy:
            self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
            if self.conv3 is not None:
                self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)


# --- training ------------------------------------------------------------------------


class _Ch6Lines(Reporter):
    """What d2l's ``train_ch6`` prints: the device first, then the last epoch's figures and the speed."""

    def on_start(self, run: Run) -> None:
        print("training on", run.device)

    def on_end(self, run: Run) -> None:
        history = run.history
        if len(history):
            print(f"loss {history.train_loss[-1]:.3f}, train acc {history.train_acc[-1]:.3f}, "
                  f"test acc {history.test_acc[-1]:.3f}")
            print(f"{history.speed():.1f} examples/sec on {run.device}")


class _Ch5Lines(Reporter):
    """What d2lzh_pytorch's ``train_ch5`` prints: the device, then one line per epoch."""

    def on_start(self, run: Run) -> None:
        print("training on", run.device)

    def on_epoch(self, run: Run, epoch: int) -> None:
        h = run.history
        print("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, time %.1f sec"
              % (epoch + 1, h.train_loss[epoch], h.train_acc[epoch], h.test_acc[epoch], h.seconds[epoch]))


def train_ch6(net: nn.Module, train_iter, test_iter, num_epochs: int, lr: float, device=None) -> None:
    """d2l's ``train_ch6``: Xavier init, SGD, live curves; prints d2l's lines and returns None.

    For the :class:`~coursekit.History` and the other options, use :func:`coursekit.train_ch6`.
    """
    live = [LiveCurves(), ProgressBar()] if in_notebook() else []
    fit(net, train_iter, test_iter, TrainOptions(num_epochs, lr, seed=None), device, reporters=[*live, _Ch6Lines()])


def train_ch5(net: nn.Module, train_iter, test_iter, batch_size: int, optimizer: torch.optim.Optimizer, device,
              num_epochs: int) -> None:
    """d2lzh_pytorch's ``train_ch5``: your optimizer, no re-initialisation, one line per epoch.

    ``batch_size`` is accepted for the old signature; the batches are those of ``train_iter``.
    The printed loss is the mean over examples (the old helper averaged batch means:
    the same number when all batches are full).
    """
    options = TrainOptions(num_epochs, optimizer.param_groups[0]["lr"], optimizer=optimizer, init=None, seed=None)
    fit(net, train_iter, test_iter, options, device, reporters=[_Ch5Lines()])
