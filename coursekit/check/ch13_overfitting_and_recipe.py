"""Exercise checks for notebook 13, from overfitting to a strong recipe."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..augment import flip_where
from .code import Mistake, judge_code, same_tensor
from .exercise import Exercise
from .verdict import Slip, Verdict, judge


def initial_loss_of(answer: Any, num_classes: int = 5) -> Verdict:
    """Exercise 13.1: the cross-entropy of an untrained ``num_classes``-way classifier that is unsure."""
    expected = math.log(num_classes)
    return judge(
        answer, "float", expected,
        what=f"a float, the cross-entropy of a uniform guess over {num_classes} classes",
        right=f"a network unsure between {num_classes} classes gives each the probability 1/{num_classes}, "
              f"and -ln(1/{num_classes}) = ln {num_classes} = {expected:.3f}.",
        slips=[
            Slip(math.log(10), "That is the value for Fashion-MNIST's ten classes; this network has "
                 f"{num_classes}."),
            Slip(math.log10(num_classes), "Cross-entropy uses the natural logarithm (math.log), not log10."),
            Slip(math.log2(num_classes), "That is the value in bits (log2); PyTorch's cross-entropy uses ln."),
            Slip(1 / num_classes, "That is the probability of each class; the loss is minus its logarithm."),
        ],
        otherwise="Cross-entropy is -ln(probability of the true class); an unsure network gives every class the "
                  "same probability.",
    )


# --- 13.2: write the per-image flip (the reference is the package's own, ck.augment.flip_where) ------

def _flip_trials() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(6, 1, 4, 5, generator=g)
    return [(X, torch.tensor([True, False, True, False, False, True])), (X[:2], torch.tensor([False, True])),
            (torch.rand(3, 2, 3, 3, generator=g), torch.tensor([True, True, False]))]


def check_flip_where(answer: Any) -> Verdict:
    """Exercise 13.2: the learner's ``flip_where(X, flipped)``."""
    return judge_code(
        answer, flip_where, _flip_trials(),
        what="your function flip_where",
        compare=same_tensor,
        right="every image whose flag is True is mirrored along its last (width) axis, the others are kept; one "
              "torch.where over the whole batch, no Python loop.",
        mistakes=[
            Mistake(lambda a: torch.equal(a.got, a.args[0].flip(-1)),
                    "Every image was flipped: use the flags, e.g. torch.where(flipped[:, None, None, None], ...)."),
            Mistake(lambda a: torch.equal(a.got, torch.where(a.args[1][:, None, None, None], a.args[0],
                                                             a.args[0].flip(-1))),
                    "The flags are the wrong way round: a True flag means flip."),
            Mistake(lambda a: torch.equal(a.got, torch.where(a.args[1][:, None, None, None], a.args[0].flip(-2),
                                                             a.args[0])),
                    "That mirrors top to bottom (dim -2); a horizontal flip reverses the width, dim -1."),
            Mistake(lambda a: torch.equal(a.got, a.args[0]), "Nothing changed: return the flipped batch."),
        ],
        otherwise="Build the mirrored batch with X.flip(-1), then pick per image between it and X.",
    )


EX1 = Exercise(
    "13.1", "The first loss of a five-class network", "number",
    hint="An untrained network that is unsure gives every class the same probability; cross-entropy is minus the "
         "natural logarithm of the true class's probability.",
    check=initial_loss_of,
    answer=lambda: math.log(5),
)
EX2 = Exercise(
    "13.2", "Write the per-image flip", "code",
    hint="X.flip(-1) mirrors every image; torch.where with a (B, 1, 1, 1) view of the flags chooses, image by "
         "image, between the mirrored and the original batch.",
    check=check_flip_where,
    answer=lambda: flip_where,
)
EX3 = Exercise(
    "13.3", "MixUp needs time", "open question",
    hint="Train the MixUp/CutMix setting and the baseline for twice the recipe's epochs, three seeds each, with "
         "recipe.options(num_epochs=...) and print the table again.",
    outcome="a second table for the two settings at the longer budget. Compare how much each one's mean test "
            "accuracy moved with the spread over seeds before saying that one overtook the other.",
    discussion="With MixUp or CutMix almost no training image is ever seen twice in the same form, and its target "
               "is a blend, so the network keeps receiving a useful gradient long after the plain run stopped "
               "learning anything new; the price is slower progress per epoch. Zhang et al. train for 200 epochs "
               "on CIFAR-10. A short budget can make a strong regulariser look harmful.",
)
EX4 = Exercise(
    "13.4", "Choose on a validation split", "open question",
    hint="ck.load_fashion_mnist_validation gives training and validation images drawn from the training set; "
         "pick the best setting on it, then run the test set once.",
    outcome="the setting chosen on validation images is usually among the best on the test set too, but its test "
            "accuracy is a fair estimate only because the test set played no part in choosing it.",
    discussion="Picking the best of eleven settings by their test accuracy makes the winner's test accuracy "
               "optimistic: part of its lead is the luck of this test set. A validation split keeps the test "
               "set for one final measurement (d2l section 3.6).",
)

EXERCISES = (EX1, EX2, EX3, EX4)
