"""Exercise checks for notebook 11, design and training."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .verdict import Slip, Verdict, judge


def int8_linear_bytes(answer: Any, model: str = "lenet_modern", **kwargs: Any) -> Verdict:
    """Exercise 11.1: bytes of ``model``'s parameters once its Linear weights are stored as int8.

    Dynamic quantization (``torch.ao.quantization.quantize_dynamic``) keeps
    every Linear weight as one byte and its bias in float32; every other
    parameter (convolutions, BatchNorm) stays float32, 4 bytes. The few bytes of
    scale and zero point each quantized layer also stores are forgiven
    (up to 16 per Linear layer). ``kwargs`` go to the model's constructor.
    """
    from ..models import get_model

    with torch.device("meta"):  # counting needs the shapes of the parameters, not their values
        net = get_model(model, **kwargs)
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError(f"{model} has no Linear layer to quantize.")
    linear_weights = sum(m.weight.numel() for m in linear)
    linear_params = sum(count_params(m).total for m in linear)
    total = count_params(net).total
    expected = linear_weights + 4 * (total - linear_weights)
    slack = 16 * len(linear)
    bits = "That is in bits; divide by 8 for bytes."
    return judge(
        # The one range this course accepts: the exercise itself leaves the quantization metadata open.
        answer, "int", lambda a: isinstance(a, int) and expected <= a <= expected + slack,
        what="an int, the bytes of all the parameters after int8 quantization of the Linear weights",
        right=f"{linear_weights:,} Linear weights at 1 byte plus {total - linear_weights:,} other parameters at 4 "
              f"bytes = {expected:,} bytes, against {4 * total:,} in float32: {4 * total / expected:.1f}x smaller.",
        slips=[
            Slip(4 * total, "That is the float32 size of the whole model (4 bytes per parameter); the Linear weights "
                 "now take 1 byte each."),
            Slip(total, "That counts every parameter as 1 byte: only the Linear weights are quantized; biases and "
                 "convolutions stay float32 (4 bytes)."),
            Slip(linear_weights, "That is the int8 Linear weights alone; add the parameters that stay float32 "
                 "(biases and convolutions, 4 bytes each)."),
            Slip(8 * expected, bits),
            Slip(8 * linear_weights + 32 * (total - linear_weights), bits),
            Slip(2 * linear_weights + 4 * (total - linear_weights), "That is float16/bfloat16 (2 bytes) for the "
                 "Linear weights; int8 is 1 byte."),
            Slip(linear_params + 4 * (total - linear_params), "Close: dynamic quantization keeps the Linear biases "
                 "in float32 (4 bytes), only the weights become int8."),
        ],
        otherwise="Count the weights of the nn.Linear layers (1 byte each) and every other parameter, biases "
                  "included (4 bytes each): sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Linear)).",
    )


def pruned_fraction_left(answer: Any, amounts: Sequence[float] = (0.3, 0.3, 0.3)) -> Verdict:
    """Exercise 11.2: fraction of a layer's weights left after ``prune.l1_unstructured`` with each of ``amounts``.

    A float ``amount`` prunes that fraction of the weights *still unpruned*, so
    rounds multiply. The expected value is measured by pruning a real layer.
    """
    from torch.nn.utils import prune

    if not amounts or not all(isinstance(a, numbers.Real) and not isinstance(a, bool) and 0 <= a < 1
                              for a in amounts):
        raise ValueError(f"amounts must be fractions in [0, 1), got {amounts!r}.")
    layer = nn.Linear(1000, 100, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(100, 1000, generator=torch.Generator().manual_seed(0)))
    for amount in amounts:
        prune.l1_unstructured(layer, "weight", amount=float(amount))
    expected = float(layer.weight_mask.mean())
    slips = [Slip(1 - expected, "That is the fraction pruned (the sparsity); the question asks what is left.")]
    if len(amounts) > 1:  # with one round these slips are the right answer
        slips.insert(0, Slip(max(0.0, 1 - sum(amounts)), "The rounds do not add up: each amount is a fraction of "
                             "the weights that are still unpruned, so a later round removes fewer weights than an "
                             "earlier one."))
        slips.append(Slip(1 - amounts[-1], "That is one round only: pruning again does not undo the earlier mask, "
                          "the masks multiply."))
    rounds = " x ".join(f"{1 - a:g}" for a in amounts)
    return judge(
        answer, "fraction", expected,
        what="a float between 0 and 1, the fraction of the weights that are not pruned",
        right=f"{rounds} = {expected:.3f} of the weights are left ({1 - expected:.1%} sparsity); every round prunes "
              "a share of what is still there.",
        slips=slips,
        otherwise="After one round with amount a, a fraction 1 - a is left; the next round keeps 1 - a of that. "
                  "Check with layer.weight_mask.mean() after pruning a layer yourself.",
    )


def frozen_trainable_parameters(answer: Any, model: str = "lenet_modern", num_classes: int = 5) -> Verdict:
    """Exercise 11.3: trainable parameters when ``model``'s layers are frozen and only a new head
    (its last Linear layer, replaced for ``num_classes`` classes) is trained."""
    from ..models import get_model

    with torch.device("meta"):  # counting needs the shapes of the parameters, not their values
        net = get_model(model)
    old_head = net[-1]
    if not isinstance(old_head, nn.Linear):
        raise ValueError(f"{model} does not end in a Linear layer.")
    new_head = nn.Linear(old_head.in_features, num_classes)
    expected = count_params(new_head).total
    old = count_params(old_head).total
    total = count_params(net).total - old + expected
    every_parameter = ("That is every parameter: freezing sets requires_grad=False on all layers but the head, so "
                       "only the head's parameters remain trainable.")
    return judge(
        answer, "int", expected,
        what="an int, the parameters that still have requires_grad=True",
        right=f"only the new head trains, {old_head.in_features} x {num_classes} weights + {num_classes} biases = "
              f"{expected:,} of the {total:,} parameters ({expected / total:.1%}).",
        slips=[
            Slip(old, f"That is the old head with {old_head.out_features} outputs; the new one has {num_classes}."),
            Slip(new_head.weight.numel(), "Close: the new head's biases are trainable too, one per class."),
            Slip(total - expected, "That is the frozen part; the question asks how many parameters still train."),
            Slip(total, every_parameter),
            Slip(total - expected + old, every_parameter),
        ],
        otherwise=f"Freeze everything, replace the last layer by nn.Linear({old_head.in_features}, {num_classes}) "
                  "and count sum(p.numel() for p in net.parameters() if p.requires_grad).",
    )
