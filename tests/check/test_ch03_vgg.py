"""Checks of notebook 03: a VGG block's parameters, the fully connected share, VGG-19 against VGG-16,
VGG-11's receptive field."""

import numpy as np
import pytest
import torch

from coursekit import check
from coursekit.check.helpers import linear_share
from tests.helpers import assert_verdict, case, conv_params, linear_params

BLOCK = conv_params(3, 256, 512) + 3 * conv_params(3, 512, 512)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(BLOCK, True, f"Right: {BLOCK:,}. The first convolution maps 256 to 512"),
    case(f"{BLOCK:,}", True, "Right"),
    case(np.int64(BLOCK), True, "Right"),
    case(torch.tensor(BLOCK), True, "Right"),
    case(4 * conv_params(3, 256, 512), False, "Only the first convolution sees 256 input channels"),
    case(4 * conv_params(3, 512, 512), False, "input has 256 channels, not 512"),
    case(BLOCK - 4 * 512, False, "add the biases"),
    case(12, False, "Not quite (you said 12). Each 3x3 convolution"),
    case(None, None, "replace None with an int, the number of parameters of the block"),
    case({}, False, "you gave a dict {}"),
    case([BLOCK], False, "you gave a list"),
    case(conv_params(3, 1, 8), True, "Right", num_convs=1, in_channels=1, out_channels=8),
])
def test_vgg_block_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch03_vgg.vgg_block_parameters(answer, **settings), verdict, hint)


CONVS = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
         (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
FC = linear_params(512 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 1000)
SHARE = FC / (FC + sum(conv_params(3, a, b) for a, b in CONVS))


def test_the_fully_connected_share_reference_agrees_with_the_package_and_the_formula():
    for (net,) in check.ch03_vgg.share_nets():
        assert check.ch03_vgg.fully_connected_share(net) == pytest.approx(linear_share(net)[1])
    assert check.ch03_vgg.fully_connected_share(check.ch03_vgg.share_nets()[0][0]) == pytest.approx(SHARE)


# VGG-19 has one more 3x3 convolution in blocks 3 (256 -> 256), 4 and 5 (512 -> 512).
EXTRA = conv_params(3, 256, 256) + 2 * conv_params(3, 512, 512)


@pytest.mark.parametrize("answer, verdict, hint", [
    (EXTRA, True, f"{EXTRA:,}, all in one extra 3x3 convolution"),
    (EXTRA - 256 - 2 * 512, False, "add the biases"),
    (2 * conv_params(3, 512, 512), False, "block 3 gets a fourth"),
    (conv_params(3, 512, 512), False, "each of the last three"),
    (None, None, "not answered yet"),
])
def test_vgg19_added_parameters(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch03_vgg.vgg19_added_parameters(answer), verdict, hint)


def field_of_vgg11():
    """r += (k - 1) * jump, jump *= s through the eight 3x3 convolutions and five 2x2/2 poolings of VGG-11."""
    r, jump = 1, 1
    for num_convs in (1, 1, 2, 2, 2):
        r += num_convs * 2 * jump
        r += jump  # the 2x2 pooling
        jump *= 2
    return r


@pytest.mark.parametrize("answer, verdict, hint", [
    (field_of_vgg11(), True, f"{field_of_vgg11()}x{field_of_vgg11()} pixels"),
    (1 + 2 * 8, False, "as if no pooling came before"),
    (field_of_vgg11() - 16, False, "the last max-pool adds"),
    (224, False, "whole image"),
    (None, None, "not answered yet"),
])
def test_vgg11_receptive_field(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch03_vgg.vgg11_receptive_field(answer), verdict, hint)
