"""Exercise checks for chapter 11 design and training."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._verdicts import _count, _unanswered, _verdict

__all__: list[str] = ["frozen_trainable_parameters", "int8_linear_bytes", "pruned_fraction_left"]


def _is_number(answer) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


def int8_linear_bytes(answer: int | None, model: str = "lenet_modern", **kwargs) -> bool:
    """Exercise 11.1: bytes of ``model``'s parameters once its Linear weights are stored as int8.

    Dynamic quantization (``torch.ao.quantization.quantize_dynamic``) keeps
    every Linear weight as one byte and its bias in float32; every other
    parameter (convolutions, BatchNorm) stays float32, 4 bytes. The few bytes of
    scale and zero point each quantized layer also stores are forgiven
    (up to 16 per Linear layer). ``kwargs`` go to the model's constructor.
    """
    if _unanswered(answer, "an int, the bytes of all the parameters after int8 quantization of the Linear weights"):
        return False
    from ..models import get_model

    net = get_model(model, **kwargs)
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError(f"{model} has no Linear layer to quantize.")
    linear_weights = sum(m.weight.numel() for m in linear)
    total = _count(net)
    expected = linear_weights + 4 * (total - linear_weights)
    slack = 16 * len(linear)
    if not _is_number(answer):
        return _verdict(False, f"Give a number of bytes (an int), not {type(answer).__name__}.")
    if expected <= answer <= expected + slack:
        return _verdict(True, f"Right: {linear_weights:,} Linear weights at 1 byte plus {total - linear_weights:,} "
                        f"other parameters at 4 bytes = {expected:,} bytes, against {4 * total:,} in float32: "
                        f"{4 * total / expected:.1f}x smaller.")
    if answer == 4 * total:
        return _verdict(False, "That is the float32 size of the whole model (4 bytes per parameter); the Linear "
                        "weights now take 1 byte each.")
    if answer == total:
        return _verdict(False, "That counts every parameter as 1 byte: only the Linear weights are quantized; "
                        "biases and convolutions stay float32 (4 bytes).")
    if answer == linear_weights:
        return _verdict(False, "That is the int8 Linear weights alone; add the parameters that stay float32 "
                        "(biases and convolutions, 4 bytes each).")
    if answer in (8 * expected, 8 * linear_weights + 32 * (total - linear_weights)):
        return _verdict(False, "That is in bits; divide by 8 for bytes.")
    if answer == 2 * linear_weights + 4 * (total - linear_weights):
        return _verdict(False, "That is float16/bfloat16 (2 bytes) for the Linear weights; int8 is 1 byte.")
    linear_params = sum(_count(m) for m in linear)
    if answer == linear_params + 4 * (total - linear_params):
        return _verdict(False, "Close: dynamic quantization keeps the Linear biases in float32 (4 bytes), only "
                        "the weights become int8.")
    return _verdict(False, f"Not quite (you said {answer:,}). Count the weights of the nn.Linear layers (1 byte "
                    "each) and every other parameter, biases included (4 bytes each): "
                    "sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Linear)).")


def pruned_fraction_left(answer: float | None, amounts: Sequence[float] = (0.3, 0.3, 0.3)) -> bool:
    """Exercise 11.2: fraction of a layer's weights left after ``prune.l1_unstructured`` with each of ``amounts``.

    A float ``amount`` prunes that fraction of the weights *still unpruned*, so
    rounds multiply. The expected value is measured by pruning a real layer.
    """
    if _unanswered(answer, "a float between 0 and 1, the fraction of the weights that are not pruned"):
        return False
    from torch.nn.utils import prune

    if not amounts or not all(_is_number(a) and 0 <= a < 1 for a in amounts):
        raise ValueError(f"amounts must be fractions in [0, 1), got {amounts!r}.")
    layer = nn.Linear(1000, 100, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(100, 1000, generator=torch.Generator().manual_seed(0)))
    for amount in amounts:
        prune.l1_unstructured(layer, "weight", amount=float(amount))
    expected = float(layer.weight_mask.mean())
    additive = max(0.0, 1 - sum(amounts))
    if not _is_number(answer):
        return _verdict(False, f"Give a fraction (a float between 0 and 1), not {type(answer).__name__}.")
    if abs(answer - expected) < 0.005:
        rounds = " x ".join(f"{1 - a:g}" for a in amounts)
        return _verdict(True, f"Right: {rounds} = {expected:.3f} of the weights are left "
                        f"({1 - expected:.1%} sparsity); every round prunes a share of what is still there.")
    if 1 < answer <= 100 and abs(answer / 100 - expected) < 0.005:
        return _verdict(False, f"That is a percentage; give a fraction between 0 and 1 ({answer / 100:.3f}).")
    if len(amounts) > 1 and abs(answer - additive) < 0.005:
        return _verdict(False, "The rounds do not add up: each amount is a fraction of the weights that are "
                        "still unpruned, so a later round removes fewer weights than an earlier one.")
    if abs(answer - (1 - expected)) < 0.005:
        return _verdict(False, "That is the fraction pruned (the sparsity); the question asks what is left.")
    if len(amounts) > 1 and abs(answer - (1 - amounts[-1])) < 0.005:
        return _verdict(False, "That is one round only: pruning again does not undo the earlier mask, "
                        "the masks multiply.")
    return _verdict(False, f"Not quite (you said {answer:g}). After one round with amount a, a fraction 1 - a is "
                    "left; the next round keeps 1 - a of that. Check with "
                    "layer.weight_mask.mean() after pruning a layer yourself.")


def frozen_trainable_parameters(answer: int | None, model: str = "lenet_modern", num_classes: int = 5) -> bool:
    """Exercise 11.3: trainable parameters when ``model``'s layers are frozen and only a new head
    (its last Linear layer, replaced for ``num_classes`` classes) is trained."""
    if _unanswered(answer, "an int, the parameters that still have requires_grad=True"):
        return False
    from ..models import get_model

    net = get_model(model)
    old_head = net[-1]
    if not isinstance(old_head, nn.Linear):
        raise ValueError(f"{model} does not end in a Linear layer.")
    new_head = nn.Linear(old_head.in_features, num_classes)
    expected = _count(new_head)
    total = _count(net) - _count(old_head) + expected
    if not _is_number(answer):
        return _verdict(False, f"Give a number of parameters (an int), not {type(answer).__name__}.")
    if answer == expected:
        return _verdict(True, f"Right: only the new head trains, {old_head.in_features} x {num_classes} weights "
                        f"+ {num_classes} biases = {expected:,} of the {total:,} parameters "
                        f"({expected / total:.1%}).")
    if answer == _count(old_head):
        return _verdict(False, f"That is the old head with {old_head.out_features} outputs; the new one has "
                        f"{num_classes}.")
    if answer == new_head.weight.numel():
        return _verdict(False, "Close: the new head's biases are trainable too, one per class.")
    if answer == total - expected:
        return _verdict(False, "That is the frozen part; the question asks how many parameters still train.")
    if answer in (total, _count(net)):
        return _verdict(False, "That is every parameter: freezing sets requires_grad=False on all layers but the "
                        "head, so only the head's parameters remain trainable.")
    return _verdict(False, f"Not quite (you said {answer:,}). Freeze everything, replace the last layer by "
                    f"nn.Linear({old_head.in_features}, {num_classes}) and count "
                    "sum(p.numel() for p in net.parameters() if p.requires_grad).")
