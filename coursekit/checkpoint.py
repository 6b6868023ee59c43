"""Checkpoints: a training run on disk, written atomically and read back safely."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .history import History


def unwrap(net: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


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
        "model": unwrap(net).state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.to_dict() if history is not None else None,
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _read(path: Path) -> dict:
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
    path = Path(path)
    state = _read(path)
    history = None
    if state.get("history"):
        try:
            history = History.from_dict(state["history"])
        except ValueError as error:
            raise ValueError(f"{path}: its history is {error}") from None
    try:
        unwrap(net).load_state_dict(state["model"])
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
    return history
