"""Checkpoints: a training run on disk, written atomically and read back safely.

A checkpoint holds the model, the optimizer, the schedule, the history and
the random state, and the *settings* of the run that wrote it (model,
training options, data sizes), so that resuming can refuse to continue a
different run into it.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import torch
from torch import nn

from .fast_path import fingerprint
from .history import History

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Settings a resumed run must share with the run that wrote the checkpoint.
SAME_ON_RESUME = ("model", "architecture", "lr", "optimizer", "momentum", "weight_decay", "schedule", "init", "seed",
                  "precision", "channels_last", "batch_size", "n_train", "n_test", "image_size")


class CheckpointError(OSError):
    """A checkpoint could not be written. ``.history`` holds the finished epochs when training was running."""

    def __init__(self, message: str, history: History | None = None) -> None:
        super().__init__(message)
        self.history = history

    def __str__(self) -> str:
        return self.args[0]


def _reason(error: BaseException) -> str:
    """The first line of an error, without terminal colour codes, at most 160 characters."""
    text = _ANSI.sub("", str(error)).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:160]


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # its parent is not a folder: there is nothing to remove
        pass


def check_writable(path: str | os.PathLike) -> Path:
    """Make sure a checkpoint can be written at ``path`` before any training is spent on it.

    Creates the parent folders and writes and removes a small file beside
    ``path``. Raises :class:`CheckpointError` naming the path and the problem.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; give a file path such as {path / 'checkpoint.pt'}.")
    probe = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"coursekit")
    except OSError as error:
        raise CheckpointError(f"cannot write the checkpoint {path}: {error.strerror or _reason(error)}"
                              f"{' (' + str(error.filename) + ')' if error.filename else ''}; choose a folder "
                              "you can write to.") from None
    finally:
        _remove(probe)
    return path


def unwrap(net: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


def save_checkpoint(path: str | os.PathLike, net: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    history: History | None = None, scheduler=None, settings: dict | None = None) -> None:
    """Save model, optimizer, history (and LR schedule) to ``path``, atomically.

    The random-number state is saved too, so a resumed run draws the same
    dropout masks as an uninterrupted one; ``settings`` (plain data) describe
    the run, for :func:`checkpoint_settings`. The file is written next to its
    destination and renamed into place: a failure or an interruption mid-save
    leaves the previous checkpoint intact and no partial file behind. A failed
    write raises :class:`CheckpointError`.
    """
    path = Path(path)
    state = {
        "model": unwrap(net).state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.to_dict() if history is not None else None,
        "settings": settings,
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as error:  # torch reports a full disk as a RuntimeError from its zip writer
        raise CheckpointError(f"could not write the checkpoint {path}: {_reason(error)}. Is the disk full or the "
                              "folder read-only? The previous checkpoint, if any, is intact.") from error
    finally:
        _remove(tmp)


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as error:
        raise PermissionError(f"cannot read the checkpoint {path}: {error.strerror}; make it readable "
                              f"(chmod u+r {path}) or run as its owner.") from None
    except pickle.UnpicklingError as error:
        if not re.search(r"Unsupported (global|class)", str(error)):
            raise ValueError(f"{path} is not a readable coursekit checkpoint (torch.load cannot parse it); it is "
                             "damaged or was not written by coursekit. Delete it to start afresh.") from error
        # weights_only refuses pickled objects: most often a whole model saved with torch.save(net).
        raise ValueError(f"{path} holds pickled Python objects (such as a whole model saved with torch.save(net)), "
                         "not a coursekit checkpoint; coursekit loads only tensors and plain data, because "
                         "unpickling can run code. If you wrote the file and trust it: "
                         f"net = torch.load({str(path)!r}, weights_only=False), then save it with "
                         "ck.save_checkpoint(new_path, net).") from error
    except Exception as error:
        raise ValueError(f"{path} is not a readable coursekit checkpoint ({type(error).__name__}: "
                         f"{_reason(error)[:120]}); it is damaged (e.g. truncated) or was not written by coursekit. "
                         "Delete it to start afresh.") from error
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a coursekit checkpoint (no 'model' entry); it was not written by save_checkpoint.")
    return state


def checkpoint_info(path: str | os.PathLike) -> dict:
    """The settings of the run that wrote the checkpoint at ``path`` (see :func:`run_settings`; none for an
    old checkpoint) and ``'epochs'``, the number of epochs it holds."""
    state = _read(Path(path))
    history = state.get("history") or {}
    return {**(state.get("settings") or {}), "epochs": len(history.get("train_loss", []))}


def _examples(data_iter) -> int | None:
    if hasattr(data_iter, "num_examples"):
        return data_iter.num_examples
    dataset = getattr(data_iter, "dataset", None)
    return len(dataset) if hasattr(dataset, "__len__") else None


def run_settings(net: nn.Module, train_iter, test_iter, options: dict, precision: str | None,
                 channels_last: bool) -> dict:
    """What a checkpoint records about its run, as plain data: ``options`` is ``TrainOptions.to_dict()``."""
    recorded = options
    image_size = getattr(train_iter, "image_size", None)
    return {
        "model": getattr(net, "model_name", type(net).__name__),
        "architecture": fingerprint(net),
        **{name: recorded[name] for name in ("num_epochs", "lr", "optimizer", "momentum", "weight_decay",
                                             "schedule", "init", "seed")},
        "precision": precision,
        "channels_last": bool(channels_last),
        "batch_size": getattr(train_iter, "batch_size", None),
        "n_train": _examples(train_iter),
        "n_test": _examples(test_iter),
        "image_size": list(image_size) if image_size is not None else None,
    }


def check_resume(checkpoint: str | os.PathLike, recorded: dict, settings: dict) -> None:
    """Refuse (``ValueError``: what differs, how to start afresh) to continue the run in ``checkpoint``, which
    :func:`checkpoint_info` describes as ``recorded``, as a run with other ``settings``."""
    done = recorded.get("epochs", 0)
    differ = [f"{name} {recorded[name]!r} there, {settings[name]!r} now" for name in SAME_ON_RESUME
              if name in recorded and recorded[name] != settings[name]]
    if recorded.get("schedule") and recorded.get("num_epochs") != settings["num_epochs"]:
        differ.append(f"num_epochs {recorded['num_epochs']} there, {settings['num_epochs']} now (the "
                      f"{recorded['schedule']} schedule is laid out over all the epochs)")
    if differ:
        raise ValueError(f"cannot resume {checkpoint}: it holds {done} epoch(s) of a different run ("
                         f"{'; '.join(differ)}). Resume with the settings it was written with, or start afresh with "
                         "another checkpoint path (or delete that file).")


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
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as error:
            raise ValueError(f"{path} holds the state of another optimizer or parameter set "
                             f"({type(error).__name__}: {_reason(error)}): resume with the optimizer that wrote "
                             "it, or start afresh.") from error
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if restore_rng and state.get("rng") is not None:
        torch.set_rng_state(state["rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
    return history
