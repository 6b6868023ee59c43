"""Exercise checks for notebook 02, AlexNet."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .code import Mistake, judge_code
from .exercise import Exercise
from .helpers import judge_linear_share, linear_share, output_shape
from .verdict import Slip, Verdict, describe, judge


def alexnet_flatten_features(answer: Any, size: int = 256) -> Verdict:
    """Exercise 02.1: how many features d2l's AlexNet hands to its first fully connected layer
    for ``size`` x ``size`` images."""
    from ..models import alexnet

    with torch.device("meta"):  # shapes only: nothing allocated or initialised
        features = alexnet()[:13]  # the convolutional part, without the input check of the full net
    _, channels, side, _ = output_shape(features, (1, 1, size, size))
    expected = channels * side * side
    at_224 = math.prod(output_shape(features, (1, 1, 224, 224))[1:])  # the size the lecture used
    return judge(
        answer, "int", expected,
        what="an int, the length of the flattened feature vector",
        right=f"{channels} channels of {side}x{side} maps, {expected:,} features. A different input size changes "
              "the first fully connected layer, which is why AlexNet's head fixes it.",
        slips=[
            Slip(at_224, f"{at_224:,} is the count for 224x224 inputs; follow a {size}x{size} image through the "
                 "layers instead."),
            Slip(side * side, f"That is one {side}x{side} map; the last convolution has {channels} of them."),
            Slip(channels * side, "The maps are square: multiply the channels by the height *and* the width."),
        ],
        otherwise="Apply floor((n + 2p - k) / s) + 1 to each convolution and pooling layer in turn, or run "
                  "torch.zeros(1, 1, size, size) through net[:13] and look at the shape.",
    )


def alexnet_resized(size: int = 256) -> nn.Sequential:
    """d2l's AlexNet for ``size`` x ``size`` inputs: its first fully connected layer takes the features the
    convolutions give at that size. Built on the meta device (shapes only)."""
    from ..models import alexnet

    with torch.device("meta"):  # counting needs the shapes of the parameters, not their values
        net = nn.Sequential(*alexnet())
        first = next(i for i, m in enumerate(net) if isinstance(m, nn.Linear))
        features = math.prod(output_shape(net[:first], (1, 1, size, size))[1:])
        net[first] = nn.Linear(features, net[first].out_features)
    return net


def alexnet_fc_share(answer: Any, size: int = 256) -> Verdict:
    """Exercise 02.2: the fraction of d2l AlexNet's parameters in its fully connected layers when its first one
    is resized for ``size`` x ``size`` inputs."""
    net = alexnet_resized(size)
    at_224 = linear_share(alexnet_resized(224))[1]
    return judge_linear_share(
        answer, net,
        note=f"the first fully connected layer grew with the {size}x{size} maps, the convolutions did not.",
        slips=[Slip(at_224, f"That is the share at 224x224; at {size}x{size} the first fully connected layer gets "
                    "more inputs (exercise 1)."),
               Slip(lambda a: a < 0.1, "That looks like the share of the *arithmetic* (FLOPs); count parameters "
                    "instead.")],
        otherwise="Replace the first nn.Linear by one with your answer to exercise 1 as in_features, then sum "
                  "the parameters of the nn.Linear layers and divide by the total.",
    )


# --- 02.6: dropout from scratch ----------------------------------------------------------------


def dropout_layer(X: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout in training mode: zero each element with probability ``p``, scale the others by 1 / (1 - p)."""
    if p == 1:
        return torch.zeros_like(X)  # every unit dropped; 1 / (1 - p) would be a division by zero
    mask = (torch.rand(X.shape) >= p).to(X.dtype)
    return mask * X / (1 - p)


def _dropout_trials() -> list[tuple]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(100, 100, generator=g), p) for p in (0.2, 0.7, 0.0, 1.0)]


def _kept(got: torch.Tensor) -> torch.Tensor:
    return got != 0


def _zero_share(got: torch.Tensor) -> float:
    return 1 - _kept(got).float().mean().item()


# The share of zeros must be p within this margin: 10,000 elements put 6 standard deviations inside it.
_SHARE_MARGIN = 0.03


def same_dropout(got: Any, expected: torch.Tensor, args: tuple) -> str | None:
    """``got`` could be dropout's output for ``args``: zeros and X / (1 - p), with a share of zeros near p."""
    X, p = args
    if not isinstance(got, torch.Tensor):
        return f"your function returned {describe(got)}, not a tensor"
    if got.shape != X.shape:
        return f"the result has shape {tuple(got.shape)}, not {tuple(X.shape)}"
    if not torch.isfinite(got).all():
        return f"with p = {p} the result has NaN or infinite values"
    kept = _kept(got)
    if not torch.allclose(got[kept], X[kept] / (1 - p) if p < 1 else X[kept]):
        return f"with p = {p} the elements that survive are not X / (1 - p)"
    if abs(_zero_share(got) - p) > _SHARE_MARGIN:
        return f"with p = {p}, {_zero_share(got):.0%} of the elements are zero"
    return None


def check_dropout(answer: Any) -> Verdict:
    """Exercise 02.6: the learner's ``dropout_layer(X, p)`` in training mode."""
    return judge_code(
        answer, dropout_layer, _dropout_trials(),
        what="your function dropout_layer",
        compare=same_dropout,
        right="each element is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so every "
              "unit keeps its expected value; p = 0 changes nothing and p = 1 zeroes everything.",
        mistakes=[
            Mistake(lambda a: a.args[1] == 1 and not torch.isfinite(a.got).all(),
                    "With p = 1 every element is dropped: return zeros, since X / (1 - p) divides by zero."),
            Mistake(lambda a: torch.allclose(a.got[_kept(a.got)], a.args[0][_kept(a.got)]) and a.args[1] > 0,
                    "The survivors are not scaled: multiply them by 1 / (1 - p) so the expected value stays X."),
            Mistake(lambda a: torch.allclose(a.got[_kept(a.got)], a.args[0][_kept(a.got)] * (1 - a.args[1])),
                    "You multiplied by (1 - p); training-time dropout divides by it (1 / (1 - p))."),
            Mistake(lambda a: abs(_zero_share(a.got) - (1 - a.args[1])) <= _SHARE_MARGIN,
                    "p is the probability to *drop* an element: keep it where torch.rand(...) >= p."),
        ],
        otherwise="Draw a mask with torch.rand(X.shape) >= p, multiply X by it and divide by 1 - p.",
    )


EX1 = Exercise(
    "02.1", "Features for 256x256 images", "number",
    hint="Apply floor((n + 2p - k) / s) + 1 to every convolution and pooling of net[:13] in turn, starting from "
         "256, then multiply the last side squared by the channels.",
    check=alexnet_flatten_features,
    answer=lambda: next(m for m in alexnet_resized(256) if isinstance(m, nn.Linear)).in_features,
)
EX2 = Exercise(
    "02.2", "Share of the fully connected layers at 256x256", "number",
    hint="Only the first fully connected layer changes: its in_features become your answer to exercise 1. Count "
         "the parameters of the three nn.Linear layers and divide by the whole network's.",
    check=alexnet_fc_share,
    answer=lambda: linear_share(alexnet_resized(256))[1],
)
EX3 = Exercise(
    "02.3", "AlexNet with sigmoids", "open question",
    hint="Swap every nn.ReLU of the narrow network for nn.Sigmoid, train one epoch with the chapter's recipe and "
         "watch the loss and the accuracy.",
    outcome="expect the sigmoid network to learn far more slowly than the ReLU one: its loss may stay near "
            "log(10) and its accuracy near chance (10%) through the first epoch.",
    discussion="A sigmoid's gradient is at most a quarter and almost zero when saturated; through eight layers "
               "the products of these factors vanish, so the early layers hardly move. LeNet had only five "
               "layers and needed a large learning rate; AlexNet with sigmoids would need more, and "
               "initialisation tuned for them.",
)
EX4 = Exercise(
    "02.4", "Training with augmentation", "open question",
    hint="Apply `augment` to every training image only (never to the test images), train twice as many epochs "
         "and compare the final training and test accuracy of both runs.",
    outcome="expect the training accuracy to rise more slowly with augmentation and the gap between training "
            "and test accuracy to shrink; with one run per setting, treat the difference as one observation.",
    discussion="Augmentation shows the network a slightly different image each epoch, so it cannot memorise the "
               "training set as easily: the training accuracy drops, the gap closes, and with enough epochs the "
               "test accuracy can gain. It costs training time, which is why the run is longer.",
)
EX5 = Exercise(
    "02.5", "Training without dropout", "open question",
    hint="Replace the two nn.Dropout layers by nn.Identity() and train with the same recipe and seed; compare "
         "the two runs' training and test accuracy at the last epoch.",
    outcome="expect the training accuracy to rise faster and end higher without dropout, while the test "
            "accuracy gains less or nothing: the gap between the two grows.",
    discussion="Dropout keeps the huge fully connected layers from relying on particular units, which reduces "
               "overfitting: its absence shows as a larger gap between training and test accuracy. On a short "
               "run the difference may be within seed noise: compare a few seeds before concluding.",
)
EX6 = Exercise(
    "02.6", "Dropout from scratch", "code",
    hint="Draw one uniform random number per element with torch.rand(X.shape); compare it with p to get a mask "
         "of zeros and ones, and keep the expected value of each element unchanged. Think about p = 1.",
    check=check_dropout,
    answer=lambda: dropout_layer,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
