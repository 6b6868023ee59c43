"""The training loop of the course: ``train_ch6`` and what it returns.

Same call shape and final line as d2l's ``train_ch6``, built to be fast and to
never lose work:

* metrics are summed on the device and read back a few times an epoch, not
  twice per batch (every read is a GPU->CPU sync that stalls the pipeline);
* the history survives: Ctrl-C returns what was trained so far, a NaN loss
  raises :class:`TrainingDiverged` carrying the history, and with
  ``checkpoint=`` every finished epoch is saved atomically;
* mixed precision and ``channels_last`` are one keyword away.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .config import seed_everything, try_gpu
from .plot import LiveFigure, in_notebook

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
SCHEDULES = ("cosine", "onecycle")
PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}
# Redraws of the live figure (and host reads of the metrics) per epoch.
_SYNCS_PER_EPOCH = 4


@dataclass
class History:
    """Per-epoch record of a training run.

    ``examples_per_sec`` counts training steps only, as d2l does;
    ``seconds`` is the wall time of the whole epoch, evaluation included.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    device: str = ""
    interrupted: bool = False

    def __len__(self) -> int:
        return len(self.train_loss)

    def append(self, train_loss: float, train_acc: float, test_acc: float, examples_per_sec: float, seconds: float) -> None:
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.test_acc.append(test_acc)
        self.examples_per_sec.append(examples_per_sec)
        self.seconds.append(seconds)

    def final_line(self) -> str:
        """d2l's closing line: ``loss 0.330, train acc 0.879, test acc 0.884, 4186.2 examples/sec on cuda:0``."""
        if not self:
            return "no finished epoch"
        # Overall throughput: total examples over total training time, like d2l.
        speed = len(self) / sum(1 / s for s in self.examples_per_sec)
        return (
            f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
            f"test acc {self.test_acc[-1]:.3f}, {speed:.1f} examples/sec on {self.device}"
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(**data)

    def plot(self, ax=None, title: str | None = None):
        """Loss and accuracies against epochs; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.0))
        epochs = range(1, len(self) + 1)
        ax.plot(epochs, self.train_loss, "-o", label="train loss")
        ax.plot(epochs, self.train_acc, "--o", label="train acc")
        ax.plot(epochs, self.test_acc, "-.o", label="test acc")
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        if title:
            ax.set_title(title)
        return ax


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite. ``.history`` holds the finished epochs."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def _has_lazy(net: nn.Module) -> bool:
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters())


INITS = ("xavier", "kaiming")


def init_weights(net: nn.Module, example: torch.Tensor | None = None, method: str = "xavier") -> None:
    """Re-initialise every Linear and Conv weight: ``'xavier'`` (uniform, as d2l does) or ``'kaiming'``.

    Kaiming (He) normal init, fan-in, keeps the activations' variance through
    ReLU layers, where Xavier's halves it at every layer; deep ReLU nets
    without BatchNorm (NiN, plain VGG) may need it to start learning.
    Lazy modules have no weights until they see data; pass ``example`` (one
    batch) and they are materialised with a forward pass first, instead of
    being silently skipped.
    """
    if method not in INITS:
        raise ValueError(f"init must be one of {INITS} or None, got {method!r}.")
    if _has_lazy(net):
        if example is None:
            raise ValueError("net has lazy layers: pass an example batch so their shapes can be inferred.")
        with torch.no_grad():
            net(example)
    for module in net.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            if method == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)


def _autocast(device: torch.device, precision: str | None):
    if precision is None:
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=PRECISIONS[precision])


def evaluate_accuracy(net: nn.Module, data_iter, device: torch.device | str | None = None,
                      precision: str | None = None) -> float:
    """Fraction of correct predictions of ``net`` over ``data_iter``, in eval mode."""
    if device is None:
        device = next(iter(net.parameters())).device
    correct, total = _count_correct(net, data_iter, torch.device(device), precision).tolist()
    return correct / max(total, 1)


def predict(net: nn.Module, data_iter, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels of every example in ``data_iter``, as two CPU tensors."""
    if device is None:
        device = next(iter(net.parameters())).device
    was_training = net.training
    net.eval()
    predicted, true = [], []
    with torch.no_grad():
        for X, y in data_iter:
            predicted.append(net(X.to(device)).argmax(dim=1).cpu())
            true.append(y.cpu())
    net.train(was_training)
    return torch.cat(predicted), torch.cat(true)


def confusion_matrix(predicted: torch.Tensor, true: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """``(num_classes, num_classes)`` counts: row = true class, column = predicted class."""
    index = true.long() * num_classes + predicted.long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def save_checkpoint(path: str | os.PathLike, net: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    history: History | None = None, scheduler=None) -> None:
    """Save model, optimizer, history (and LR schedule) to ``path``, atomically.

    The random-number state is saved too, so a resumed run draws the same
    dropout masks as an uninterrupted one. The file is written next to its
    destination and renamed into place: an interruption mid-save leaves the
    previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": _unwrap(net).state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.to_dict() if history is not None else None,
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _read_checkpoint(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        # torch's own message runs to a page; its first line says what failed.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"{path} is not a readable coursekit checkpoint ({type(error).__name__}: {reason[:120]}); "
                         "it is damaged or was not written by coursekit. Delete it to start afresh.") from error
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a coursekit checkpoint (no 'model' entry); it was not written by save_checkpoint.")
    return state


def load_checkpoint(path: str | os.PathLike, net: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler=None, restore_rng: bool = False) -> History | None:
    """Load a checkpoint written by :func:`save_checkpoint` into ``net`` (and ``optimizer``, ``scheduler``).

    Uses ``weights_only=True``: a checkpoint can hold tensors and plain data,
    never code. ``restore_rng=True`` also restores the random-number state, to
    continue a run exactly. Returns the saved :class:`History`, or None.
    """
    state = _read_checkpoint(path)
    try:
        _unwrap(net).load_state_dict(state["model"])
    except RuntimeError as error:
        raise ValueError(f"{path} holds weights for a different architecture: {error}") from error
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if restore_rng and state.get("rng") is not None:
        torch.set_rng_state(state["rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
    return History.from_dict(state["history"]) if state.get("history") else None


def _unwrap(net: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


def _make_optimizer(net: nn.Module, optimizer, lr: float, momentum: float, weight_decay: float):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)} or a torch.optim.Optimizer, got {optimizer!r}.")
    kwargs = {"lr": lr, "weight_decay": weight_decay}
    if optimizer == "sgd":
        kwargs["momentum"] = momentum
    return OPTIMIZERS[optimizer](net.parameters(), **kwargs)


def _make_schedule(optimizer, schedule: str | None, lr: float, total_steps: int):
    if schedule is None:
        return None
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    raise ValueError(f"schedule must be None or one of {', '.join(SCHEDULES)}, got {schedule!r}.")


def _check_arguments(num_epochs, lr, precision) -> None:
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, got {num_epochs!r}.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"precision must be None, 'bf16' or 'fp16', got {precision!r}.")


def _check_compilable(device: torch.device) -> None:
    """Fail before training, with what to do, where torch.compile would fail at the first batch."""
    if not hasattr(torch, "compile") or not torch._dynamo.is_dynamo_supported():
        raise RuntimeError(f"compile=True: torch.compile does not support this Python ({sys.version.split()[0]}) "
                           "with this PyTorch; train without compile=True, or use a Python that PyTorch's "
                           "compiler supports.")
    if device.type == "cpu" and not any(shutil.which(c) for c in ("cc", "gcc", "clang", "c++", "g++")):
        raise RuntimeError("compile=True on the CPU needs a C++ compiler, and none was found on PATH; install one "
                           "(e.g. `apt install g++`, Xcode's command line tools on macOS) or train without "
                           "compile=True.")


def _distributed() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` outside ``torchrun``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _all_reduce(values: torch.Tensor, op=None) -> torch.Tensor:
    if _distributed()[1] > 1:
        torch.distributed.all_reduce(values, op=op or torch.distributed.ReduceOp.SUM)
    return values


def _shard(data_iter, rank: int, world_size: int, drop_last: bool):
    if world_size == 1:
        return data_iter
    if not hasattr(data_iter, "shard"):
        raise TypeError(
            f"Under torchrun ({world_size} processes) train_ch6 splits every batch across processes, which needs "
            f"the loader of load_data_fashion_mnist; got {type(data_iter).__name__}."
        )
    return data_iter.shard(rank, world_size, drop_last=drop_last)


def _count_correct(net: nn.Module, data_iter, device: torch.device, precision: str | None,
                   memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """``[correct, total]`` over ``data_iter``, as a device tensor (one sync when read)."""
    was_training = net.training
    net.eval()
    counts = torch.zeros(2, dtype=torch.int64, device=device)
    with torch.no_grad(), _autocast(device, precision):
        for X, y in data_iter:
            # In the weights' layout: a mismatch costs a conversion in every convolution.
            X, y = X.to(device).contiguous(memory_format=memory_format), y.to(device)
            counts[0] += (net(X).argmax(dim=1) == y).sum()
            counts[1] += y.numel()
    net.train(was_training)
    return counts


def _print_epoch(epoch: int, num_epochs: int, history: History) -> None:
    print(
        f"epoch {epoch + 1}/{num_epochs}: loss {history.train_loss[-1]:.3f}, train acc {history.train_acc[-1]:.3f}, "
        f"test acc {history.test_acc[-1]:.3f}, {history.examples_per_sec[-1]:.1f} examples/sec",
        flush=True,
    )


def train_ch6(
    net: nn.Module,
    train_iter,
    test_iter,
    num_epochs: int,
    lr: float,
    device: torch.device | str | None = None,
    *,
    optimizer: str | torch.optim.Optimizer = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    schedule: str | None = None,
    precision: str | None = None,
    channels_last: bool = False,
    compile: bool = False,
    init: str | None = "xavier",
    seed: int | None = 0,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    verbose: bool = True,
) -> History:
    """Train ``net`` with cross-entropy and return its :class:`History`.

    Args:
        net, train_iter, test_iter, num_epochs, lr, device: as in d2l
            (``device`` defaults to :func:`try_gpu`).
        optimizer: ``'sgd'`` (d2l's), ``'adam'``, ``'adamw'``, or a built optimizer.
        momentum, weight_decay: passed to the optimizer (momentum to SGD only).
        schedule: None (constant lr), ``'cosine'`` or ``'onecycle'``, stepped every batch.
        precision: None (fp32), ``'bf16'`` or ``'fp16'`` autocast (fp16 with a gradient scaler on CUDA);
            :func:`coursekit.fast_precision` says which one pays on a device.
        channels_last: use the NHWC memory layout, faster for convolutions on recent GPUs and on CPUs
            too (a bf16 training step 1.2-1.3x faster for LeNet, AlexNet and ResNet-18 here; see README).
        compile: train through ``torch.compile(net)`` (evaluation stays eager). The first batches
            wait for the compiler (tens of seconds), so it pays only on longer runs; see README's
            speed section for what it measured.
        init: ``'xavier'`` re-initialises Linear/Conv weights like d2l, ``'kaiming'`` with He init
            (for deep ReLU nets without BatchNorm); None keeps the model's own.
        seed: seeds the initialisation and dropout; None leaves the random state alone.
        checkpoint: a path; model, optimizer, schedule and history are saved there after every epoch.
        resume: continue from ``checkpoint`` if it exists, up to ``num_epochs`` in all; the result
            is the same as a run that was never interrupted.
        verbose: print progress (a live figure and progress bar in Jupyter, a line per epoch elsewhere).

    Ctrl-C stops training and returns the history of the finished epochs
    (``history.interrupted`` is True). A NaN or infinite loss raises
    :class:`TrainingDiverged`, whose ``.history`` keeps the finished epochs.

    Under ``torchrun --nproc_per_node=N`` every process runs this same call:
    the model is wrapped in ``DistributedDataParallel``, each process takes
    its share of every batch (so the global batch stays ``batch_size``),
    metrics are summed over processes, and only rank 0 prints and saves.
    """
    rank, _ = _distributed()
    live = verbose and rank == 0 and in_notebook()
    history = _train(
        net, train_iter, test_iter, num_epochs, lr, device, optimizer=optimizer, momentum=momentum,
        weight_decay=weight_decay, schedule=schedule, precision=precision, channels_last=channels_last,
        compile=compile, init=init, seed=seed, checkpoint=checkpoint, resume=resume, live=live,
        on_epoch=_print_epoch if verbose and rank == 0 and not live else None,
        verbose=verbose and rank == 0,
    )
    if verbose and rank == 0 and len(history):
        print(history.final_line())
    return history


def _train(net, train_iter, test_iter, num_epochs, lr, device, *, optimizer, momentum, weight_decay, schedule,
           precision, channels_last, init, compile=False, seed, checkpoint, resume, live, on_epoch, verbose,
           progress_bar: bool = False) -> History:
    """The loop behind :func:`train_ch6`, the d2l-compatible helpers and the command line; see train_ch6.

    ``live`` draws the figure and progress bar in Jupyter; ``progress_bar``
    shows the bar in a terminal; ``on_epoch(epoch, num_epochs, history)`` is
    called after every finished epoch.
    """
    _check_arguments(num_epochs, lr, precision)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH: the file to resume from.")
    device = torch.device(device) if device is not None else try_gpu()
    if compile:
        _check_compilable(device)
    rank, world_size = _distributed()
    if seed is not None:
        seed_everything(seed)
    net.to(device)
    if init is not None:
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS} or None, got {init!r}.")
        example = next(iter(train_iter))[0].to(device) if _has_lazy(net) else None
        init_weights(net, example, init)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=memory_format)

    opt = _make_optimizer(net, optimizer, lr, momentum, weight_decay)
    train_iter = _shard(train_iter, rank, world_size, drop_last=True)
    test_iter = _shard(test_iter, rank, world_size, drop_last=False)
    num_batches = len(train_iter)
    scheduler = _make_schedule(opt, schedule, lr, num_epochs * num_batches)
    history = History(device=str(device))
    if resume and Path(checkpoint).is_file():
        history = load_checkpoint(checkpoint, net, opt, scheduler, restore_rng=True) or history
        if hasattr(train_iter, "epoch"):
            train_iter.epoch = len(history)  # the same shuffles as the uninterrupted run
        if verbose:
            print(f"Resuming from {checkpoint} after epoch {len(history)}.")
    first_epoch = len(history)
    model = net
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    if compile:
        model = torch.compile(model)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")
    loss_fn = nn.CrossEntropyLoss()
    figure = LiveFigure(["train loss", "train acc", "test acc"], xlim=(0, num_epochs)) if live else None
    if figure is not None:
        for epoch in range(first_epoch):
            figure.add(epoch + 1, {"train loss": history.train_loss[epoch], "train acc": history.train_acc[epoch],
                                   "test acc": history.test_acc[epoch]})
    bar = tqdm(total=(num_epochs - first_epoch) * num_batches, unit="batch", disable=not (live or progress_bar))
    sync_every = max(1, math.ceil(num_batches / _SYNCS_PER_EPOCH))
    no_bad_batch = torch.iinfo(torch.int64).max

    epoch, i = first_epoch, -1
    try:
        for epoch in range(first_epoch, num_epochs):
            epoch_start = time.perf_counter()
            model.train()
            # Running sums stay on the device; reading them forces a sync, so it happens rarely.
            sums = torch.zeros(2, dtype=torch.float64, device=device)  # loss * n, correct
            count = 0  # examples seen by this process: known on the host, no sync needed
            first_bad = torch.full((), no_bad_batch, dtype=torch.int64, device=device)
            for i, (X, y) in enumerate(train_iter):
                X = X.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                y = y.to(device, non_blocking=True)
                with _autocast(device, precision):
                    y_hat = model(X)
                    loss = loss_fn(y_hat, y)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                if scheduler is not None:
                    scheduler.step()
                loss = loss.detach()
                first_bad = torch.where(torch.isfinite(loss), first_bad, torch.clamp(first_bad, max=i))
                sums += torch.stack([loss.double() * y.numel(), (y_hat.argmax(dim=1) == y).sum().double()])
                count += y.numel()
                bar.update(1)
                if (i + 1) % sync_every == 0 or i + 1 == num_batches:
                    totals = _all_reduce(torch.cat([sums, sums.new_tensor([count])]))
                    bad = _all_reduce(first_bad.clone(), torch.distributed.ReduceOp.MIN if world_size > 1 else None)
                    bad = bad.item()  # the sync point
                    if bad != no_bad_batch:
                        raise TrainingDiverged(
                            f"The loss became NaN or infinite in epoch {epoch + 1}, batch {bad + 1}: "
                            f"training diverged. Try a smaller learning rate (lr={lr} now, e.g. lr={lr / 10:g}). "
                            f"The {len(history)} finished epoch(s) are in this error's .history.",
                            history,
                        )
                    loss_sum, correct, seen = totals.tolist()
                    train_loss, train_acc = loss_sum / seen, correct / seen
                    bar.set_postfix(epoch=epoch + 1, loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}")
                    if figure is not None and i + 1 < num_batches:
                        figure.add(epoch + (i + 1) / num_batches, {"train loss": train_loss, "train acc": train_acc})
                        figure.draw()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            train_seconds = time.perf_counter() - epoch_start
            correct, total = _all_reduce(_count_correct(net, test_iter, device, precision, memory_format)).tolist()
            test_acc = correct / max(total, 1)
            history.append(train_loss, train_acc, test_acc, seen / train_seconds, time.perf_counter() - epoch_start)
            if checkpoint is not None and rank == 0:
                save_checkpoint(checkpoint, net, opt, history, scheduler)
            if figure is not None:
                figure.add(epoch + 1, {"train loss": train_loss, "train acc": train_acc, "test acc": test_acc})
                figure.draw()
            if on_epoch is not None:
                on_epoch(epoch, num_epochs, history)
    except KeyboardInterrupt:
        history.interrupted = True
        if verbose:
            print(f"Interrupted in epoch {epoch + 1}, batch {i + 1}: returning the {len(history)} finished epoch(s).")
    finally:
        bar.close()
    return history
