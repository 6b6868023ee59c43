"""Checks of notebook 07: a Bottleneck block's parameters and a ResNet stage's output shape."""

import numpy as np
import pytest
import torch

import coursekit as ck
from coursekit import check
from tests.helpers import assert_verdict, case, count


def bn(c):
    return 2 * c  # a scale and a shift per channel


# ResNet-50's first block of layer2: 256 -> 128 (1x1) -> 128 (3x3, stride 2) -> 512 (1x1), projection 256 -> 512.
BODY = 256 * 128 + bn(128) + 9 * 128 * 128 + bn(128) + 128 * 512 + bn(512)
PROJECTION = 256 * 512 + bn(512)
RIGHT = BODY + PROJECTION
# With 256 channels in and out and stride 1 the shortcut is the identity.
IDENTITY = dict(in_channels=256, width=64, stride=1)
IDENTITY_BODY = 256 * 64 + bn(64) + 9 * 64 * 64 + bn(64) + 64 * 256 + bn(256)


def test_the_figures_of_the_lecture_notes():
    assert RIGHT == 379_392  # the torchinfo table of the notes
    assert IDENTITY_BODY == 70_400


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(RIGHT, True, f"{BODY:,} in the three convolutions and their BN, {PROJECTION:,} in the projection shortcut"),
    case("379,392", True, "Right"),
    case(np.int64(RIGHT), True, "Right"),
    case(torch.tensor(RIGHT), True, "Right"),
    case(BODY, False, "also has a projection shortcut, because its input has 256 channels and its output 512 at "
         "stride 2"),
    case(256 * 128 + 9 * 128 * 128 + 128 * 512 + 256 * 512, False, "left out the batch norms"),
    case(RIGHT + 128 + 128 + 512, False, "no bias"),
    case(count(ck.models.BasicBlock(256, 512, stride=2)), False, "That is a BasicBlock"),
    case(12, False, "Not quite (you said 12). Add up the 1x1 (256 -> 128)"),
    case(None, None, "replace None with an int, the number of parameters of the block"),
    case(np.array([1, 2]), False, "you gave an array of shape (2,)"),
    case([BODY, PROJECTION], False, "you gave a list"),
    case(IDENTITY_BODY, True, "Right: 70,400 parameters (70,400 in the three convolutions and their BN)", **IDENTITY),
    case(IDENTITY_BODY + 256 * 256 + bn(256), False, "the shortcut is the identity", **IDENTITY),
])
def test_bottleneck_block_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch07_resnet.bottleneck_block_parameters(answer, **settings), verdict, hint)


def first_stage_output():
    """The shape after the stem and the first two stages of d2l's ResNet-18, run on a real input."""
    net = ck.models.resnet18_d2l()
    with torch.no_grad():
        stem_and_first = net[1](net[0](torch.zeros(1, 1, 96, 96)))  # (1, 64, 24, 24)
        return tuple(stem_and_first.shape), tuple(net[2](stem_and_first).shape)


STAGE_INPUT, STAGE_OUTPUT = first_stage_output()
FIRST_BLOCK = dict(input_shape=(2, 64, 24, 24), num_channels=64, first_block=True)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case((1, 512, 4, 4), True, "(n - 1) // 2 + 1, so 7 -> 4"),
    case([1, 512, 4, 4], True, "Right"),
    case(torch.Size([1, 512, 4, 4]), True, "Right"),
    case("(1, 512, 4, 4)", True, "Right"),
    case(np.array([1, 512, 4, 4]), True, "Right"),
    case((1, 512, 3, 3), False, "rounds up"),
    case((1, 256, 4, 4), False, "num_channels = 512"),
    case((1, 512, 7, 7), False, "halves the height"),
    case((1, 512, 2, 2), False, "Only the first block"),
    case((512, 4, 4), False, "all four dimensions"),
    case((9, 9, 9, 9), False, "Not quite (you said (9, 9, 9, 9)). The channels become num_channels"),
    case(512, False, "a tuple of ints, like (1, 256, 7, 7)); you gave 512."),
    case(None, None, "replace None with a tuple (N, C, H, W), the shape of the output"),
    case((2, 64, 24, 24), True, "keeps the size", **FIRST_BLOCK),
    case((2, 64, 12, 12), False, "no block has stride 2", **FIRST_BLOCK),
    case(STAGE_OUTPUT, True, "Right", input_shape=STAGE_INPUT, num_channels=128),
])
def test_resnet_stage_output_shape(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch07_resnet.resnet_stage_output_shape(answer, **settings), verdict, hint)


def test_the_residual_block_exercise_accepts_the_packages_basic_block(capsys):
    # 07.6's reference is a stand-alone copy of ck.models.BasicBlock (its .solution() shows the shortcut too).
    from coursekit.check.ch07_resnet import check_residual_block

    assert check_residual_block(ck.models.BasicBlock).correct is True
    assert capsys.readouterr().out.startswith("✔")
