"""Exercise checks for notebook 04, Network in Network."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import models
from ..inspect import count_params
from ..models.nin import NIN_MIN_SIZE
from .code import Mistake, judge_code, same_module
from .exercise import Exercise
from .verdict import Slip, Verdict, judge


def bottleneck_parameters_saved(answer: Any, channels: int = 256, bottleneck: int = 32,
                                kernel_size: int = 3) -> Verdict:
    """Exercise 04.1: parameters saved by a 1x1 bottleneck around a ``kernel_size`` convolution.

    Compares ``conv(channels, channels, k)`` with ``conv(channels, bottleneck, 1)
    -> conv(bottleneck, bottleneck, k) -> conv(bottleneck, channels, 1)``, biases included.
    """
    k = kernel_size
    direct = nn.Conv2d(channels, channels, k)
    narrow = nn.Sequential(nn.Conv2d(channels, bottleneck, 1), nn.Conv2d(bottleneck, bottleneck, k),
                           nn.Conv2d(bottleneck, channels, 1))
    n_direct, n_narrow = count_params(direct).total, count_params(narrow).total
    expected = n_direct - n_narrow
    no_bias = direct.weight.numel() - sum(m.weight.numel() for m in narrow)
    return judge(
        answer, "int", expected,
        what="an int, the parameters of the single convolution minus those of the bottleneck",
        right=f"{n_direct:,} - {n_narrow:,} = {expected:,} parameters saved, the bottleneck needs only "
              f"{n_narrow / n_direct:.1%} of the direct convolution's.",
        slips=[
            Slip(-expected, "Right size, wrong sign: subtract the bottleneck's count from the direct convolution's."),
            Slip(n_direct, "That is the direct convolution's count alone; subtract what the bottleneck needs."),
            Slip(n_narrow, "That is what the bottleneck needs; the question asks how many it saves."),
            Slip(no_bias, "Close: you left out the biases, one per output channel of every convolution."),
        ],
        otherwise="A convolution has (k*k*c_in + 1)*c_out parameters; count the direct one and the three of the "
                  "bottleneck, or build them with nn.Conv2d and use sum(p.numel() for p in layer.parameters()).",
    )


def head_parameters_added() -> tuple[int, int]:
    """Exercise 04.5: NiN with AlexNet's head (last block to 384 channels, Flatten, Linear(384*5*5, 10)).

    Returns the parameters of d2l's NiN and of the network with the head, both at 224x224.
    """
    with torch.device("meta"):  # shapes only
        original = models.nin()
        headed = nn.Sequential(*original[:7], models.nin_block(384, 384, kernel_size=3, strides=1, padding=1),
                               nn.Flatten(), nn.Linear(384 * 5 * 5, 10))
    return count_params(original).total, count_params(headed).total


def alexnet_head_parameters(answer: Any) -> Verdict:
    """Exercise 04.5: how many parameters AlexNet's head adds to NiN at 224x224."""
    n_nin, n_headed = head_parameters_added()
    expected = n_headed - n_nin
    linear = count_params(nn.Linear(384 * 5 * 5, 10)).total
    last_block_growth = (count_params(models.nin_block(384, 384, 3, 1, 1)).total
                         - count_params(models.nin_block(384, 10, 3, 1, 1)).total)
    return judge(
        answer, "int", expected,
        what="an int, the parameters of the network with the head minus those of NiN",
        right=f"{n_headed:,} - {n_nin:,} = {expected:,}: the Linear layer brings {linear:,} and the last block, now "
              f"384 channels wide, {last_block_growth:,} more. The head fixes the input size: at 96x96 the last "
              "block gives 384 maps of 1x1, not 5x5, and the Linear layer refuses them.",
        slips=[
            Slip(linear, "That is the Linear layer alone; the last NiN block grows too, from 10 to 384 output "
                 "channels."),
            Slip(last_block_growth, "That is the growth of the last block; add the Linear layer."),
            Slip(n_headed, "That is the whole network with the head; subtract NiN's own count."),
        ],
        otherwise="Build the network (net[:7], then your widened nin_block, nn.Flatten(), nn.Linear) and compare "
                  "ck.count_params of it and of ck.models.nin().",
    )


# --- 04.2: write nin_block (the reference is the package's own, ck.models.nin_block) ---------------

# (in_channels, out_channels, kernel_size, strides, padding): NiN's first block, and two smaller ones.
NIN_BLOCK_TRIALS = [(1, 96, 11, 4, 0), (3, 8, 5, 2, 2), (4, 6, 3, 1, 1)]


def _nin_input(args: tuple) -> torch.Tensor:
    return torch.randn(2, args[0], 23, 23, generator=torch.Generator().manual_seed(0))


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def check_nin_block(answer: Any) -> Verdict:
    """Exercise 04.2: the learner's ``nin_block(in_channels, out_channels, kernel_size, strides, padding)``."""
    return judge_code(
        answer, models.nin_block, NIN_BLOCK_TRIALS,
        what="your function nin_block",
        compare=same_module(_nin_input),
        right="a convolution with the block's kernel, stride and padding, then two 1x1 convolutions that keep "
              "the channels, each followed by a ReLU.",
        mistakes=[
            Mistake(lambda a: isinstance(a.error, RuntimeError) and "channels" in str(a.error),
                    "A convolution got the wrong number of input channels: the two 1x1 convolutions work on the "
                    "first convolution's out_channels."),
            Mistake(lambda a: len(_convs(a.got)) != 3,
                    "A NiN block has three convolutions: the first with the given kernel, then two 1x1."),
            Mistake(lambda a: any(c.kernel_size != (1, 1) for c in _convs(a.got)[1:]),
                    "The second and third convolutions are 1x1: they mix channels pixel by pixel."),
            Mistake(lambda a: (_convs(a.got)[0].stride, _convs(a.got)[0].padding) != ((a.args[3],) * 2, (a.args[4],) * 2),
                    "The first convolution takes the block's stride and padding; pass them on."),
            Mistake(lambda a: sum(isinstance(m, nn.ReLU) for m in a.got.modules()) < 3,
                    "Each of the three convolutions is followed by a ReLU, the last one too."),
        ],
        otherwise="Compare your block's layers with the table of ck.models.nin_block's above.",
    )


EX1 = Exercise(
    "04.1", "Parameters a 1x1 bottleneck saves", "number",
    hint="A convolution has (k*k*c_in + 1)*c_out parameters. Count the direct 3x3 one, then the three layers of "
         "the bottleneck, and subtract.",
    check=bottleneck_parameters_saved,
    answer=lambda: count_params(nn.Conv2d(256, 256, 3)).total - count_params(nn.Sequential(
        nn.Conv2d(256, 32, 1), nn.Conv2d(32, 32, 3), nn.Conv2d(32, 256, 1))).total,
)
EX2 = Exercise(
    "04.2", "Write nin_block", "code",
    hint="Three nn.Conv2d in an nn.Sequential: the first uses kernel_size, strides and padding and maps "
         "in_channels to out_channels; the next two are 1x1 from out_channels to out_channels. Put an nn.ReLU() "
         "after each.",
    check=check_nin_block,
    answer=lambda: models.nin_block,
)
EX3 = Exercise(
    "04.3", "NiN with one 1x1 convolution per block", "open question",
    hint="Drop the last nn.Conv2d and its ReLU from your nin_block, build the network with it and count its "
         "parameters with ck.count_params before training.",
    outcome="fewer parameters (each block loses one c x c 1x1 convolution, the 384-channel block the most). "
            "For the accuracy, one run of each is a single observation: compare a few seeds before concluding.",
    discussion="The second 1x1 convolution adds depth to the per-pixel MLP, not width. Removing it saves "
               "c*c + c parameters per block and a little arithmetic. Whether it costs accuracy is an "
               "experiment: a difference smaller than the spread between seeds says nothing.",
)
EX4 = Exercise(
    "04.4", "Why NiN needs 67x67 images", "open question",
    hint="Apply floor((n - k) / s) + 1 to the 11x11/4 convolution and to each 3x3/2 max-pool, starting from 66.",
    outcome="the error message names the layer that fails: the last max-pool gets a map smaller than its 3x3 "
            "window.",
    discussion=lambda: "The first convolution (11x11, stride 4) and the three 3x3/2 max-pools shrink the side "
                       "fast: a 67x67 image reaches the last max-pool at 3x3 and leaves it at 1x1, a 66x66 one "
                       "reaches it at 2x2, smaller than the window, and the pooling fails. Hence "
                       f"ck.models.nin's minimum of {NIN_MIN_SIZE}.",
)
EX5 = Exercise(
    "04.5", "Parameters AlexNet's head adds to NiN", "number",
    hint="Two things change: the last NiN block outputs 384 channels instead of 10, and a Linear layer with "
         "384*5*5 inputs is added. Count both networks with ck.count_params.",
    check=alexnet_head_parameters,
    answer=lambda: head_parameters_added()[1] - head_parameters_added()[0],
)
EX6 = Exercise(
    "04.6", "No more dead classes", "open question",
    hint="Retrain under at least three seeds with and without the final ReLU and count the empty columns of "
         "each confusion matrix.",
    outcome="without the final ReLU no class can die, so no column of the confusion matrix should come out "
            "empty; with it, a seed may lose a class. Whether the d2l recipe "
            "leaves chance level (10%) in the epochs you train is what the last part finds out.",
    discussion="A ReLU before global average pooling clips every class score at 0; a class whose map is "
               "negative everywhere at the start gets zero score and zero gradient, and never recovers (a dead "
               "class). With nn.Identity() the scores can be negative and every class keeps a gradient. Xavier "
               "initialisation shrinks the signal through deep ReLU stacks, so the d2l recipe starts from tiny "
               "scores and can take a long time to leave chance level.",
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
