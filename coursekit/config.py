"""Profiles, devices and seeds: the three knobs every notebook turns first.

A *profile* says how much training a notebook does:

* ``smoke``  -- CI: a few hundred images, one epoch, seconds per notebook.
* ``laptop`` -- a learner on a CPU: minutes per notebook, still learns.
* ``full``   -- the Dive into Deep Learning hyper-parameters, for a GPU.

It is read from the environment variable ``COURSEKIT_PROFILE``. When the
variable is unset the profile is ``full`` if CUDA is available and ``laptop``
otherwise (pytest sets ``smoke`` in the repository's ``conftest.py``).
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

PROFILES = ("smoke", "laptop", "full")
PROFILE_ENV = "COURSEKIT_PROFILE"

T = TypeVar("T")


def get_profile() -> str:
    """Return the profile in force: ``smoke``, ``laptop`` or ``full``."""
    value = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "laptop"
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={os.environ[PROFILE_ENV]!r} is not a profile; "
            f"valid profiles are {', '.join(PROFILES)} "
            f"(for example `export {PROFILE_ENV}=laptop`)."
        )
    return value


def for_profile(*, smoke: T, laptop: T, full: T) -> T:
    """Pick the value for the profile in force.

    >>> epochs = for_profile(smoke=1, laptop=5, full=10)
    """
    return {"smoke": smoke, "laptop": laptop, "full": full}[get_profile()]


def describe_profile() -> str:
    """One line that says which profile is in force and how to change it."""
    profile = get_profile()
    source = "from $" + PROFILE_ENV if os.environ.get(PROFILE_ENV) else "default for this machine"
    return (
        f"coursekit profile: {profile} ({source}); "
        f"set {PROFILE_ENV} to one of {'/'.join(PROFILES)} and restart the kernel to change it."
    )


def try_gpu(i: int = 0) -> torch.device:
    """Return the best accelerator: ``cuda:i``, else Apple's ``mps``, else ``cpu``.

    Same call shape as d2l's ``try_gpu``; unlike it, this also finds Apple GPUs.
    """
    if torch.cuda.is_available() and torch.cuda.device_count() > i:
        return torch.device(f"cuda:{i}")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device`` this machine has; None gives :func:`try_gpu`'s choice.

    Raises ``ValueError`` saying what the machine has instead (and how to pick
    it with :func:`try_gpu`), rather than PyTorch's driver or build messages.
    """
    if device is None:
        return try_gpu()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{device!r} is not a device PyTorch knows ({str(error).splitlines()[0][:80]}); "
                         f"use 'cpu', 'cuda', 'cuda:0' or 'mps', or coursekit.try_gpu() for the best one "
                         f"here ({try_gpu()}).") from None
    fallback = f"coursekit.try_gpu() picks the best device this machine has ({try_gpu()})"
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {str(device)!r}: this machine has no CUDA GPU (or PyTorch was built without "
                             f"CUDA); {fallback}.")
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {str(device)!r}: this machine has {count} CUDA GPU(s), cuda:0 to "
                             f"cuda:{count - 1}; {fallback}.")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device 'mps': Apple's GPU is not available here (it needs a Mac with Apple silicon and "
                         f"a PyTorch built for it); {fallback}.")
    elif device.type not in ("cpu", "cuda", "mps", "meta"):
        raise ValueError(f"device {str(device)!r}: coursekit trains on 'cpu', 'cuda' or 'mps'; {fallback}.")
    return device


def try_all_gpus() -> list[torch.device]:
    """Every CUDA device, or ``[try_gpu()]`` when there is none."""
    count = torch.cuda.device_count()
    return [torch.device(f"cuda:{i}") for i in range(count)] or [try_gpu()]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU) for a reproducible run."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
