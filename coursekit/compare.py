"""Put architectures side by side: one training budget, one table, one plot.

Chapter 11 trains every network of the course on the same data with the same
recipe and compares what each buys with its parameters and arithmetic::

    from coursekit.compare import Contender, compare_models

    table = compare_models(
        [Contender("LeNet", "lenet"), Contender("ResNet-18", "resnet18_d2l", resize=32)],
        ck.recipe("capstone"))
    print(table)          # aligned text; HTML in Jupyter; table.to_pandas() for a DataFrame
    fig = table.plot()    # accuracy against FLOPs and against training time

It also holds the small measuring tools the chapter uses for pruning and
quantization: :func:`state_dict_bytes` (the size of a saved model),
:func:`weight_sparsity` and :func:`images_per_second` (forward passes only).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .config import check_device, seed_everything
from .evaluate import PRECISIONS, autocast, evaluation_mode
from .history import History
from .inspect import count_params, flops
from .inspect.table import Column, Table, si
from .models import get_model
from .recipes import Recipe
from .train import fit

__all__ = [
    "Comparison",
    "ComparisonRow",
    "Contender",
    "compare_models",
    "images_per_second",
    "state_dict_bytes",
    "weight_sparsity",
]


# ---------------------------------------------------------------------------
# Measuring a trained model
# ---------------------------------------------------------------------------


def state_dict_bytes(net: nn.Module) -> int:
    """Bytes that ``torch.save(net.state_dict(), f)`` writes: the size of the model file.

    Measured in memory; a file on disk differs by a few bytes (the archive
    stores a folder name taken from the file name).
    """
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def _weights(net: nn.Module) -> list[torch.Tensor]:
    """The weight of every Linear and Conv layer (pruned ones as their masked value)."""
    out = []
    for module in net.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            out.append(module.weight)
    return out


def weight_sparsity(net: nn.Module) -> float:
    """Fraction of the Linear and Conv weights of ``net`` that are exactly zero.

    Works on pruned layers too (``torch.nn.utils.prune`` keeps ``weight`` as
    ``weight_orig * weight_mask``); biases and BatchNorm are left out.
    """
    weights = _weights(net)
    if not weights:
        raise ValueError("net has no Linear or Conv layer.")
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def images_per_second(net: nn.Module, input_size: Sequence[int], *, batch_size: int = 256,
                      seconds: float = 1.0, precision: str | None = None) -> float:
    """Inference speed: images per second through ``net`` in eval mode, forward passes only.

    ``input_size`` is one image's ``(C, H, W)``. Runs one warm-up batch, then
    batches of random images for about ``seconds``; ``precision='bf16'``
    measures under bfloat16 autocast. Timings depend on the machine and on
    whatever else it is doing: compare numbers from the same run.
    """
    if len(input_size) != 3:
        raise ValueError(f"input_size is one image's (C, H, W), got {tuple(input_size)!r}.")
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"precision must be None or one of {', '.join(PRECISIONS)}, got {precision!r}.")
    first = next(iter(net.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    X = torch.randn(batch_size, *input_size, device=device)
    with evaluation_mode(net), torch.no_grad(), autocast(device, precision):
        net(X)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start, count = time.perf_counter(), 0
        while True:
            net(X)
            count += 1
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
    return count * batch_size / elapsed


# ---------------------------------------------------------------------------
# Training the chapter models on one budget
# ---------------------------------------------------------------------------


@dataclass
class Contender:
    """One network in a comparison.

    Args:
        name: its label in the table and the plot.
        model: a name for :func:`coursekit.get_model` (``'lenet'``, ``'resnet18_d2l'``...).
        resize: the image side it is trained at; None keeps 28x28.
        kwargs: passed to the constructor (``ratio=4``, ``size=64``...).
    """

    name: str
    model: str
    resize: int | None = None
    kwargs: dict = field(default_factory=dict)

    def build(self) -> nn.Module:
        return get_model(self.model, **self.kwargs)

    @property
    def side(self) -> int:
        return self.resize or 28


@dataclass
class ComparisonRow:
    """One trained network: what it cost and what it reached.

    ``flops`` are those of one forward pass of one image (2 per multiply-add);
    ``images_per_sec`` counts training steps only; ``train_seconds`` is the
    time of those steps over all epochs (evaluation excluded).
    """

    name: str
    model: str
    side: int
    params: int
    flops: int
    images_per_sec: float
    train_seconds: float
    test_acc: float
    history: History = field(repr=False)


def _compact(x: float) -> str:
    """Axis labels: 500000 -> '500k', 2e7 -> '20M'."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:g}{unit}"
    return f"{x:g}"


class Comparison(Table):
    """The result of :func:`compare_models`: ``rows`` of :class:`ComparisonRow`, in training order."""

    def __init__(self, rows: list[ComparisonRow], budget: str) -> None:
        self.rows = rows
        self.budget = budget
        self._columns = (
            Column("model", lambda r: r.name),
            Column("input", lambda r: f"{r.side}x{r.side}"),
            Column("params", lambda r: si(r.params).strip(), right=True),
            Column("FLOPs/image", lambda r: si(r.flops).strip(), right=True),
            Column("train img/s", lambda r: f"{r.images_per_sec:,.0f}", right=True),
            Column("train time", lambda r: f"{r.train_seconds:.1f}s", right=True),
            Column("test acc", lambda r: f"{r.test_acc:.3f}", right=True),
        )

    def _caption(self) -> list[str]:
        return [self.budget]

    def to_pandas(self):
        """The table as a pandas DataFrame, one row per model (needs pandas)."""
        import pandas as pd

        columns = ("name", "model", "side", "params", "flops", "images_per_sec", "train_seconds", "test_acc")
        return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in self.rows]).set_index("name")

    def plot(self, axes=None):
        """Test accuracy against FLOPs per image and against training time; bubble area ~ parameters.

        Returns the matplotlib figure (assign it: ``fig = table.plot()``).
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
        else:
            fig = axes[0].figure
        largest = max(r.params for r in self.rows)
        sizes = [40 + 1500 * math.sqrt(r.params / largest) for r in self.rows]
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, attr, label in ((axes[0], "flops", "FLOPs per image (log scale)"),
                                (axes[1], "train_seconds", "training time, s (log scale)")):
            for i, (row, s) in enumerate(zip(self.rows, sizes)):
                x = getattr(row, attr)
                ax.scatter(x, row.test_acc, s=s, alpha=0.45, color=colors[i % len(colors)], edgecolor="black")
                ax.annotate(row.name, (x, row.test_acc), fontsize=8, ha="center", va="bottom",
                            xytext=(0, 6), textcoords="offset points")
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(
                (lambda v, _: _compact(v)) if attr == "flops" else (lambda v, _: f"{v:g}")))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.margins(x=0.12, y=0.15)
            ax.set_xlabel(label)
            ax.grid(True, alpha=0.3)
        axes[0].set_ylabel("test accuracy")
        axes[0].set_title("accuracy vs arithmetic (bubble area ~ parameters)", fontsize=9)
        axes[1].set_title("accuracy vs training time, same budget", fontsize=9)
        fig.tight_layout()
        return fig


def compare_models(
    contenders: Sequence[Contender],
    recipe: Recipe,
    *,
    device: torch.device | str | None = None,
    seed: int = 0,
    root=None,
    verbose: bool = True,
) -> Comparison:
    """Train every contender on ``recipe``'s data and options; return the :class:`Comparison`.

    Every network sees the same training images (the same subset, the same
    shuffles) for the same epochs, with the same optimizer, learning-rate
    schedule, batch size and precision, and is tested on the same images; only
    the network and the resolution differ, where a contender asks for its own.
    With ``verbose`` one line is printed per finished model.
    """
    if not contenders:
        raise ValueError("contenders is empty: pass at least one Contender.")
    names = [c.name for c in contenders]
    if len(set(names)) != len(names):
        raise ValueError(f"contender names must be distinct, got {names}.")
    device = check_device(device)
    options = recipe.options(seed=seed)
    rows = []
    for contender in contenders:
        train_iter, test_iter = recipe.replace(resize=contender.resize).data(device, seed=seed, root=root)
        seed_everything(seed)  # the biases are drawn when the network is built
        net = contender.build()
        params = count_params(net).total
        cost = flops(net, (1, 1, contender.side, contender.side)).flops
        history = fit(net, train_iter, test_iter, options, device, reporters=[])
        train_seconds = sum(history.train_seconds)
        row = ComparisonRow(contender.name, contender.model, contender.side, params, cost, history.speed(),
                            train_seconds, history.test_acc[-1], history)
        rows.append(row)
        if verbose:
            print(f"{row.name:<12} {row.side:>3}x{row.side:<3} test acc {row.test_acc:.3f}  "
                  f"{row.train_seconds:6.1f} s  {row.images_per_sec:8,.0f} images/s", flush=True)
    budget = (f"{train_iter.num_examples:,} training images x {options.num_epochs} epoch(s), {options.optimizer} "
              f"lr {options.lr:g}{' ' + options.schedule if options.schedule else ''}, batch {recipe.batch_size}, "
              f"{history.precision}, tested on {test_iter.num_examples:,} images")
    return Comparison(rows, budget)
