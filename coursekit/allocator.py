"""Training on a CPU: keep the memory of freed tensors for the next step.

glibc's ``malloc`` serves every block over 32 MB (and, until its heuristic has
seen one freed, every block over 128 kB) with a fresh ``mmap`` and hands it
back to the operating system as soon as it is freed. A training step allocates
and frees the same large activations every time, so the kernel maps and zeroes
them again at every step: AlexNet at 224, whose largest activation is 72 MB in
bf16, trained 1.30x faster on a 2-core AMD EPYC with the memory kept in a
fresh process (1.06-1.18x once a first run has settled glibc's threshold), and
its page faults fell tenfold (README, "Speed"). Networks whose activations
stay under 32 MB gain nothing, as glibc keeps those blocks anyway.
PyTorch's own tuning guide recommends a caching allocator (jemalloc
or TCMalloc, loaded with ``LD_PRELOAD``) for the same reason; a Jupyter kernel
is already running when coursekit is imported, so :func:`reuse_freed_memory`
asks glibc itself, through ``mallopt(3)``, to serve large blocks from its heap
and not to give the heap back while training runs.

Set ``COURSEKIT_REUSE_FREED_MEMORY=0`` to train with glibc's defaults.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from collections.abc import Iterator

import torch

ENV = "COURSEKIT_REUSE_FREED_MEMORY"
# mallopt(3) parameter numbers, from glibc's malloc.h.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
# Afterwards glibc is left where its own heuristic settles once it has freed a large block: blocks over
# 32 MB mapped, a heap trimmed when more than twice that is free at its top (its DEFAULT_MMAP_THRESHOLD_MAX).
_MMAP_THRESHOLD_AFTER = 32 * 1024 * 1024
_MMAP_MAX_AFTER = 65536  # glibc's default number of mapped blocks
_depth = 0  # nested uses (fit inside a probe, a probe inside fit) set and restore glibc once


def enabled() -> bool:
    """Whether :func:`reuse_freed_memory` acts: on unless ``COURSEKIT_REUSE_FREED_MEMORY=0``."""
    value = os.environ.get(ENV, "1").strip()
    if value not in ("0", "1"):
        raise ValueError(f"{ENV}={value!r}: set it to 1 (keep freed memory for the next training step, the "
                         "default) or 0 (glibc's defaults: slower on a CPU, memory returned at once).")
    return value == "1"


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None  # macOS, Windows and musl allocate differently; mallopt means nothing (or is a stub) there
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def describe() -> str:
    """One line for ``coursekit doctor``: whether training on a CPU keeps freed memory, and how to change it."""
    if _glibc() is None:
        return "training on a CPU allocates as this C library does (the glibc setting does not apply here)"
    try:
        on = enabled()
    except ValueError as error:
        return f"problem: {error}"
    if on:
        return f"training on a CPU keeps freed memory for the next step ({ENV}=0 switches it off)"
    return f"{ENV}=0: training on a CPU returns freed memory at once (slower; unset it for the default)"


@contextlib.contextmanager
def reuse_freed_memory(device: torch.device) -> Iterator[bool]:
    """While the block runs on a CPU under glibc, keep freed memory in the process for the next tensors.

    Yields whether it acted (False on a GPU, off Linux/glibc, or when switched
    off by the environment). On leaving, glibc maps large blocks again and the
    kept memory is returned to the operating system (``malloc_trim``).
    """
    global _depth
    libc = _glibc() if torch.device(device).type == "cpu" and enabled() else None
    if libc is None:
        yield False
        return
    if _depth == 0:
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    _depth += 1
    try:
        yield True
    finally:
        _depth -= 1
        if _depth == 0:
            libc.mallopt(_M_MMAP_MAX, _MMAP_MAX_AFTER)
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_AFTER)
            libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_AFTER)
            libc.malloc_trim(0)
