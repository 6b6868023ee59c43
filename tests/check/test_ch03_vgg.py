"""Checks of notebook 03: a VGG block's parameters and VGG-16's fully connected share."""

import numpy as np
import pytest
import torch

from coursekit import check
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
    assert_verdict(capsys, check.vgg_block_parameters(answer, **settings), verdict, hint)


CONVS = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
         (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
FC = linear_params(512 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 1000)
SHARE = FC / (FC + sum(conv_params(3, a, b) for a, b in CONVS))


@pytest.mark.parametrize("answer, verdict, hint", [
    (round(SHARE, 3), True, "over 100 million"),
    (str(round(SHARE, 2)), True, "Right"),
    (torch.tensor(SHARE), True, "Right"),
    (np.float32(SHARE), True, "Right"),
    (round(100 * SHARE, 1), False, "That is a percentage"),
    (round(1 - SHARE, 3), False, "share of the convolutions"),
    (0.5, False, "Not quite (you said 0.5). Sum p.numel() over the nn.Linear layers of ck.models.vgg16()"),
    (None, None, "replace None with a float between 0 and 1"),
    (torch.ones(2), False, "you gave a tensor of shape (2,)"),
    ([0.9, 0.1], False, "you gave a list [0.9, 0.1]"),
])
def test_vgg16_head_share(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.vgg16_head_share(answer), verdict, hint)
