"""Checks of chapter 11 (design and training): quantized size, pruning rounds, frozen fine-tuning."""

import torch
from torch import nn

import coursekit as ck
from coursekit import check


def linear_and_rest(net):
    linear = sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Linear))
    return linear, sum(p.numel() for p in net.parameters()) - linear


def test_int8_linear_bytes_lenet(capsys):
    # LeNet (ReLU): Linear weights 400*120 + 120*84 + 84*10, everything else stays float32.
    linear = 400 * 120 + 120 * 84 + 84 * 10
    rest = (25 * 6 + 6) + (25 * 6 * 16 + 16) + 120 + 84 + 10
    assert linear_and_rest(ck.models.lenet_modern()) == (linear, rest)
    right = linear + 4 * rest
    assert check.int8_linear_bytes(right) is True
    assert "3.5x smaller" in capsys.readouterr().out
    assert check.int8_linear_bytes(right + 24) is True  # scales and zero points forgiven
    capsys.readouterr()
    assert check.int8_linear_bytes(4 * (linear + rest)) is False
    assert "float32 size of the whole model" in capsys.readouterr().out
    assert check.int8_linear_bytes(linear + rest) is False
    assert "every parameter as 1 byte" in capsys.readouterr().out
    assert check.int8_linear_bytes(linear) is False
    assert "int8 Linear weights alone" in capsys.readouterr().out
    assert check.int8_linear_bytes(8 * right) is False
    assert "bits" in capsys.readouterr().out
    assert check.int8_linear_bytes(2 * linear + 4 * rest) is False
    assert "float16" in capsys.readouterr().out
    biases = 120 + 84 + 10
    assert check.int8_linear_bytes(linear + biases + 4 * (rest - biases)) is False
    assert "biases in float32" in capsys.readouterr().out
    assert check.int8_linear_bytes(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.int8_linear_bytes(12345) is False
    assert "Not quite" in capsys.readouterr().out
    assert check.int8_linear_bytes("12345") is False
    assert "not str" in capsys.readouterr().out


def test_int8_linear_bytes_other_models(capsys):
    linear, rest = linear_and_rest(ck.models.alexnet())
    assert linear > 40_000_000  # the head holds almost all of AlexNet
    assert check.int8_linear_bytes(linear + 4 * rest, "alexnet") is True
    assert check.int8_linear_bytes(linear + 4 * rest, "alexnet", ratio=4) is False
    linear4, rest4 = linear_and_rest(ck.models.alexnet(ratio=4))
    assert check.int8_linear_bytes(linear4 + 4 * rest4, "alexnet", ratio=4) is True
    capsys.readouterr()


def test_pruned_fraction_left(capsys):
    assert check.pruned_fraction_left(0.7 ** 3) is True
    assert "0.343" in capsys.readouterr().out
    assert check.pruned_fraction_left(0.1) is False
    assert "do not add up" in capsys.readouterr().out
    assert check.pruned_fraction_left(1 - 0.7 ** 3) is False
    assert "fraction pruned" in capsys.readouterr().out
    assert check.pruned_fraction_left(0.7) is False
    assert "one round only" in capsys.readouterr().out
    assert check.pruned_fraction_left(34.3) is False
    assert "percentage" in capsys.readouterr().out
    assert check.pruned_fraction_left(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.pruned_fraction_left(0.6) is False
    assert "Not quite" in capsys.readouterr().out
    assert check.pruned_fraction_left(0.25, amounts=(0.5, 0.5)) is True
    assert check.pruned_fraction_left(0.2, amounts=(0.8,)) is True
    capsys.readouterr()


def test_pruned_fraction_left_agrees_with_global_pruning():
    # the expected value is what torch does: prune a real layer three times and measure
    layer = nn.Linear(200, 50)
    for _ in range(3):
        torch.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.3)
    assert abs(float((layer.weight == 0).float().mean()) - (1 - 0.343)) < 0.005


def test_frozen_trainable_parameters(capsys):
    assert check.frozen_trainable_parameters(84 * 5 + 5) is True
    assert "425" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(84 * 10 + 10) is False
    assert "old head" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(84 * 5) is False
    assert "biases" in capsys.readouterr().out
    total = 61_706 - 850 + 425
    assert check.frozen_trainable_parameters(total - 425) is False
    assert "frozen part" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(total) is False
    assert "every parameter" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(7) is False
    assert "Not quite" in capsys.readouterr().out
    assert check.frozen_trainable_parameters(512 * 5 + 5, "resnet18_d2l") is True
    assert check.frozen_trainable_parameters(512 * 3 + 3, "resnet18_d2l", num_classes=3) is True
    capsys.readouterr()


def test_the_checks_are_exported():
    for name in ("int8_linear_bytes", "pruned_fraction_left", "frozen_trainable_parameters"):
        assert callable(getattr(ck.check, name))
