"""Checks of notebook 09: receptive fields of stacks, centres of units, dilation, and parallel branches."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case


def field(layers):
    """The recurrence by hand: r += (k - 1) * jump, jump *= s (padding plays no part)."""
    r, jump = 1, 1
    for k, s, *_ in layers:
        r += (k - 1) * jump
        jump *= s
    return r


STEM_AND_THREE_3X3 = ((7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1))  # the exercise's default
VGG_BLOCKS = [(3, 1, 1), (3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 1, 1), (2, 2, 0)]


def test_the_figures_of_the_lecture_notes():
    assert field(STEM_AND_THREE_3X3) == 35  # 7, 11, 19, 27, 35
    assert field(VGG_BLOCKS) == 16


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(field(STEM_AND_THREE_3X3), True, "Right: 35 pixels"),
    case(35.0, True, "Right"),
    case("35", True, "Right"),
    case(np.int64(35), True, "Right"),
    case(torch.tensor(35), True, "Right"),
    case(1 + 6 + 2 + 2 + 2 + 2, False, "product of the strides"),
    case(1 + 6 * 2 + 2 * 4 + 2 * 4 + 2 * 4 + 2 * 4, False, "own stride"),
    case(1 + 12 + 4 * 2 + 4 * 4 * 3, False, "You counted the padding"),
    case(36, False, "Not quite (you said 36). Start from r = 1 and jump = 1; for each layer do r += (k - 1) * jump"),
    case(35.5, False, "not a whole number"),
    case(None, None, "replace None with a number, the side of the receptive field in input pixels"),
    case("big", False, "(a single whole number, like 1234); you gave the text 'big'"),
    case((35, 35), False, "you gave a tuple (35, 35)"),
    case([35, 35], False, "you gave a list [35, 35]"),
    case(field(VGG_BLOCKS), True, "Right", layers=VGG_BLOCKS),
])
def test_receptive_field_size(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch09_receptive_fields.receptive_field_size(answer, **settings), verdict, hint)


# d2l LeNet: conv5 p2 -> centre 0, pool2 -> 0.5 (jump 2), conv5 -> 4.5, pool2 -> 5.5 (jump 4)
@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(5.5 + 2 * 4, True, "unit 2 sits at 5.5 + 2 * 4 = 13.5"),
    case("13.5", True, "Right"),
    case(np.float32(13.5), True, "Right"),
    case(torch.tensor(13.5), True, "Right"),
    case(7.5 + 2 * 4, False, "centre without padding"),  # the same net without padding
    case(5.5 + 2, False, "unit * jump"),
    case(5.5, False, "centre of the first unit"),
    case(3, False, "Not quite (you said 3). Track the centre of the first unit along with the jump: c starts at 0, "
         "and each layer does c += ((k - 1) / 2 - p) * jump"),
    case(None, None, "replace None with a number, the input row (= column) at the centre of that unit's field"),
    case((13.5, 13.5), False, "you gave a tuple"),
    case([13.5], False, "you gave a list [13.5]"),
    case(5.5 + 4 * 4, True, "Right", unit=4),
])
def test_center_of_unit(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch09_receptive_fields.center_of_unit(answer, **settings), verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(1 + 2 * (1 + 2 + 4 + 8), True, "exponentially"),
    case("31", True, "Right"),
    case(torch.tensor([31]), True, "Right"),
    case(np.int64(31), True, "Right"),
    case(torch.tensor(31), True, "Right"),
    case(9, False, "without dilation"),
    case(1 + 2 + 5 + 11 + 23, False, "not d*k"),
    case(17, False, "last layer"),
    case(100, False, "Not quite (you said 100). With stride 1 everywhere the jump stays 1, so start from r = 1 and "
         "add d(k - 1)"),
    case(None, None, "replace None with a number, the side of the receptive field in input pixels"),
    case(np.array([31, 31]), False, "you gave an array of shape (2,)"),
    case([31], False, "you gave a list [31]"),
    case(1 + 4 * (1 + 3), True, "Right", dilations=(1, 3), kernel_size=5),
])
def test_dilated_receptive_field(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch09_receptive_fields.dilated_receptive_field(answer, **settings), verdict, hint)


# stem: 7 (jump 2), max-pool 3: 11 (jump 4); branches 11, 19, 27, 19
@pytest.mark.parametrize("answer, verdict, hint", [
    (11 + 4 * 4, True, "The four branches see 11, 19, 27, 19 pixels"),
    ("27", True, "Right"),
    (np.int64(27), True, "Right"),
    (torch.tensor(27.0), True, "Right"),
    (11 + 8 + 16 + 8, False, "side by side"),
    (11, False, "smallest branch"),
    (15, False, "(5 - 1) * 4"),
    (19, False, "not the largest"),
    (1000, False, "Not quite (you said 1,000). Compute the field after the stem (r and jump)"),
    (None, None, "replace None with a number, the side of the receptive field of the block's output"),
    ([27], False, "you gave a list [27]"),
])
def test_multipath_receptive_field(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch09_receptive_fields.multipath_receptive_field(answer), verdict, hint)


def test_the_recurrence_reference_agrees_with_ck_receptive_field():
    # 09.6's reference (shown by .solution()) must agree with the package's graph-based receptive_field, on the
    # exercise's networks and on d2l's LeNet up to its second pooling layer.
    from torch import nn

    import coursekit as ck
    from coursekit.check.ch09_receptive_fields import receptive_field_trials, receptive_field_of

    nets = [net for (net,) in receptive_field_trials()] + [ck.models.lenet()[:6],
                                                       nn.Sequential(nn.Conv2d(1, 1, (3, 3), dilation=(4, 4)))]
    for net in nets:
        assert receptive_field_of(net) == ck.receptive_field(net, (1, 1, 64, 64))[-1].rf[0]
