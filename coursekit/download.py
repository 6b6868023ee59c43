"""Downloading Fashion-MNIST through torchvision, with a timeout (:mod:`coursekit.data` finds the files)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

TIMEOUT_ENV = "COURSEKIT_DOWNLOAD_TIMEOUT"


def download_timeout() -> float:
    """Seconds a download waits for an answer: ``$COURSEKIT_DOWNLOAD_TIMEOUT``, default 30."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(text) if text else 30.0
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ValueError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds above 0 (e.g. "
                         f"`export {TIMEOUT_ENV}=120`).")
    return value


def download_fashion_mnist(target: Path, timeout: float | None = None) -> None:
    """Download the four files into ``target`` through torchvision, which checks their MD5.

    torchvision's download waits forever for a server that accepts and never
    answers; here every socket operation gives up after ``timeout`` seconds
    (default :func:`download_timeout`).
    """
    from torchvision.datasets import FashionMNIST

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout if timeout is not None else download_timeout())
    try:
        FashionMNIST(str(target), train=True, download=True)
    finally:
        socket.setdefaulttimeout(previous)
