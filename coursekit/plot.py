"""Plots for the course: image grids and a live training figure.

The live figure is drawn once and then *replaced in place* through an IPython
display handle, so a training cell shows one figure that grows, instead of the
flicker of clearing the output and drawing a new one five times an epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
import torch


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, nbval), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Default size, in inches, of the figures that follow."""
    plt.rcParams["figure.figsize"] = figsize


def show_images(
    imgs,
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.5,
):
    """Draw a grid of images with optional titles; returns the axes (d2l's call shape).

    ``imgs`` is a tensor ``(N, H, W)`` or ``(N, 1, H, W)``, or a list of 2-D
    arrays/tensors; at most ``num_rows * num_cols`` are drawn.
    """
    if num_rows < 1 or num_cols < 1:
        raise ValueError(f"num_rows and num_cols must be at least 1, got {num_rows} and {num_cols}.")
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        if isinstance(img, torch.Tensor):
            img = img.detach().cpu().float().numpy()
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[0] in (1, 3):
            img = img.transpose(1, 2, 0)  # CHW -> HWC for imshow
        ax.imshow(img.squeeze(), cmap="gray" if img.squeeze().ndim == 2 else None)
        ax.axis("off")
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    for ax in axes[len(imgs) :]:
        ax.axis("off")
    plt.tight_layout()
    return axes


def show_in_place(fig, handle=None):
    """Show ``fig`` in Jupyter, replacing the copy shown through ``handle``; returns the handle.

    Outside a notebook it does nothing and returns ``handle``.
    """
    if not in_notebook():
        return handle
    from IPython.display import display

    if handle is None:
        return display(fig, display_id=True)
    handle.update(fig)
    return handle


class LiveFigure:
    """Curves that grow during training against the epoch, redrawn in place in Jupyter.

    ``add(x, values)`` appends one point to each named curve; ``draw()``
    refreshes the figure. Outside a notebook nothing is shown (the training
    loop prints text there), but the figure still exists for ``savefig``.
    """

    def __init__(self, names: Sequence[str], xlim: tuple[float, float] | None = None,
                 figsize: tuple[float, float] = (4.5, 3.0)) -> None:
        self.names = list(names)
        self.xs: dict[str, list[float]] = {name: [] for name in self.names}
        self.ys: dict[str, list[float]] = {name: [] for name in self.names}
        self.fig, self.ax = plt.subplots(figsize=figsize)
        self.xlim = xlim
        self._handle = None
        # Keep the inline backend from showing a second copy when the cell ends.
        plt.close(self.fig)

    def add(self, x: float, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.xs[name].append(x)
            self.ys[name].append(value)

    def draw(self) -> None:
        ax = self.ax
        ax.cla()
        for name in self.names:
            if self.xs[name]:
                style = "-" if len(self.xs[name]) > 1 else "o"
                ax.plot(self.xs[name], self.ys[name], style, label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if self.xlim:
            ax.set_xlim(*self.xlim)
        ax.grid(True, alpha=0.3)
        if any(self.xs.values()):
            ax.legend(loc="best", fontsize=8)
        self.fig.tight_layout()
        self._handle = show_in_place(self.fig, self._handle)


def plot_confusion_matrix(matrix: torch.Tensor, labels: Sequence[str], normalize: bool = True, ax=None):
    """Heat map of a confusion matrix (rows: true class, columns: predicted); returns the axes.

    With ``normalize=True`` each row is divided by its total, so the diagonal
    reads as per-class recall.
    """
    matrix = matrix.detach().cpu().double()
    if normalize:
        matrix = matrix / matrix.sum(dim=1, keepdim=True).clamp(min=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    image = ax.imshow(matrix.numpy(), cmap="Blues", vmin=0)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), value in np.ndenumerate(matrix.numpy()):
        if value >= 0.01:
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=6,
                    color="white" if value > 0.5 * matrix.max().item() else "black")
    plt.colorbar(image, ax=ax, fraction=0.046)
    plt.tight_layout()
    return ax
