"""Checks of notebook 11: int8 size, pruning rounds, and frozen fine-tuning."""

import numpy as np
import pytest
import torch
from torch import nn

from coursekit import check
from tests.helpers import assert_verdict, case, conv_params

# LeNet (ReLU): Linear weights 400*120 + 120*84 + 84*10; everything else (convolutions, biases) stays float32.
LINEAR = 400 * 120 + 120 * 84 + 84 * 10
BIASES = 120 + 84 + 10
REST = conv_params(5, 1, 6) + conv_params(5, 6, 16) + BIASES
INT8 = LINEAR + 4 * REST


def alexnet_int8(ratio):
    """d2l AlexNet with every width divided by ``ratio``: int8 Linear weights, float32 for the rest."""
    c = [96 // ratio, 256 // ratio, 384 // ratio, 384 // ratio, 256 // ratio]
    hidden, flat = 4096 // ratio, c[4] * 5 * 5
    convs = (conv_params(11, 1, c[0]) + conv_params(5, c[0], c[1]) + conv_params(3, c[1], c[2])
             + conv_params(3, c[2], c[3]) + conv_params(3, c[3], c[4]))
    linear = flat * hidden + hidden * hidden + hidden * 10
    return linear + 4 * (convs + hidden + hidden + 10)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(INT8, True, "3.5x smaller"),
    case(INT8 + 24, True, "Right"),  # scales and zero points forgiven
    case(f"{INT8:,}", True, "Right"),
    case(np.int64(INT8), True, "Right"),
    case(torch.tensor(INT8), True, "Right"),
    case(4 * (LINEAR + REST), False, "float32 size of the whole model"),
    case(LINEAR + REST, False, "every parameter as 1 byte"),
    case(LINEAR, False, "int8 Linear weights alone"),
    case(8 * INT8, False, "in bits"),
    case(8 * LINEAR + 32 * REST, False, "in bits"),
    case(2 * LINEAR + 4 * REST, False, "float16"),
    case(LINEAR + BIASES + 4 * (REST - BIASES), False, "biases in float32"),
    case(12345, False, "Not quite (you said 12,345). Count the weights of the nn.Linear layers"),
    case("12345", False, "Not quite (you said 12,345)"),
    case(INT8 + 0.5, False, "not a whole number"),
    case(None, None, "replace None with an int, the bytes of all the parameters after int8 quantization"),
    case([INT8], False, "you gave a list"),
    case(alexnet_int8(1), True, "Right", model="alexnet"),
    case(alexnet_int8(1), False, "Not quite", model="alexnet", ratio=4),
    case(alexnet_int8(4), True, "Right", model="alexnet", ratio=4),
])
def test_int8_linear_bytes(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch11_design_and_training.int8_linear_bytes(answer, **settings), verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(0.7**3, True, "0.7 x 0.7 x 0.7 = 0.343"),
    case("0.343", True, "Right"),
    case(np.float64(0.343), True, "Right"),
    case(torch.tensor(0.343), True, "Right"),
    case(0.1, False, "do not add up"),
    case(1 - 0.7**3, False, "fraction pruned"),
    case(0.7, False, "one round only"),
    case(34.3, False, "That is a percentage"),
    case(0.6, False, "Not quite (you said 0.6). After one round with amount a"),
    case(None, None, "replace None with a float between 0 and 1, the fraction of the weights that are not pruned"),
    case((0.7, 0.7, 0.7), False, "you gave a tuple"),
    case([0.343], False, "you gave a list [0.343]"),
    case(0.25, True, "Right", amounts=(0.5, 0.5)),
    case(0.2, True, "Right", amounts=(0.8,)),
])
def test_pruned_fraction_left(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch11_design_and_training.pruned_fraction_left(answer, **settings), verdict, hint)


def test_pruning_rounds_multiply_in_torch_too():
    # the expected value is what torch does: prune a real layer three times and measure
    layer = nn.Linear(200, 50)
    for _ in range(3):
        torch.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.3)
    assert abs(float((layer.weight == 0).float().mean()) - (1 - 0.343)) < 0.005


@pytest.mark.parametrize("amounts", [(), (1.0,), (0.3, -0.1), ("0.3",)])
def test_pruned_fraction_left_rejects_an_impossible_exercise(amounts):
    with pytest.raises(ValueError, match="amounts must be fractions"):
        check.ch11_design_and_training.pruned_fraction_left(0.5, amounts=amounts)


HEAD = 84 * 5 + 5  # a new Linear(84, 5) on LeNet
TOTAL = (conv_params(5, 1, 6) + conv_params(5, 6, 16) + (400 + 1) * 120 + (120 + 1) * 84) + HEAD


@pytest.mark.parametrize("answer, verdict, hint, settings", [
    case(HEAD, True, f"= 425 of the {TOTAL:,} parameters"),
    case("425", True, "Right"),
    case(np.int64(HEAD), True, "Right"),
    case(torch.tensor(HEAD), True, "Right"),
    case(torch.tensor([HEAD]), True, "Right"),
    case(84 * 10 + 10, False, "old head"),
    case(84 * 5, False, "biases are trainable too"),
    case(TOTAL - HEAD, False, "frozen part"),
    case(TOTAL, False, "every parameter"),
    case(TOTAL - HEAD + 84 * 10 + 10, False, "every parameter"),
    case(7, False, "Not quite (you said 7). Freeze everything"),
    case(None, None, "replace None with an int, the parameters that still have requires_grad=True"),
    case(True, False, "you gave True (a bool, not a number)"),
    case([HEAD], False, "you gave a list [425]"),
    case(512 * 5 + 5, True, "Right", model="resnet18_d2l"),
    case(512 * 3 + 3, True, "Right", model="resnet18_d2l", num_classes=3),
])
def test_frozen_trainable_parameters(capsys, answer, verdict, hint, settings):
    assert_verdict(capsys, check.ch11_design_and_training.frozen_trainable_parameters(answer, **settings), verdict, hint)


@pytest.mark.parametrize("shape, amount", [((8, 12), 0.5), ((7, 9), 0.3), ((4, 3, 3, 3), 0.6), ((10, 10), 0.0),
                                           ((5, 5), 0.99)])
def test_the_magnitude_mask_reference_is_pytorchs_l1_unstructured(shape, amount):
    # 11.7's reference (shown by .solution()) must compute the mask of prune.l1_unstructured.
    from torch.nn.utils import prune

    from coursekit.check.ch11_design_and_training import magnitude_mask

    weight = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    layer = nn.Linear(1, 1)
    del layer.weight
    layer.weight = nn.Parameter(weight.clone())
    prune.l1_unstructured(layer, "weight", amount=amount)
    assert torch.equal(magnitude_mask(weight, amount), layer.weight_mask)
