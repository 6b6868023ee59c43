"""Which arithmetic trains this network fastest here? Measured, not guessed.

Whether bfloat16 autocast or the ``channels_last`` memory layout pays depends on
the processor *and* on the network: the same CPU flag (AVX512-BF16) came with
bf16 matmuls at twice the fp32 rate on one server and at half of it on another,
and small feature maps make bf16 slower even where large convolutions gain.
So ``precision="auto"`` (and ``channels_last="auto"``) time a few training steps
of the actual network on the actual batch shape and device, once per
combination, and keep the fastest. fp32 stays unless a reduced precision is clearly
faster (:data:`MARGIN`); the layout is simply the faster one.

The decision is cached in the user cache (``fast_path.json``), keyed by the
device, the PyTorch version, the network's architecture and the input shape,
so it is paid once.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from .allocator import reuse_freed_memory
from .evaluate import autocast

# A reduced precision must beat the fastest fp32 layout by this factor to be chosen: timings of a few steps
# are noisy, and fp32 is the arithmetic every result in the course is explained in.
MARGIN = 1.15
# A probe step longer than this is timed on a smaller batch (of at least _SMALLEST_BATCH images, where the
# time per image has settled), so that the probe costs a few percent of a short chapter run, not more.
_SLOW_STEP_SECONDS = 0.1
_SMALLEST_BATCH = 32
CACHE_FILE = "fast_path.json"


@dataclass(frozen=True)
class FastPath:
    """The chosen arithmetic and what the probe measured.

    ``precision`` is None (fp32), ``'bf16'`` or ``'fp16'``; ``speedup`` is the
    chosen combination's speed over fp32 in the default layout; ``timings``
    holds the seconds per training step of every combination tried, by label.
    """

    precision: str | None
    channels_last: bool
    speedup: float
    timings: dict[str, float]
    cached: bool = False
    busy: bool = False  # measured while other work kept the processors busy: not cached

    @property
    def label(self) -> str:
        return label(self.precision, self.channels_last)

    def describe(self) -> str:
        """One line for the learner: ``bf16 + channels_last: 1.62x the speed of fp32 ... (measured)``."""
        line = f"{self.label}: {self.speedup:.2f}x the speed of fp32 in the default layout here"
        reduced = {name: t for name, t in self.timings.items() if not name.startswith("fp32")}
        if self.precision is None and reduced:
            name = min(reduced, key=reduced.get)
            line += (f"; {name} ran at {self.timings[self.label] / reduced[name]:.2f}x this, short of the "
                     f"{MARGIN:.2f}x that would pay for its rounding")
        if self.busy:
            return f"{line} (measured while the machine was busy, so not cached: it is measured again next time)"
        return f"{line} ({'measured before, cached' if self.cached else 'measured'})"

    def to_dict(self) -> dict:
        return asdict(self)


def machine_is_busy() -> bool:
    """Whether other work is competing for the processors: a timing taken now would be skewed.

    The 1-minute load average counts the runnable threads; this process's own
    training accounts for about one per core, so more than half a core beyond
    that means someone else is running too. False where the OS does not say.
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        return False
    return load > (os.cpu_count() or 1) + 0.5


def label(precision: str | None, channels_last: bool) -> str:
    """``'fp32'``, ``'bf16 + channels_last'``..."""
    return (precision or "fp32") + (" + channels_last" if channels_last else "")


def supported_precisions(device: torch.device) -> list[str | None]:
    """The precisions autocast can train with on ``device``: always fp32 (None), then what the hardware runs."""
    if device.type == "cuda":
        return [None, *(["bf16"] if torch.cuda.is_bf16_supported() else []), "fp16"]
    if device.type == "cpu":
        return [None, "bf16"]  # bf16 autocast runs on every CPU PyTorch supports; fast or not, the probe tells
    return [None]  # MPS and others: fp32 only


def check_precision(precision: str | None, device: torch.device) -> None:
    """A clear error for a precision ``device`` cannot train in (instead of a slow or silent fallback)."""
    if precision in (None, "auto"):
        return
    if precision not in supported_precisions(device):
        why = {"cuda": "this GPU has no bfloat16 (it needs compute capability 8.0, Ampere, or newer)",
               "cpu": "fp16 training on a CPU has no gradient scaler and is slower than bf16"}.get(
            device.type, f"only fp32 is supported on {device.type}")
        raise ValueError(f"precision={precision!r} on {device}: {why}. Use precision='auto' (measures what is "
                         "fastest here) or None (fp32).")


def device_name(device: torch.device) -> str:
    """The processor's model and the number of threads (CPU) or the GPU's name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        model = platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        return f"{model}, {torch.get_num_threads()} threads"
    return device.type


def fingerprint(net: nn.Module) -> str:
    """A short hash of the architecture: module types and parameter shapes (not their values)."""
    parts = [f"{name}:{type(m).__name__}" for name, m in net.named_modules()]
    parts += [f"{name}:{tuple(p.shape)}" for name, p in net.named_parameters()
              if not isinstance(p, nn.parameter.UninitializedParameter)]
    return type(net).__name__ + "-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _cache_path() -> Path:
    from .data import user_cache_dir

    return user_cache_dir() / CACHE_FILE


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: measure again
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, key: str, value: dict) -> None:
    data = _read_cache(path)
    data[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache costs a new measurement next time, nothing else


def time_step(net: nn.Module, X: torch.Tensor, y: torch.Tensor, precision: str | None, channels_last: bool,
              steps: int, timer: Callable[[], float] = time.perf_counter) -> float:
    """Median seconds of one forward + backward pass of ``net`` on ``(X, y)``, after one warm-up step.

    No optimizer step is taken, so every step computes the same thing.
    """
    device = X.device
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=memory_format)
    X = X.contiguous(memory_format=memory_format)
    loss_fn = nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")
    times = []
    for i in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = timer()
        with autocast(device, precision):
            loss = loss_fn(net(X), y)
        scaler.scale(loss).backward()
        net.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(timer() - start)
    return statistics.median(times[1:])  # the first step pays for one-time set-up (kernel choice, allocation)


def choose_fast_path(net: nn.Module, X: torch.Tensor, y: torch.Tensor, *, precision: str | None = "auto",
                     channels_last: bool | str = "auto", steps: int = 2, cache: bool = True,
                     timer: Callable[[], float] = time.perf_counter) -> FastPath:
    """Time training steps of ``net`` on the batch ``(X, y)`` in each candidate arithmetic; return the fastest.

    Args:
        net: the network; a copy is measured, so its weights and BatchNorm statistics do not change.
        X, y: one training batch on the device to measure on.
        precision: ``'auto'`` tries fp32 and every reduced precision the device runs; a fixed value
            (None, ``'bf16'``, ``'fp16'``) is kept and only the layout is chosen.
        channels_last: ``'auto'`` tries both memory layouts; True or False keeps that one.
        steps: the least number of timed steps per combination (after one warm-up step); short steps
            are repeated more, up to 10.
        cache: read and write the decision in the user cache.
        timer: the clock (tests pass a fake one).

    The chosen combination is the fastest, except that a reduced precision must
    be :data:`MARGIN` times faster than the fastest fp32 layout, or fp32 wins.
    """
    device = X.device
    precisions = supported_precisions(device) if precision == "auto" else [precision]
    layouts = [False, True] if channels_last == "auto" else [bool(channels_last)]
    if X.dim() != 4:
        layouts = [False]  # channels_last only exists for images (N, C, H, W)
    candidates = [(p, c) for p in precisions for c in layouts]
    key = " | ".join([device_name(device), f"torch {torch.__version__}", fingerprint(net),
                      f"input {tuple(X.shape)}", ", ".join(label(p, c) for p, c in candidates)])
    path = _cache_path()
    if cache and key in (hit := _read_cache(path)):
        return FastPath(**{**hit[key], "cached": True})

    with reuse_freed_memory(device):  # as fit trains: the kernel's page zeroing would skew the comparison
        timings = _time_candidates(net, X, y, candidates, steps, timer)
    speed = {pc: 1 / timings[label(*pc)] for pc in candidates}
    best = max(candidates, key=speed.get)
    fp32 = [pc for pc in candidates if pc[0] is None]
    if fp32 and best[0] is not None and speed[best] < MARGIN * max(speed[pc] for pc in fp32):
        best = max(fp32, key=speed.get)  # a reduced precision must be clearly faster to be worth its rounding
    baseline = timings.get(label(None, False), timings[label(*candidates[0])])
    # A decision measured while another process competed for the cores would be cached for good (a VGG once
    # went from 976 to 417 images/s that way): such a measurement is used once and not kept.
    busy = machine_is_busy()
    chosen = FastPath(best[0], best[1], baseline / timings[label(*best)], timings, busy=busy)
    if cache and not busy:
        _write_cache(path, key, {k: v for k, v in chosen.to_dict().items() if k not in ("cached", "busy")})
    return chosen


def _time_candidates(net: nn.Module, X: torch.Tensor, y: torch.Tensor, candidates: list, steps: int,
                     timer: Callable[[], float]) -> dict[str, float]:
    """Seconds per training step of each ``(precision, channels_last)`` candidate, on a copy of ``net``."""
    probe = copy.deepcopy(net).to(X.device).train()
    if len(candidates) > 1:
        first = time_step(probe, X, y, *candidates[0], steps=1, timer=timer)
        if first > _SLOW_STEP_SECONDS and len(X) > _SMALLEST_BATCH:
            keep = max(_SMALLEST_BATCH, int(len(X) * _SLOW_STEP_SECONDS / first))
            first *= keep / len(X)
            X, y = X[:keep], y[:keep]
        # Short steps are noisy: take more of them, up to about a third of a second per combination.
        steps = max(steps, min(10, int(0.3 / max(first, 1e-6))))
    return {label(p, c): time_step(probe, X, y, p, c, steps, timer) for p, c in candidates}
