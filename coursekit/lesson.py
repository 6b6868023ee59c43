"""The few steps every chapter notebook repeats, each in one call.

* :func:`prologue` opens a notebook: which profile is in force, a seed, the device;
* :func:`show_predictions` shows test images with their true and predicted labels
  (d2l's ``predict_ch3``);
* :func:`report` closes a training section: the final figures, the confusion
  matrix and a few predictions;
* :func:`versus_d2l` sets the run beside d2l's published one, with the budgets
  that explain the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import describe_profile, seed_everything, try_gpu
from .data import get_fashion_mnist_labels
from .evaluate import confusion_matrix, evaluation_mode, predict
from .history import History
from .plot import plot_confusion_matrix, show_images
from .recipes import D2L_RESULTS, Recipe, recipe


def prologue(seed: int = 0) -> torch.device:
    """Print the profile in force and the device, seed everything; return the device.

    >>> device = ck.lesson.prologue()  # doctest: +SKIP
    coursekit profile: laptop (default for this machine); set COURSEKIT_PROFILE ...
    training on cpu
    """
    print(describe_profile())
    seed_everything(seed)
    device = try_gpu()
    print("training on", device)
    return device


def show_predictions(net: nn.Module, data_iter, n: int = 9, class_names=None):
    """Show the first ``n`` images of ``data_iter`` titled "true label / predicted label".

    The images and the predictions come from the same batch, so they match
    whether or not the loader shuffles. ``class_names`` defaults to
    ``data_iter.class_names`` or Fashion-MNIST's ten. Returns the axes.
    """
    X, y = next(iter(data_iter))
    X, y = X[:n], y[:n]
    device = next(iter(net.parameters())).device
    with evaluation_mode(net), torch.no_grad():
        guesses = net(X.to(device)).argmax(dim=1).cpu()
    names = _class_names(data_iter, class_names)
    titles = [f"{names[int(t)]}\n{names[int(g)]}" for t, g in zip(y, guesses)]
    return show_images(X.squeeze(1), 1, len(X), titles=titles)


def _class_names(data_iter, class_names) -> list[str]:
    if class_names is not None:
        return list(class_names)
    return list(getattr(data_iter, "class_names", None) or get_fashion_mnist_labels(range(10)))


@dataclass
class Evaluation:
    """What :func:`report` measured: predicted and true labels of the test set, and their confusion matrix."""

    predicted: torch.Tensor
    true: torch.Tensor
    matrix: torch.Tensor

    def __repr__(self) -> str:
        accuracy = (self.predicted == self.true).double().mean().item()
        return (f"Evaluation({len(self.true)} test images, accuracy {accuracy:.3f}; "
                ".predicted, .true and .matrix hold the details)")

    def never_predicted(self, class_names=None) -> list[str]:
        """The classes the network gave to no test image (an empty column of the matrix)."""
        names = class_names or get_fashion_mnist_labels(range(len(self.matrix)))
        return [name for name, n in zip(names, self.matrix.sum(dim=0).tolist()) if n == 0]


def report(net: nn.Module, test_iter, history: History | None = None, n: int = 9, class_names=None) -> Evaluation:
    """After training: the final line and test accuracy per epoch, the confusion matrix, ``n`` predictions.

    The learning curves are not drawn again: the training cell showed them.
    Returns the :class:`Evaluation`, for a closer look.
    """
    if history is not None:
        print(history.final_line())
        print("test accuracy per epoch:", [round(a, 3) for a in history.test_acc])
    predicted, true = predict(net, test_iter)
    names = _class_names(test_iter, class_names)
    matrix = confusion_matrix(predicted, true, num_classes=len(names))
    plot_confusion_matrix(matrix, names)
    show_predictions(net, test_iter, n, names)
    return Evaluation(predicted, true, matrix)


def _budget(r: Recipe, test_images: int) -> list[str]:
    side = r.resize or 28
    train = f"{r.n_train:,}" if r.n_train else "60,000"
    steps = [f"{r.optimizer} lr {r.lr:g}"] + ([f"momentum {r.momentum:g}"] if r.momentum else []) + (
        [f"{r.schedule} schedule"] if r.schedule else [])
    return [f"{train} train, {test_images:,} test", f"{side}x{side}, batch {r.batch_size}",
            f"{r.num_epochs} epoch{'s' if r.num_epochs > 1 else ''}, " + ", ".join(steps)]


@dataclass
class D2LComparison:
    """This run beside d2l's published one: ``rows`` of ``(what, d2l, this run)``; prints as a table."""

    rows: list[tuple[str, str, str]]

    def __str__(self) -> str:
        width = [max(len(row[i]) for row in self.rows) for i in range(3)]
        return "\n".join(f"{a:<{width[0]}}  {b:<{width[1]}}  {c}" for a, b, c in self.rows)

    __repr__ = __str__


def versus_d2l(trained: Recipe, history: History, model: str | None = None) -> D2LComparison:
    """Set ``history`` (trained with the recipe ``trained``) beside d2l's published run of the same model.

    The table states both budgets (images, image size, epochs, optimizer,
    hardware), so the learner can tell a difference made by the network from
    one made by the budget. ``model`` names the d2l run when it is not
    ``trained.model``.
    """
    name = model or trained.model
    if name not in D2L_RESULTS:
        raise ValueError(f"d2l published no run of {name!r}; runs: {', '.join(D2L_RESULTS)}.")
    if not history:
        raise ValueError("the history has no finished epoch to compare.")
    loss, train_acc, test_acc, speed = D2L_RESULTS[name]
    theirs = recipe(name, "full")
    test_images = trained.n_test or 10_000
    rows = [("", "d2l (published, d2l-zh 2.0)", f"this run ({trained.profile} profile)"),
            *zip(("budget", "", ""), _budget(theirs, 10_000), _budget(trained, test_images)),
            ("train loss", f"{loss:.3f}", f"{history.train_loss[-1]:.3f}"),
            ("train acc", f"{train_acc:.3f}", f"{history.train_acc[-1]:.3f}"),
            ("test acc", f"{test_acc:.3f}", f"{history.test_acc[-1]:.3f}"),
            ("images/s", f"{speed:,} on a V100 GPU", f"{history.speed():,.0f} on {history.device}, {history.precision}")]
    return D2LComparison(rows)
