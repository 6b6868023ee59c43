"""Exercise checks for notebook 07, ResNet."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import models
from ..inspect import count_params
from .code import Attempt, Mistake, judge_code, output_of, same_module
from .exercise import Exercise
from .helpers import output_shape
from .verdict import Slip, Verdict, judge


def bottleneck_block_parameters(answer: Any, in_channels: int = 256, width: int = 128, stride: int = 2) -> Verdict:
    """Exercise 07.1: the parameters of ``Bottleneck(in_channels, width, stride)``, shortcut and BN included."""
    from ..models import BasicBlock, Bottleneck

    block = Bottleneck(in_channels, width, stride)
    expected = count_params(block).total
    out_channels = width * Bottleneck.expansion
    shortcut = count_params(block.shortcut).total
    batch_norms = sum(count_params(m).total for m in block.modules() if isinstance(m, nn.BatchNorm2d))
    biases = width + width + out_channels  # one per output channel of the three convolutions
    projection = in_channels * out_channels + 2 * out_channels  # a 1x1 convolution and its BN
    basic = count_params(BasicBlock(in_channels, out_channels, stride)).total
    parts = f"{expected - shortcut:,} in the three convolutions and their BN"
    if shortcut:
        parts += f", {shortcut:,} in the projection shortcut"
    # Only one of the two shortcut slips applies: the block has a projection or it has none.
    shortcut_slip = (
        Slip(expected - shortcut, f"Close: the block also has a projection shortcut, because its input has "
             f"{in_channels} channels and its output {out_channels}" + (f" at stride {stride}" if stride != 1 else "")
             + ": a 1x1 convolution and a BN, to count as well.")
        if shortcut else
        Slip(expected + projection, f"Input and output both have {out_channels} channels and the stride is 1, so "
             "the shortcut is the identity, with no parameters."))
    return judge(
        answer, "int", expected,
        what="an int, the number of parameters of the block",
        right=f"{expected:,} parameters ({parts}). A BasicBlock with {out_channels} channels would need {basic:,}.",
        slips=[
            shortcut_slip,
            Slip(expected - batch_norms, "Close: you left out the batch norms, each with a scale and a shift per "
                 "channel (2 * channels parameters)."),
            Slip(expected + biases, "The convolutions of a Bottleneck have no bias (bias=False): the BN right after "
                 "each one would cancel it. Leave the biases out."),
            Slip(basic, f"That is a BasicBlock (two 3x3 convolutions on {out_channels} channels). The Bottleneck "
                 f"goes {in_channels} -> {width} (1x1) -> {width} (3x3) -> {out_channels} (1x1)."),
        ],
        otherwise=f"Add up the 1x1 ({in_channels} -> {width}), the 3x3 ({width} -> {width}) and the 1x1 ({width} -> "
                  f"{out_channels}) convolutions without bias (k*k*c_in*c_out each), 2 * channels for each BN, and "
                  "the shortcut if the shapes change; or build the block and use "
                  "sum(p.numel() for p in block.parameters()).",
    )


def resnet_stage_output_shape(answer: Any, input_shape: tuple = (1, 256, 7, 7), num_channels: int = 512,
                              num_residuals: int = 2, first_block: bool = False) -> Verdict:
    """Exercise 07.2: the output shape of ``resnet_block(input_shape[1], num_channels, num_residuals,
    first_block)`` on an input of ``input_shape``."""
    from ..models import resnet_block

    stage = resnet_block(input_shape[1], num_channels, num_residuals, first_block=first_block)
    expected = output_shape(stage, input_shape)
    h, w = input_shape[2:]
    how = ("the first block keeps the size (first_block=True)" if first_block else
           "only the first block has stride 2, and a 3x3 convolution with padding 1 at stride 2 gives "
           f"(n - 1) // 2 + 1, so {h} -> {expected[2]}")
    slips = [Slip(lambda a: a[2:] == expected[2:] and a[1] != expected[1], "The height and width are right; the "
                  f"stage outputs num_channels = {num_channels} channels.")]
    if first_block:
        slips.append(Slip(lambda a: a[:2] == expected[:2] and a[2:] != (h, w), "With first_block=True no block has "
                          "stride 2: the size stays the same (in d2l's ResNet the max-pool before this stage has "
                          "already halved it)."))
    else:
        if h % 2 or w % 2:
            slips.append(Slip(expected[:2] + (h // 2, w // 2), "Almost: an odd side does not halve exactly. The "
                              "3x3 convolution with padding 1 and stride 2 gives floor((n + 2 - 3) / 2) + 1 = "
                              "(n - 1) // 2 + 1, which rounds up."))
        slips.append(Slip(expected[:2] + (h, w), "The first block of a stage (first_block=False) has stride 2 and "
                          "halves the height and width."))
    if num_residuals > 1:
        slips.append(Slip(lambda a: a[:2] == expected[:2] and a[2] < expected[2], "Only the first block of the "
                          "stage halves the size; the other blocks keep it."))
    return judge(
        answer, "shape", expected,
        what="a tuple (N, C, H, W), the shape of the output",
        example=str(tuple(input_shape)),
        right=f"{expected}. The channels become {num_channels} and {how}.",
        slips=slips,
        otherwise="The channels become num_channels; the first block halves height and width with a stride-2 3x3 "
                  "convolution (unless first_block=True) and the others keep them. Or run torch.zeros(input_shape) "
                  "through the stage and look.",
    )


def stage_output(input_shape: tuple = (1, 256, 7, 7), num_channels: int = 512) -> tuple[int, ...]:
    """The output shape of ``resnet_block(input_shape[1], num_channels, 2)`` on ``input_shape``."""
    from ..models import resnet_block

    return output_shape(resnet_block(input_shape[1], num_channels, 2), input_shape)


def sizes_giving_7x7_at_the_last_stage() -> list[int]:
    """The image sides for which d2l's ResNet-18 feeds a 7x7 map to its last stage (shapes only, on meta)."""
    from ..models import resnet18_d2l

    with torch.device("meta"):
        before_last = resnet18_d2l()[:4]
        return [side for side in range(32, 257) if output_shape(before_last, (1, 1, side, side))[2] == 7]


def _basic_block_comparison() -> str:
    from ..models import BasicBlock, Bottleneck

    bottleneck = count_params(Bottleneck(256, 128, stride=2)).total
    basic = count_params(BasicBlock(64, 128, stride=2)).total
    return (f"BasicBlock(64, 128, stride=2) has {basic:,}: the Bottleneck works on four times as many channels "
            f"(256 in, 512 out) for {bottleneck / basic:.1f} times the parameters, because its 3x3 convolution "
            "runs on the narrow width of 128.")


def _last_stage_sizes() -> str:
    sides = sizes_giving_7x7_at_the_last_stage()
    return (f"Images of {sides[0]} to {sides[-1]} pixels give a 7x7 map there: the stem and the two stages before "
            "the last one halve the size four times (rounding up).")


# --- 07.6: write a residual block with a 1x1 shortcut ------------------------------------------------


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, plus a shortcut: the identity when the shapes match, else a strided
    1x1 convolution and a batch norm. ``(N, in_channels, H, W)`` -> ``(N, out_channels, H', W')``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:  # the input no longer matches the output
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


# (in_channels, out_channels, stride): the identity shortcut first, then the three cases that need a 1x1 one.
RESIDUAL_TRIALS = [(4, 4, 1), (4, 8, 2), (4, 8, 1), (6, 6, 2)]


def _residual_input(args: tuple) -> torch.Tensor:
    return torch.randn(2, args[0], 8, 8, generator=torch.Generator().manual_seed(0))


def _changes_shape(args: tuple) -> bool:
    return args[2] != 1 or args[0] != args[1]


def _paths(a: Attempt) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference's main path (before the addition) and shortcut on the trial's input, in eval mode."""
    ref, x = a.expected.eval(), _residual_input(a.args)
    with torch.no_grad():
        return ref.bn2(ref.conv2(F.relu(ref.bn1(ref.conv1(x))))), ref.shortcut(x)


def _computes(a: Attempt, variant: torch.Tensor) -> bool:
    out = output_of(a.got, _residual_input, a.args)
    return out.shape == variant.shape and torch.allclose(out, variant, rtol=1e-4, atol=1e-5)


def _params(module: nn.Module) -> int:
    return count_params(module).total


def check_residual_block(answer: Any) -> Verdict:
    """Exercise 07.6: the learner's ``ResidualBlock(in_channels, out_channels, stride)``."""
    return judge_code(
        answer, ResidualBlock, RESIDUAL_TRIALS,
        what="your class ResidualBlock",
        compare=same_module(_residual_input),
        right="conv-BN-ReLU, conv-BN, plus the shortcut, then one ReLU after the addition; the shortcut is the "
              "identity when the shapes match and a strided 1x1 convolution with batch norm when the channels or "
              "the size change.",
        mistakes=[
            Mistake(lambda a: isinstance(a.error, RuntimeError) and "must match the size" in str(a.error),
                    "The addition fails: when the channels or the stride change, the input no longer has the "
                    "output's shape. Put a 1x1 convolution with the block's stride (and a batch norm) on the "
                    "shortcut in that case."),
            Mistake(lambda a: not _changes_shape(a.args) and _params(a.got) > _params(a.expected),
                    "When in_channels == out_channels and stride == 1 the shortcut is the identity: no 1x1 "
                    "convolution there, the input is added as it is."),
            Mistake(lambda a: _changes_shape(a.args)
                    and _params(a.got) == _params(a.expected) - _params(a.expected.shortcut),
                    "No shortcut convolution: when the channels or the size change, the input must go through a "
                    "1x1 convolution with the block's stride (and a batch norm) before it can be added."),
            Mistake(lambda a: _changes_shape(a.args) and _params(a.got) == _params(a.expected) - 2 * a.args[1],
                    "The 1x1 convolution on the shortcut is followed by its own batch norm."),
            Mistake(lambda a: _params(a.got) - _params(a.expected) in {k * a.args[1] for k in (1, 2, 3)},
                    "The convolutions need no bias (bias=False): the batch norm right after each one subtracts "
                    "the mean and would cancel it."),
            Mistake(lambda a: _computes(a, F.relu(_paths(a)[0]) + _paths(a)[1])
                    or _computes(a, F.relu(F.relu(_paths(a)[0]) + _paths(a)[1])),
                    "The ReLU comes after the addition, not before it: add the shortcut to the output of the "
                    "second batch norm, then apply F.relu to the sum."),
            Mistake(lambda a: _computes(a, sum(_paths(a))),
                    "Almost: a ReLU follows the addition, F.relu(out + shortcut)."),
            Mistake(lambda a: _computes(a, F.relu(_paths(a)[0])),
                    "The shortcut is missing from the sum: add the (possibly 1x1-convolved) input to the main path "
                    "before the last ReLU."),
        ],
        otherwise="Register conv1, bn1, conv2, bn2 and then the shortcut, in that order, and compare the shapes of "
                  "your block's parameters with ck.models.BasicBlock's.",
    )


EX1 = Exercise(
    "07.1", "A Bottleneck's parameters", "number",
    hint="Three convolutions without bias (1x1 down to the width, 3x3 with the stride, 1x1 up to four times the "
         "width), a batch norm after each (two parameters per channel), and a shortcut, 1x1 convolution and "
         "batch norm, since the shapes change.",
    check=lambda a: bottleneck_block_parameters(a, in_channels=256, width=128, stride=2),
    answer=lambda: _params(models.Bottleneck(256, 128, stride=2)),
    discussion=_basic_block_comparison,
)
EX2 = Exercise(
    "07.2", "A stage's output", "shape",
    hint="The channels become the stage's num_channels; only the first block has stride 2, and a 3x3 convolution "
         "with padding 1 and stride 2 maps n to (n - 1) // 2 + 1.",
    check=lambda a: resnet_stage_output_shape(a, input_shape=(1, 256, 7, 7), num_channels=512),
    answer=stage_output,
    discussion=_last_stage_sizes,
)
EX3 = Exercise(
    "07.3", "Degradation", "open question",
    hint="Plot the training loss of both networks on the same axes, epoch by epoch; compare the gap at the first "
         "and at the last epoch. For 34 layers, build the stages with resnet_block(..., shortcut=False) too.",
    outcome="the residual network's training loss falls faster, with the gap widest early on; going from 18 to 34 "
            "layers helps the residual network and not the plain one (the plain one may even get worse). One run "
            "each is a single observation.",
    discussion="Without shortcuts, a deeper network is harder to optimise: its training error can be higher than "
               "a shallower one's, although it could copy the shallower network and set the extra layers to the "
               "identity (the degradation problem of He et al.). With shortcuts every block starts near the "
               "identity and the gradient reaches the early layers through the additions, so extra depth is not a "
               "handicap, and the residual network gains from it.",
)
EX4 = Exercise(
    "07.4", "Zero-init in training", "open question",
    hint="Compare the loss of the first few hundred steps, not only the epoch averages; then think about what a "
         "very large batch does to the learning rate (the linear scaling rule).",
    outcome="a difference in the first epoch, if any, to compare with the spread between seeds before reading "
            "anything into it: one run each is a single observation.",
    discussion="With the last batch norm's scale at 0, every block starts as the identity: the network behaves like "
               "a shallow one at first, and the signal and gradient pass through the shortcuts undisturbed. That "
               "matters when the learning rate is large from the first step, as with very large batches and the "
               "linear scaling rule (Goyal et al.), where an unstable start can diverge; with small batches and a "
               "warm-up the usual initialisation copes.",
)
EX5 = Exercise(
    "07.5", "Pre-activation", "open question",
    hint="In forward: BN, ReLU, conv, BN, ReLU, conv, then add the input, with no ReLU after the sum. Reuse the "
         "gradient experiment's code with your block in place of Residual.",
    outcome="the pre-activation block's gradient curve is flatter across depth than the original block's, with "
            "and without batch norm.",
    discussion="With nothing after the addition, the output of block l is x_l + F(x_l), so x_L = x_l + the sum "
               "of the residuals in between, and the gradient of x_l contains the gradient of x_L unchanged: the "
               "identity path carries it from the last block to the first without passing any ReLU or batch norm. "
               "The original block's ReLU after the addition sits on that path and can block part of it.",
)
EX6 = Exercise(
    "07.6", "Write a residual block with a 1x1 shortcut", "code",
    hint="Two 3x3 convolutions (the first with the stride, both padding 1, no bias), each followed by a batch "
         "norm, with a ReLU in between. The shortcut must turn the input into the output's shape when the "
         "channels or the stride change; otherwise it leaves the input alone. Where does the last ReLU go?",
    check=check_residual_block,
    answer=lambda: ResidualBlock,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
