"""Trained networks, kept: train a recipe once, load it in every later chapter.

Each training chapter saves its network with ``recipe.options(checkpoint=recipe.trained_path())``;
a chapter that only *looks* at trained networks asks for them with :func:`load_or_train`::

    net, history = ck.load_or_train(ck.recipe("resnet18_d2l"))

It loads ``recipe.trained_path()`` (``<user cache>/trained/<profile>/<name>.pt``) when that file holds a
complete run of this very recipe, and otherwise trains the recipe now and saves it there. The profile is
part of the path and the run's recorded settings (:func:`coursekit.checkpoint.run_settings`) are compared
with the recipe's, so a smoke run is never taken for a laptop run, nor an old recipe's run for the current one.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .checkpoint import SAME_ON_RESUME, checkpoint_info, load_checkpoint, run_settings
from .config import check_device
from .history import History
from .recipes import Recipe
from .train import fit

# Recorded under the name the network had when it was saved: chapter 01 trains LeNet as a plain
# nn.Sequential. The architecture (module types and parameter shapes) is compared instead.
_NOT_COMPARED = {"model"}
# Resolved from 'auto' when the run started (measured on the machine): compared only when the recipe fixes them.
_MEASURED = {"precision", "channels_last"}


def _shown(path: Path) -> str:
    """``path`` with the home folder written ``~``."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if text.startswith(home + os.sep) else text


def differences(recipe: Recipe, recorded: dict, expected: dict) -> list[str]:
    """The settings in which the saved run (``recorded``) differs from the recipe's run (``expected``)."""
    names = [name for name in ("num_epochs", *SAME_ON_RESUME) if name not in _NOT_COMPARED]
    differ = []
    for name in dict.fromkeys(names):
        if name in _MEASURED and getattr(recipe, name) == "auto":
            continue
        if recorded.get(name) != expected[name]:
            differ.append(f"{name} {recorded.get(name)!r} there vs {expected[name]!r} now")
    return differ


def load_or_train(recipe: Recipe, device: torch.device | str | None = None, *,
                  build: Callable[[], nn.Module] | None = None, reporters=None) -> tuple[nn.Module, History]:
    """``(net, history)``: the recipe's trained network, loaded from ``recipe.trained_path()`` or trained now.

    Loads the checkpoint when it holds all ``recipe.num_epochs`` epochs of a run with the recipe's settings
    (architecture, optimizer, learning rate, schedule, data sizes...). A run with the same settings that
    stopped early is finished from where it stopped; a run with other settings, or a damaged file, is
    replaced by a new run with the recipe (``ck.fit(..., recipe.options(checkpoint=...))``), which saves
    itself there. Prints one line saying which it did and why.

    Args:
        recipe: what to train (``ck.recipe("lenet")``); its profile is part of the cache path.
        device: where the network goes (default :func:`coursekit.try_gpu`).
        build: makes the untrained network, for recipes whose chapter defines it (``model=None``).
        reporters: what training shows, as in :func:`coursekit.fit` (``[]``: silent).

    The network is returned in evaluation mode, on ``device``.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe (e.g. ck.recipe('lenet')), got {type(recipe).__name__}.")
    if (recipe.model is None) != (build is not None):
        raise ValueError(f"recipe {recipe.name!r} " + ("trains a network its chapter defines: pass build=, a function "
                         "that returns that network untrained." if build is None else
                         f"builds ck.models.{recipe.model} itself: leave out build=."))
    device = check_device(device)
    net = build() if build is not None else recipe.build()
    train_iter, test_iter = recipe.data(device)
    path = recipe.trained_path()
    what = f"{recipe.name} ({recipe.profile} profile, {recipe.num_epochs} epoch{'s' * (recipe.num_epochs > 1)})"
    expected = run_settings(net, train_iter, test_iter, recipe.options().to_dict(), recipe.precision,
                            bool(recipe.channels_last))
    resume = False
    if not path.is_file():
        print(f"no saved {recipe.name} for the {recipe.profile} profile: training it now and saving it to "
              f"{_shown(path)}")
    else:
        try:
            recorded = checkpoint_info(path)
        except ValueError as error:  # damaged or foreign: a new run overwrites it
            print(f"the saved {recipe.name} cannot be read ({str(error).splitlines()[0][:200]}): training again")
        else:
            differ = differences(recipe, recorded, expected)
            done = recorded.get("epochs", 0)
            if differ:
                print(f"the saved {recipe.name} was trained with other settings ({'; '.join(differ)}): training again")
            elif done < recipe.num_epochs:
                print(f"the saved {recipe.name} holds {done} of its {recipe.num_epochs} epochs: finishing it")
                resume = True
            else:
                history = load_checkpoint(path, net) or History()
                saved = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
                accuracy = f", test accuracy {history.test_acc[-1]:.3f}" if history.test_acc else ""
                print(f"loaded {what} from {_shown(path)}, saved {saved}{accuracy}")
                return net.to(device).eval(), history
    history = fit(net, train_iter, test_iter, recipe.options(checkpoint=path, resume=resume), device,
                  reporters=reporters)
    return net.eval(), history


__all__ = ["differences", "load_or_train"]
