"""coursekit.models.lenet: LeNet-5 in d2l's form and with ReLU and max-pooling.

Expected numbers come from the layer formulas, not from the models.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit.models import lenet, lenet_modern
from tests.helpers import conv_params, count, linear_params


@pytest.mark.parametrize("make", [lenet, lenet_modern])
def test_lenet5_parameters_by_the_formulas(make):
    # conv 5x5 1 -> 6, conv 5x5 6 -> 16, then 16 * 5 * 5 = 400 -> 120 -> 84 -> 10
    expected = (conv_params(5, 1, 6) + conv_params(5, 6, 16)
                + linear_params(400, 120) + linear_params(120, 84) + linear_params(84, 10))
    assert count(make()) == expected == 61_706


@pytest.mark.parametrize("make", [lenet, lenet_modern])
def test_feature_maps_shrink_as_in_the_notes(make):
    # 28 -> conv5 (pad 2) 28 -> pool 14 -> conv5 10 -> pool 5
    features = make()[:6]  # everything before Flatten (a slice does not copy the input check)
    sides = []
    x = torch.zeros(1, 1, 28, 28)
    for layer in features:
        x = layer(x)
        if not isinstance(layer, (nn.Sigmoid, nn.ReLU)):
            sides.append(x.shape[-1])
    assert sides == [28, 14, 10, 5]


def test_the_two_lenets_differ_only_in_activation_and_pooling():
    old, new = lenet(), lenet_modern()
    swap = {nn.Sigmoid: nn.ReLU, nn.AvgPool2d: nn.MaxPool2d}
    assert [swap.get(type(m), type(m)) for m in old] == [type(m) for m in new]
