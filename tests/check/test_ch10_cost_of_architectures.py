"""Checks of notebook 10: grouped and separable convolutions, multiply-adds, and activation memory."""

import numpy as np
import pytest
import torch

from coursekit import check
from tests.helpers import assert_verdict, case, conv_params

# nn.Conv2d(64, 128, 3, groups=4): (K_H*K_W*C_in/g)*C_out + C_out
GROUPED = conv_params(3, 64, 128, groups=4)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(GROUPED, True, "4 times fewer weights than without groups"),
    case(f"{GROUPED:,}", True, "Right"),
    case(np.int64(GROUPED), True, "Right"),
    case(torch.tensor(GROUPED), True, "Right"),
    case(conv_params(3, 64, 128), False, "without groups"),
    case(conv_params(3, 64, 128, bias=False, groups=4), False, "add the biases"),
    case(conv_params(3, 64, 128) // 4, False, "do not divide the biases"),
    case(conv_params(3, 16, 32), False, "That is one group"),
    case(12, False, "Not quite (you said 12). (K_H*K_W*C_in/g)*C_out"),
    case(None, None, "replace None with an int, the number of parameters (weights and biases)"),
    case(GROUPED + 0.25, False, "not a whole number"),
    case([GROUPED], False, "you gave a list"),
    # the example of the notes: conv(4, 8, 3, groups=2) has 144 weights and 8 biases
    case(152, True, "Right", in_channels=4, out_channels=8, kernel_size=3, groups=2),
])
def test_conv_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch10_cost_of_architectures.conv_parameters(answer, **settings), verdict, hint)


SEPARABLE = 1 / 128 + 1 / 9  # depthwise 1/C_out + pointwise 1/(K*K)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(SEPARABLE, True, "= 1/128 + 1/9"),
    case(round(SEPARABLE, 4), True, "Right"),
    case(str(round(SEPARABLE, 3)), True, "Right"),
    case(torch.tensor(SEPARABLE), True, "Right"),
    case(np.float64(SEPARABLE), True, "Right"),
    case(1 / SEPARABLE, False, "Upside down"),
    case(100 * SEPARABLE, False, "That is a percentage"),
    case(1 / 64 + 1 / 9, False, "not 64"),
    case(1 / 128, False, "depthwise part alone"),
    case(1 / 9, False, "1x1 part alone"),
    case(0.5, False, "Not quite (you said 0.5). Depthwise: K*K*C_in weights; pointwise: C_in*C_out; ordinary: "
         "K*K*C_in*C_out. Divide the sum"),
    case(None, None, "replace None with a float, the separable convolution's weights divided by the ordinary one's"),
    case("1/9", False, "you gave the text '1/9'"),
    case([1 / 128, 1 / 9], False, "you gave a list"),
    # other sizes: the same closed form
    case(1 / 32 + 1 / 3**2, True, "Right", in_channels=32, out_channels=32, kernel_size=3),
    case(1 / 256 + 1 / 5**2, True, "Right", in_channels=16, out_channels=256, kernel_size=5),
    case(1 / 24 + 1 / 7**2, True, "Right", in_channels=8, out_channels=24, kernel_size=7),
])
def test_separable_ratio(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch10_cost_of_architectures.separable_ratio(answer, **settings), verdict, hint)


OUT = (56 + 2 * 1 - 3) // 2 + 1  # 28
MACS = OUT * OUT * 3 * 3 * 64 * 128


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(MACS, True, "28x28 output pixels times 73,728 multiply-adds each"),
    case(str(MACS), True, "Right"),
    case(float(MACS), True, "Right"),
    case(np.int64(MACS), True, "Right"),
    case(torch.tensor(MACS), True, "Right"),
    case(2 * MACS, False, "That counts FLOPs"),
    case(56 * 56 * 3 * 3 * 64 * 128, False, "every *output* pixel"),
    case(3 * 3 * 64 * 128, False, "one output pixel"),
    case(MACS + OUT * OUT * 128, False, "bias additions"),
    case(5, False, "Not quite (you said 5). Multiply-adds = H_out*W_out*K*K*C_in*C_out"),
    case(None, None, "replace None with an int, the multiply-adds of one forward pass for one image"),
    case(torch.ones(2, 2), False, "you gave a tensor of shape (2, 2)"),
    case([28, 28], False, "you gave a list [28, 28]"),
    case(10 * 10 * 25 * 6 * 16, True, "Right", in_channels=6, out_channels=16, kernel_size=5, stride=1, padding=0,
         size=14),  # LeNet's second convolution
])
def test_conv_macs(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch10_cost_of_architectures.conv_macs(answer, **settings), verdict, hint)


BYTES = 64 * 224 * 224 * 4  # VGG-16's first convolution: 64 float32 maps of 224x224


@pytest.mark.parametrize("answer, verdict, hint", [
    (BYTES, True, "(12.8 MB)"),
    (f"{BYTES:,}", True, "Right"),
    (np.int64(BYTES), True, "Right"),
    (torch.tensor(BYTES), True, "Right"),
    (64 * 224 * 224, False, "float32 takes 4 bytes"),
    (64 * 224 * 224 * 32, False, "in bits"),
    (12.85, False, "not megabytes"),
    (BYTES / 2**20, False, "not megabytes"),
    (3 * 224 * 224 * 4, False, "That is the input image; the layer outputs 64 channels"),
    (7, False, "Not quite (you said 7). Output shape (1, 64, 224, 224), so 64*224*224 values"),
    (12.5, False, "not a whole number"),
    (None, None, "replace None with an int, the size in bytes"),
    ("12.8 MB", False, "you gave the text '12.8 MB'"),
    ([64, 224, 224], False, "you gave a list [64, 224, 224]"),
])
def test_activation_bytes(capsys, answer, verdict, hint):
    assert_verdict(capsys, check.ch10_cost_of_architectures.activation_bytes(answer), verdict, hint)


@pytest.mark.parametrize("channels, width, groups", [(256, 128, 32), (64, 32, 4), (48, 24, 3), (8, 8, 8)])
def test_the_grouped_bottleneck_reference_counts_what_pytorch_builds(channels, width, groups):
    # 10.6's reference (shown by .solution()) must count the parameters of the layers it describes.
    from torch import nn

    from coursekit.check.ch10_cost_of_architectures import grouped_bottleneck_parameters

    block = nn.Sequential(nn.Conv2d(channels, width, 1), nn.Conv2d(width, width, 3, groups=groups),
                          nn.Conv2d(width, channels, 1))
    assert grouped_bottleneck_parameters(channels, width, groups) == sum(p.numel() for p in block.parameters())
