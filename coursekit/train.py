"""The training loop of the course: :func:`fit`, and ``train_ch6`` on top of it.

Same call shape and final line as d2l's ``train_ch6``, built to be fast and to
never lose work:

* metrics are summed on the device and read back a few times an epoch, not
  twice per batch (every read is a GPU->CPU sync that stalls the pipeline);
* the history survives: Ctrl-C returns what was trained so far, a NaN loss
  raises :class:`TrainingDiverged` carrying the history, and with
  ``checkpoint=`` every finished epoch is saved atomically;
* mixed precision and ``channels_last`` are one option away;
* on a CPU, the memory of freed tensors is kept for the next step (:mod:`coursekit.allocator`).

The settings of a run are one :class:`TrainOptions`, validated when it is
made; what the run shows (live curves, a progress bar, lines, files) is up to
its reporters (:mod:`coursekit.reporters`).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from .allocator import reuse_freed_memory
from .checkpoint import (CheckpointError, check_resume, check_writable, checkpoint_info, load_checkpoint, run_settings,
                         save_checkpoint)
from .config import check_device, seed_everything
from .augment import MIXES, mixer
from .evaluate import PRECISIONS, autocast, count_correct, evaluation_mode
from .fast_path import FastPath, check_precision, choose_fast_path
from .history import History
from .init import INITS, has_lazy, init_weights
from .inspect.probe import check_module
from .reporters import Reporter, Run, default_reporters, end_all

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
SCHEDULES = ("step", "cosine", "onecycle")
# Host reads of the metrics (and redraws of a live figure) per epoch.
_SYNCS_PER_EPOCH = 4
# A finite loss this many times the first batch's (or 1, if that was smaller) means training has diverged:
# cross-entropy starts near ln(classes) and a run that learns never goes that far up.
DIVERGED_FACTOR = 100


class TrainingDiverged(RuntimeError):
    """The loss became NaN, infinite, or :data:`DIVERGED_FACTOR` times its first value. ``.history`` holds the
    finished epochs."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class TrainOptions:
    """Every setting of a training run but the data, the network and the device.

    Attributes:
        num_epochs, lr: as in d2l.
        optimizer: ``'sgd'`` (d2l's), ``'adam'``, ``'adamw'``, or a built ``torch.optim.Optimizer``
            (then ``lr``, ``momentum`` and ``weight_decay`` are the optimizer's business).
        momentum, weight_decay: passed to the optimizer (momentum to SGD only).
        schedule: None (constant lr), ``'step'`` (a tenth of it after half the steps, a hundredth after
            three quarters), ``'cosine'`` or ``'onecycle'``, stepped every batch.
        label_smoothing: the share of each target spread evenly over all classes (Szegedy et al. 2016).
        mix: ``'mixup'``, ``'cutmix'`` or ``'mixup_or_cutmix'`` (one of the two per batch): mix pairs of
            training images and their labels (:func:`coursekit.augment.mixer`); None: no mixing.
        precision: None (fp32), ``'bf16'``, ``'fp16'`` (with a gradient scaler on CUDA), or ``'auto'``:
            measure a few training steps in each precision the device runs and keep the fastest
            (:func:`coursekit.choose_fast_path`; fp32 unless another is clearly faster).
        channels_last: the NHWC memory layout (often faster for convolutions), or ``'auto'``: measured too.
        compile: train through ``torch.compile`` (evaluation stays eager); the first batches wait
            for the compiler, so it pays only on long runs.
        init: ``'xavier'`` re-initialises Linear/Conv weights like d2l, ``'kaiming'`` with He init
            (deep ReLU nets without BatchNorm); None keeps the model's own.
        seed: seeds the initialisation and dropout; None leaves the random state alone.
        checkpoint: a path; model, optimizer, schedule and history are saved there after every epoch.
        resume: continue from ``checkpoint`` if it exists, up to ``num_epochs`` in all; the result
            is the same as a run that was never interrupted.

    Bad values raise ``ValueError`` here, before any data is touched.
    """

    num_epochs: int
    lr: float
    optimizer: str | torch.optim.Optimizer = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str | None = None
    label_smoothing: float = 0.0
    mix: str | None = None
    precision: str | None = None
    channels_last: bool | str = False
    compile: bool = False
    init: str | None = "xavier"
    seed: int | None = 0
    checkpoint: str | os.PathLike | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not _is_int(self.num_epochs) or self.num_epochs < 1:
            problems.append(f"num_epochs must be a positive int, got {self.num_epochs!r}")
        if not _is_number(self.lr) or self.lr <= 0:
            problems.append(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.optimizer, torch.optim.Optimizer) and self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)} or a torch.optim.Optimizer, "
                            f"got {self.optimizer!r}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                problems.append(f"{name} must be a number >= 0, got {value!r}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            problems.append(f"schedule must be None or one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if not _is_number(self.label_smoothing) or not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be a number in [0, 1), got {self.label_smoothing!r}")
        if self.mix is not None and self.mix not in MIXES:
            problems.append(f"mix must be None or one of {', '.join(MIXES)}, got {self.mix!r}")
        if self.precision is not None and self.precision not in (*PRECISIONS, "auto"):
            problems.append(f"precision must be None, 'bf16', 'fp16' or 'auto', got {self.precision!r}")
        if self.channels_last not in (True, False, "auto"):
            problems.append(f"channels_last must be True, False or 'auto', got {self.channels_last!r}")
        if self.init is not None and self.init not in INITS:
            problems.append(f"init must be one of {', '.join(INITS)} or None, got {self.init!r}")
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            problems.append(f"seed must be None or an int >= 0, got {self.seed!r}")
        if self.resume and self.checkpoint is None:
            problems.append("resume=True needs checkpoint=PATH: the file to resume from")
        if problems:
            raise ValueError("; ".join(problems) + ".")

    def replace(self, **changes) -> "TrainOptions":
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """The settings as plain data (a built optimizer as its class name)."""
        data = asdict(self)
        if isinstance(self.optimizer, torch.optim.Optimizer):
            data["optimizer"] = type(self.optimizer).__name__
        if self.checkpoint is not None:
            data["checkpoint"] = str(self.checkpoint)
        return data


def _make_optimizer(net: nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    if isinstance(options.optimizer, torch.optim.Optimizer):
        return options.optimizer
    kwargs = {"lr": options.lr, "weight_decay": options.weight_decay}
    if options.optimizer == "sgd":
        kwargs["momentum"] = options.momentum
    return OPTIMIZERS[options.optimizer](net.parameters(), **kwargs)


def _make_schedule(optimizer: torch.optim.Optimizer, options: TrainOptions, total_steps: int):
    if options.schedule == "step":
        milestones = [total_steps // 2, total_steps * 3 // 4]
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    if options.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if options.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=options.lr, total_steps=total_steps)
    return None


def check_compilable(device: torch.device) -> None:
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
            f"Under torchrun ({world_size} processes) training splits every batch across processes, which needs "
            f"the loader of load_data_fashion_mnist; got {type(data_iter).__name__}."
        )
    return data_iter.shard(rank, world_size, drop_last=drop_last)


def _fast_path(net: nn.Module, train_iter, options: TrainOptions, device: torch.device,
               world_size: int) -> FastPath | None:
    """The measured precision and layout when ``options`` ask for ``'auto'``; None when they fix both."""
    check_precision(options.precision, device)
    if options.precision != "auto" and options.channels_last != "auto":
        return None
    X, y = train_iter.peek() if hasattr(train_iter, "peek") else next(iter(train_iter))
    chosen = choose_fast_path(net, X.to(device), y.to(device), precision=options.precision,
                              channels_last=options.channels_last)
    if world_size > 1:  # every process must train the same way: rank 0's measurement decides
        shared = [chosen]
        torch.distributed.broadcast_object_list(shared, src=0)
        chosen = shared[0]
    return chosen


def _check_first_batch(net: nn.Module, X, y) -> None:
    """Turn the usual mismatches between data and network into advice, before the first step."""
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(f"train_iter must yield (X, y) pairs of tensors, got ({type(X).__name__}, "
                        f"{type(y).__name__}).")
    if not X.is_floating_point():
        raise TypeError(f"the images are {X.dtype}, not floating point: convert them, e.g. X.float() / 255 "
                        "(load_data_fashion_mnist does).")
    dtypes = {p.dtype for p in net.parameters() if p.is_floating_point()}
    if dtypes and X.dtype not in dtypes:
        raise TypeError(f"the network's parameters are {', '.join(map(str, sorted(dtypes, key=str)))} but the images "
                        f"are {X.dtype}: use one dtype for both, e.g. net.float() for the course's float32 images.")
    if y.dtype not in (torch.int64, torch.int32, torch.uint8, torch.int16, torch.int8):
        raise TypeError(f"the labels are {y.dtype}: cross-entropy wants class indices (integers, e.g. y.long()).")


def _check_outputs(y_hat: torch.Tensor, y: torch.Tensor) -> None:
    if y_hat.ndim != 2:
        raise ValueError(f"the network's output has shape {tuple(y_hat.shape)}; cross-entropy wants one row of "
                         "class scores per image, (batch, classes): end the network with nn.Flatten() and a Linear.")
    low, high = int(y.min()), int(y.max())  # one sync, on the first batch only
    if low < 0 or high >= y_hat.shape[1]:
        raise ValueError(f"the network gives {y_hat.shape[1]} scores per image, but the labels run from {low} to "
                         f"{high}: build it with at least {high + 1} outputs (the last layer's out_features), or "
                         "relabel the data 0..classes-1.")


def fit(net: nn.Module, train_iter, test_iter, options: TrainOptions, device: torch.device | str | None = None,
        reporters: list[Reporter] | None = None) -> History:
    """Train ``net`` with cross-entropy as ``options`` say; return its :class:`History`.

    Args:
        net: the network; it is moved to ``device`` (default :func:`coursekit.try_gpu`).
        train_iter, test_iter: iterables of ``(X, y)`` batches, e.g. from
            :func:`coursekit.load_data_fashion_mnist` or :meth:`Recipe.data <coursekit.recipes.Recipe.data>`.
        options: a :class:`TrainOptions` (``recipe.options()`` gives a chapter's).
        reporters: what to show; default :func:`coursekit.reporters.default_reporters` (live curves and
            a bar in Jupyter, a bar and a line per epoch elsewhere); ``[]`` trains silently.

    Ctrl-C stops training and returns the history of the finished epochs
    (``history.interrupted`` is True). A loss that becomes NaN, infinite or
    :data:`DIVERGED_FACTOR` times its first value raises
    :class:`TrainingDiverged`, and a checkpoint that cannot be written
    :class:`~coursekit.checkpoint.CheckpointError`; both keep the finished
    epochs in ``.history``. The checkpoint's folder is tried before training,
    and a resumed checkpoint must come from the same run (model, options and
    data sizes), else ``ValueError`` says what differs.

    Under ``torchrun --nproc_per_node=N`` every process runs this same call:
    the model is wrapped in ``DistributedDataParallel``, each process takes
    its share of every batch (so the global batch stays the loader's batch
    size), metrics are summed over processes, and only rank 0 reports and saves.
    """
    device = check_device(device)
    with reuse_freed_memory(device):  # on a CPU, large activations are not mapped afresh at every step
        return _fit(net, train_iter, test_iter, options, device, reporters)


def _fit(net: nn.Module, train_iter, test_iter, options: TrainOptions, device: torch.device,
         reporters: list[Reporter] | None) -> History:
    check_module(net, "fit")
    if not isinstance(options, TrainOptions):
        raise TypeError(f"options must be a TrainOptions (e.g. recipe.options()), got {type(options).__name__}.")
    if options.compile:
        check_compilable(device)
    if not hasattr(train_iter, "__len__"):
        raise TypeError(f"train_iter must know its length (a DataLoader, a DeviceLoader or a list of batches), "
                        f"got {type(train_iter).__name__}.")
    if hasattr(test_iter, "__len__") and len(test_iter) == 0:
        raise ValueError("test_iter yields no batch: the test accuracy would mean nothing; give it some images.")
    rank, world_size = _distributed()
    if reporters is None:
        reporters = default_reporters() if rank == 0 else []
    checkpoint, recorded = options.checkpoint, {}
    if checkpoint is not None:
        if rank == 0:
            check_writable(checkpoint)  # before any training is spent on a run that could not be saved
        if options.resume and Path(checkpoint).is_file():
            recorded = checkpoint_info(checkpoint)
            # A resumed run keeps the precision and layout it started with rather than measuring again.
            options = options.replace(**{name: recorded[name] for name in ("precision", "channels_last")
                                         if getattr(options, name) == "auto" and name in recorded})
    # Measured before seeding, so that a run chosen this way is the run an explicit choice would give.
    fast_path = _fast_path(net, train_iter, options, device, world_size)
    precision, channels_last = (fast_path.precision, fast_path.channels_last) if fast_path else (
        options.precision, options.channels_last)
    if options.seed is not None:
        seed_everything(options.seed)
    net.to(device)
    if options.init is not None:
        example = next(iter(train_iter))[0].to(device) if has_lazy(net) else None
        init_weights(net, example, options.init)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=memory_format)

    settings = run_settings(net, train_iter, test_iter, options.to_dict(), precision, channels_last)
    if recorded:
        check_resume(checkpoint, recorded, settings)
    opt = _make_optimizer(net, options)
    train_iter = _shard(train_iter, rank, world_size, drop_last=True)
    test_iter = _shard(test_iter, rank, world_size, drop_last=False)
    num_batches = len(train_iter)
    if num_batches == 0:
        raise ValueError("train_iter yields no batch: give it at least one (more images, or a smaller batch size "
                         "with drop_last).")
    scheduler = _make_schedule(opt, options, options.num_epochs * num_batches)
    history = History(device=str(device), precision=precision or "fp32", channels_last=channels_last,
                      fast_path=fast_path.to_dict() if fast_path else None)
    if options.resume and Path(checkpoint).is_file():
        history = load_checkpoint(checkpoint, net, opt, scheduler, restore_rng=True) or history
    if hasattr(train_iter, "epoch") and options.seed is not None:
        # A seeded run shuffles as epoch 0, 1... whatever the loader served before: the same run twice is the
        # same run, and a resumed one continues the uninterrupted one's shuffles.
        train_iter.epoch = len(history)
    run = Run(options.num_epochs, num_batches, len(history), str(device), history,
              str(checkpoint) if checkpoint is not None else None, fast_path, saved_epochs=len(history))
    model = net
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    if options.compile:
        model = torch.compile(model)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=options.label_smoothing)
    mix = None  # made at the first batch, when the number of classes is known
    sync_every = max(1, math.ceil(num_batches / _SYNCS_PER_EPOCH))
    no_bad_batch = torch.iinfo(torch.int64).max
    first_loss = peak = None  # on the device: reading them would cost a sync per batch

    for reporter in reporters:
        reporter.on_start(run)
    epoch, i = run.first_epoch, -1
    try:
        for epoch in range(run.first_epoch, options.num_epochs):
            epoch_start = time.perf_counter()
            model.train()
            # Running sums stay on the device; reading them forces a sync, so it happens rarely.
            sums = torch.zeros(2, dtype=torch.float64, device=device)  # loss * n, correct
            count = 0  # examples seen by this process: known on the host, no sync needed
            first_bad = torch.full((), no_bad_batch, dtype=torch.int64, device=device)
            i = -1
            for i, (X, y) in enumerate(train_iter):
                metrics = None
                if first_loss is None:
                    _check_first_batch(net, X, y)
                X = X.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                y = y.to(device, non_blocking=True)
                target = y
                if options.mix:
                    if mix is None:
                        with torch.no_grad(), evaluation_mode(net), autocast(device, precision):
                            scores = net(X)
                        _check_outputs(scores, y)
                        mix = mixer(options.mix, num_classes=scores.shape[1])
                    X, target = mix(X, y)  # soft labels (B, classes) whose rows sum to 1
                    X = X.contiguous(memory_format=memory_format)
                    y = target.argmax(dim=1)  # train accuracy counts the label with the larger share
                with autocast(device, precision):
                    y_hat = model(X)
                    if first_loss is None:
                        _check_outputs(y_hat, y)
                    loss = loss_fn(y_hat, target)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                if scheduler is not None:
                    scheduler.step()
                loss = loss.detach().float()
                if first_loss is None:
                    first_loss, peak = loss.clone(), loss.clone()
                peak = torch.maximum(peak, loss)
                ok = torch.isfinite(loss) & (loss <= DIVERGED_FACTOR * torch.clamp(first_loss, min=1.0))
                first_bad = torch.where(ok, first_bad, torch.clamp(first_bad, max=i))
                sums += torch.stack([loss.double() * y.numel(), (y_hat.argmax(dim=1) == y).sum().double()])
                count += y.numel()
                if (i + 1) % sync_every == 0 or i + 1 == num_batches:
                    totals = _all_reduce(torch.cat([sums, sums.new_tensor([count])]))
                    bad = _all_reduce(first_bad.clone(), torch.distributed.ReduceOp.MIN if world_size > 1 else None)
                    bad = bad.item()  # the sync point
                    if bad != no_bad_batch:
                        raise TrainingDiverged(_diverged_message(first_loss.item(), peak.item(), epoch, bad,
                                                                 options.lr, len(history)), history)
                    loss_sum, correct, seen = totals.tolist()
                    metrics = {"train loss": loss_sum / seen, "train acc": correct / seen}
                for reporter in reporters:
                    reporter.on_batch(run, epoch, i + 1, metrics)
            if i + 1 < num_batches:
                raise ValueError(f"train_iter yielded {i + 1} of its {num_batches} batches in epoch {epoch + 1}: an "
                                 "iterator that can be read only once? Pass a list of batches or a DataLoader.")
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            train_seconds = time.perf_counter() - epoch_start
            correct, total = _all_reduce(count_correct(net, test_iter, device, precision, memory_format)).tolist()
            if total == 0:
                raise ValueError("test_iter yielded no example: the test accuracy would mean nothing; give it some "
                                 "images.")
            history.append(train_loss=metrics["train loss"], train_acc=metrics["train acc"],
                           test_acc=correct / total, train_seconds=train_seconds, examples=int(seen),
                           seconds=time.perf_counter() - epoch_start)
            if checkpoint is not None and rank == 0:
                try:
                    save_checkpoint(checkpoint, net, opt, history, scheduler, settings)
                except CheckpointError as error:
                    raise CheckpointError(f"{error} {len(history)} epoch(s) trained, {run.saved_epochs} of them in "
                                          "the checkpoint; all are in this error's .history.", history) from error
                run.saved_epochs = len(history)
            for reporter in reporters:
                reporter.on_epoch(run, epoch)
    except KeyboardInterrupt:
        history.interrupted = True
        for reporter in reporters:
            reporter.on_interrupt(run, epoch, i + 1)
    finally:
        # The layout was a speed-up for training; the learner's network goes back to PyTorch's default, which
        # every other tool expects (torch.nn.utils.prune's parameters_to_vector, for one, cannot view it).
        net.to(memory_format=torch.contiguous_format)
        end_all(reporters, run)
    return history


def _diverged_message(first: float, peak: float, epoch: int, batch: int, lr: float, done: int) -> str:
    what = ("became NaN or infinite" if not math.isfinite(peak) else
            f"grew from {first:.3g} to {peak:.3g}, more than {DIVERGED_FACTOR} times its first value,")
    return (f"The loss {what} in epoch {epoch + 1}, batch {batch + 1}: training diverged. Try a smaller learning "
            f"rate (lr={lr:g} now, e.g. lr={lr / 10:g}). The {done} finished epoch(s) are in this error's .history.")


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
    """Train ``net`` with cross-entropy and return its :class:`History`: d2l's call, coursekit's loop.

    ``net, train_iter, test_iter, num_epochs, lr, device`` are as in d2l
    (``device`` defaults to :func:`try_gpu`); the keywords are those of
    :class:`TrainOptions`. With ``verbose`` a notebook shows live curves and
    a progress bar, a terminal a bar and a line per epoch, and both end with
    d2l's final line. See :func:`fit` for Ctrl-C, divergence and ``torchrun``.
    """
    options = TrainOptions(num_epochs, lr, optimizer=optimizer, momentum=momentum, weight_decay=weight_decay,
                           schedule=schedule, precision=precision, channels_last=channels_last, compile=compile,
                           init=init, seed=seed, checkpoint=checkpoint, resume=resume)
    return fit(net, train_iter, test_iter, options, device, reporters=None if verbose else [])
