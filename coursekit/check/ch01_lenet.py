"""Exercise checks for notebook 01, LeNet."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .code import Mistake, judge_code, same_number
from .exercise import Exercise
from .verdict import Slip, Verdict, judge


def lenet_parameters(answer: Any, first_channels: int = 16) -> Verdict:
    """Exercise 01.2: the parameter count of LeNet with ``first_channels`` channels in its first convolution."""
    from ..models import lenet

    net = lenet()
    widened = nn.Sequential(*net)
    widened[0] = nn.Conv2d(1, first_channels, kernel_size=5, padding=2)
    widened[3] = nn.Conv2d(first_channels, 16, kernel_size=5)  # its input channels follow the first layer
    expected, original = count_params(widened).total, count_params(net).total
    second_grows = count_params(widened[3]).total - count_params(net[3]).total
    return judge(
        answer, "int", expected,
        what="an int, the total number of parameters",
        right=f"{expected:,} parameters, only {expected - original:,} more than LeNet's {original:,}, because the "
              "fully connected layers, which hold most of them, do not change.",
        slips=[
            Slip(original, "That is the count of the original LeNet: build the widened network and count again."),
            Slip(expected - second_grows, "Close: the second convolution changes too, since its input channels "
                 "must match the first convolution's output channels."),
        ],
        otherwise="Each layer has (k*k*c_in + 1)*c_out parameters for a convolution and (n_in + 1)*n_out for a "
                  "Linear layer; add them up over the widened network, or use "
                  "sum(p.numel() for p in net.parameters()).",
    )


def widened_lenet_parameters(first_channels: int = 16) -> int:
    """Exercise 01.2's answer: LeNet's parameters with ``first_channels`` in its first convolution."""
    from ..models import lenet

    net = nn.Sequential(*lenet())
    net[0] = nn.Conv2d(1, first_channels, kernel_size=5, padding=2)
    net[3] = nn.Conv2d(first_channels, 16, kernel_size=5)
    return count_params(net).total


# --- 01.5: LeNet's output-shape formula as a function -------------------------------------------


def lenet_flatten_features(size: int) -> int:
    """The number of features LeNet's Flatten hands to its first Linear layer, for size x size images."""
    side = (size + 2 * 2 - 5) // 1 + 1  # 5x5 convolution, padding 2: the side is kept
    side = (side - 2) // 2 + 1          # 2x2 pooling, stride 2: halved, rounded down
    side = (side - 5) // 1 + 1          # 5x5 convolution, no padding: 4 pixels fewer
    side = (side - 2) // 2 + 1          # pooling again
    return 16 * side * side             # 16 channels of side x side


def _side(size: int, padding: int = 2) -> int:
    """The side of LeNet's last feature map with ``padding`` in its first convolution."""
    return ((size + 2 * padding - 4) // 2 - 4) // 2


def _side_rounded_up(size: int) -> int:
    """The side of LeNet's last feature map if the poolings rounded up (``ceil_mode=True``)."""
    return math.ceil((math.ceil(size / 2) - 4) / 2)


# Sizes from 12 (the smallest LeNet accepts) to 99, odd ones included: seeded, so the verdict is reproducible.
LENET_SIZES = [(28,)] + [(int(n),) for n in torch.randint(12, 100, (7,), generator=torch.Generator().manual_seed(0))]


def check_lenet_flatten_features(answer: Any) -> Verdict:
    """Exercise 01.5: the learner's ``flatten_features(size)`` against LeNet's own shapes."""
    return judge_code(
        answer, lenet_flatten_features, LENET_SIZES,
        what="your function flatten_features",
        compare=same_number,
        right="apply floor((n + 2p - k) / s) + 1 to the two convolutions and the two poolings in turn, and "
              "multiply the last side squared by the 16 channels.",
        mistakes=[
            Mistake(lambda a: a.got == lenet_flatten_features(28) and a.args[0] != 28,
                    "That is the count for 28x28 images; compute it from size, for any size from 12 up."),
            Mistake(lambda a: a.got == 16 * _side(a.args[0], padding=0) ** 2,
                    "Right without padding: the first convolution pads by 2, which keeps the side."),
            Mistake(lambda a: a.got == _side(a.args[0]) ** 2,
                    "That is one feature map; the second convolution has 16 of them."),
            Mistake(lambda a: a.got == _side(a.args[0]),
                    "That is the side of the last feature map; Flatten hands over channels x height x width."),
            Mistake(lambda a: a.got in (16 * ((a.args[0] / 2 - 4) / 2) ** 2, 16 * _side_rounded_up(a.args[0]) ** 2),
                    "Close: a pooling with stride 2 rounds down on odd sides, floor((n - 2) / 2) + 1; use //."),
        ],
        otherwise="Follow one side through conv (5, pad 2), pool (2, stride 2), conv (5), pool (2, stride 2) with "
                  "floor((n + 2p - k) / s) + 1, then multiply by itself and by the channels.",
    )


EX1 = Exercise(
    "01.1", "Max-pooling and ReLU", "open question",
    hint="Change the two nn.AvgPool2d to nn.MaxPool2d and every nn.Sigmoid to nn.ReLU, lower the learning rate, "
         "and compare the first epochs' curves with the sigmoid network's.",
    outcome="with ReLU and max-pooling, and a smaller learning rate, the accuracy should rise within fewer "
            "epochs than with sigmoids; compare your curve with the one above at the same epoch.",
    discussion="Sigmoids saturate: their gradient is at most 0.25 and vanishes for large inputs, so the sigmoid "
               "LeNet needs a large learning rate and many epochs before it leaves chance level. ReLU passes the "
               "gradient unchanged where it is active, and max-pooling keeps the strongest response, so the "
               "modern version learns in fewer epochs; it also tolerates, and needs, a smaller learning rate. "
               "ck.models.lenet_modern() is this network.",
)
EX2 = Exercise(
    "01.2", "Parameters of a LeNet with 16 first channels", "number",
    hint="Only two layers change: the first convolution gets more output channels, and the second one more input "
         "channels. Count those two again; the rest is as before.",
    check=lenet_parameters,
    answer=widened_lenet_parameters,
)
EX3 = Exercise(
    "01.3", "A third convolution block", "open question",
    hint="Add nn.Conv2d, an activation and a pooling after the second block and run the shape loop: the first "
         "layer that fails tells you what to change.",
    outcome="the shape loop fails at the first nn.Linear: its in_features must become the new flattened size "
            "(channels x height x width after the third block).",
    discussion="A third block shrinks the maps again and changes the channel count, so the flattened vector "
               "has a new length and the first Linear layer's in_features must follow it (the padding of the "
               "new convolution decides whether the maps are still big enough to pool). nn.LazyLinear infers "
               "it, at the price of a first forward pass before the parameters exist.",
)
EX4 = Exercise(
    "01.4", "Twice as many epochs", "open question",
    hint="Double the epochs of the recipe (recipe.options(num_epochs=...)) and plot both accuracies against the "
         "epoch.",
    outcome="expect the training accuracy to keep rising while the test accuracy flattens: the gap between the "
            "two curves opens where the network starts to fit the training set more closely than it generalises.",
    discussion="Where the curves separate is where more epochs stop helping the test accuracy: the network "
               "learns details of the training images that do not carry over. LeNet is small, so the gap opens "
               "slowly; with one run per setting, treat the epoch you read off as a single observation.",
)
EX5 = Exercise(
    "01.5", "LeNet's output-shape formula as a function", "code",
    hint="Write one line per layer that changes the side, using floor((n + 2p - k) / s) + 1 with // for the "
         "floor; the two convolutions have k = 5 and the two poolings k = 2, s = 2.",
    check=check_lenet_flatten_features,
    answer=lambda: lenet_flatten_features,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5)
