"""The few steps every chapter notebook repeats, each in one call.

* :func:`prologue` opens a notebook: which profile is in force, a seed, the device;
* :func:`show_predictions` shows test images with their true and predicted labels
  (d2l's ``predict_ch3``);
* :func:`report` closes a training section: the final figures, the confusion
  matrix and a few predictions.
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
