"""Checks of notebook 08: the channels after a dense block and its transition, and a dense block's parameters."""

import numpy as np
import pytest
import torch

import coursekit as ck
from coursekit import check
from tests.helpers import assert_verdict, case


def conv3(c_in, c_out, bias=True):
    return (9 * c_in + bias) * c_out


# DenseNet-BC-100's first block: 24 channels in, 16 layers of growth rate 12, then a halving transition.
@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case((24 + 16 * 12) // 2, True, "24 + 16 * 12 = 216 channels, and the transition's 1x1 convolution halves them "
         "to 108"),
    case("108", True, "Right"),
    case(np.int64(108), True, "Right"),
    case(torch.tensor([108]), True, "Right"),
    case(torch.tensor(108), True, "Right"),
    case(24 + 16 * 12, False, "halves the channels"),
    case(16 * 12, False, "only the new channels"),
    case(16 * 12 // 2, False, "only the new channels"),
    case(24 + 16 * 12 // 2, False, "block's input included"),
    case(24 + 15 * 12, False, "One layer short"),
    case((24 + 15 * 12) // 2, False, "One layer short"),
    case(24 + 12, False, "the growth rate is per layer"),
    case((24 + 12) // 2, False, "the growth rate is per layer"),
    case(2 * (24 + 16 * 12), False, "reduces the channels"),
    case(7, False, "Not quite (you said 7). A dense block outputs in_channels + num_convs * growth_rate"),
    case(None, None, "replace None with an int, the channels after the dense block and its transition layer"),
    case(108.5, False, "not a whole number"),
    case([216, 108], False, "you gave a list"),
    # d2l's DenseNet: 64 -> 192 -> 96 -> 224 -> 112 (the docstring of ck.models.densenet)
    case(96, True, "Right", in_channels=64, num_convs=4, growth_rate=32),
    case(112, True, "Right", in_channels=96, num_convs=4, growth_rate=32),
    # an odd count rounds down, like transition_block(c, c // 2)
    case(7, True, "Right", in_channels=3, num_convs=2, growth_rate=6),
])
def test_dense_transition_channels(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch08_densenet.dense_transition_channels(answer, **settings), verdict, hint)


INPUTS = [16, 24, 32]  # 3 layers of growth rate 8 on 16 channels
RIGHT = sum(2 * c + conv3(c, 8) for c in INPUTS)
D2L_FIRST_BLOCK = sum(2 * c + conv3(c, 32) for c in (64, 96, 128, 160))


def test_the_figures_of_the_lecture_notes():
    assert RIGHT == 5352
    assert D2L_FIRST_BLOCK == 130_048  # ck.inspect.layer_shapes shows it too


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(RIGHT, True, "Layer i sees 16, 24, 32 channels in turn"),
    case("5,352", True, "Right"),
    case(np.uint16(RIGHT), True, "Right"),
    case(torch.tensor(float(RIGHT)), True, "Right"),
    case(sum(conv3(c, 8) for c in INPUTS), False, "convolutions only"),
    case(sum(4 * c + conv3(c, 8) for c in INPUTS), False, "buffers"),
    case(sum(2 * c + conv3(c, 8, bias=False) for c in INPUTS), False, "add the convolutions' biases"),
    case(3 * (2 * 16 + conv3(16, 8)), False, "more channels than the one before"),
    case(sum(2 * c + conv3(c, 8) for c in (24, 32, 40)), False, "One step ahead"),
    case(1, False, "Not quite (you said 1). Layer i (from 0) sees"),
    case(None, None, "replace None with an int, the number of parameters of the dense block"),
    case("five thousand", False, "you gave the text 'five thousand'"),
    case([RIGHT], False, "you gave a list"),
    case(D2L_FIRST_BLOCK, True, "Right", num_convs=4, in_channels=64, growth_rate=32),
])
def test_dense_block_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch08_densenet.dense_block_parameters(answer, **settings), verdict, hint)


@pytest.mark.parametrize("check_name, settings", [
    ("dense_transition_channels", dict(growth_rate=0)),
    ("dense_transition_channels", dict(in_channels=2.5)),
    ("dense_block_parameters", dict(num_convs=-1)),
])
def test_an_impossible_exercise_raises(check_name, settings):
    with pytest.raises(ValueError, match="must be a positive int"):
        getattr(check.ch08_densenet, check_name)(1, **settings)


@pytest.mark.parametrize("num_channels, growth_rate, arch", [(64, 32, (4, 4, 4, 4)), (24, 12, (16, 16, 16)),
                                                             (15, 7, (2, 3, 1)), (8, 4, (5,))])
def test_the_channel_count_reference_matches_the_built_network(num_channels, growth_rate, arch):
    # 08.6's reference (shown by .solution()) must give the in_features of ck.models.densenet's Linear layer.
    from coursekit.check.ch08_densenet import densenet_out_channels

    net = ck.models.densenet(num_channels=num_channels, growth_rate=growth_rate, arch=arch)
    assert densenet_out_channels(num_channels, growth_rate, arch) == net[-1].in_features
