"""Exercise checks for notebook 11, design and training."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .code import Attempt, Mistake, judge_code, same_tensor
from .exercise import Exercise
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


def int8_bytes_answer(model: str = "alexnet") -> int:
    """The right answer of 11.1: ``model``'s parameter bytes with int8 Linear weights (1 byte) and everything
    else in float32 (4 bytes), scales and zero points left out."""
    from ..models import get_model

    with torch.device("meta"):
        net = get_model(model)
    linear_weights = sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Linear))
    return linear_weights + 4 * (count_params(net).total - linear_weights)


def pruned_fraction_answer(amounts: Sequence[float] = (0.3, 0.3, 0.3)) -> float:
    """The right answer of 11.2, measured: the mask's mean after ``prune.l1_unstructured`` with each amount."""
    from torch.nn.utils import prune

    layer = nn.Linear(1000, 100, bias=False)
    for amount in amounts:
        prune.l1_unstructured(layer, "weight", amount=amount)
    return float(layer.weight_mask.mean())


def frozen_head_answer(model: str = "resnet18_d2l", num_classes: int = 5) -> int:
    """The right answer of 11.3: the parameters of the new head, the only ones left trainable."""
    from ..models import get_model

    with torch.device("meta"):
        head = get_model(model)[-1]
    return count_params(nn.Linear(head.in_features, num_classes)).total


# --- 11.7: magnitude pruning of a layer, by hand ---------------------------------------------------------


def magnitude_mask(weight: torch.Tensor, amount: float) -> torch.Tensor:
    """The mask of unstructured magnitude pruning: 0 for the ``round(amount * weight.numel())`` weights of
    smallest absolute value in the whole tensor, 1 elsewhere; the shape of ``weight``."""
    n_pruned = round(amount * weight.numel())
    mask = torch.ones_like(weight)
    if n_pruned:
        smallest = weight.abs().flatten().topk(n_pruned, largest=False).indices
        mask.view(-1)[smallest] = 0
    return mask


def _pruning_trials() -> list[tuple[torch.Tensor, float]]:
    """A Linear weight, one whose count of pruned weights needs rounding (63 * 0.3 = 18.9), a conv weight."""
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(8, 12, generator=g), 0.5), (torch.randn(7, 9, generator=g), 0.3),
            (torch.randn(4, 3, 3, 3, generator=g), 0.6)]


def _mask_of(values: torch.Tensor, n_pruned: int) -> torch.Tensor:
    """0 for the ``n_pruned`` smallest of ``values`` (any shape), 1 elsewhere."""
    mask = torch.ones_like(values)
    if n_pruned:
        mask.view(-1)[values.flatten().topk(n_pruned, largest=False).indices] = 0
    return mask


def _per_row(weight: torch.Tensor, amount: float) -> torch.Tensor:
    rows = weight.reshape(weight.shape[0], -1)
    return torch.stack([_mask_of(row.abs(), round(amount * row.numel())) for row in rows]).reshape(weight.shape)


def _is(a: Attempt, mask: torch.Tensor) -> bool:
    got = torch.as_tensor(a.got).detach().to(mask.dtype)
    return got.shape == mask.shape and torch.equal(got, mask) and not torch.equal(mask, a.expected)


def check_magnitude_mask(answer: Any) -> Verdict:
    """Exercise 11.7: the learner's ``magnitude_mask(weight, amount)``."""
    return judge_code(
        answer, magnitude_mask, _pruning_trials(),
        what="your function magnitude_mask(weight, amount)",
        compare=same_tensor,
        right="the round(amount * numel) weights of smallest |w| in the whole tensor get 0, the rest 1: the mask "
              "prune.l1_unstructured computes.",
        mistakes=[
            Mistake(lambda a: _is(a, _mask_of(-a.args[0].abs(), round(a.args[1] * a.args[0].numel()))),
                    "You pruned the largest weights: magnitude pruning removes those of smallest absolute value, "
                    "which contribute least to the output."),
            Mistake(lambda a: _is(a, _mask_of(a.args[0], round(a.args[1] * a.args[0].numel()))),
                    "You pruned the most negative weights: rank them by absolute value, weight.abs()."),
            Mistake(lambda a: _is(a, _per_row(a.args[0], a.args[1])),
                    "You pruned the same share of every row: unstructured pruning ranks all the weights of the "
                    "tensor together, so some rows lose more than others."),
            Mistake(lambda a: _is(a, a.args[0] * a.expected),
                    "That is the pruned weight, weight * mask; return the mask itself, 0 where a weight is pruned "
                    "and 1 where it is kept."),
            Mistake(lambda a: _is(a, _mask_of(a.args[0].abs(), round((1 - a.args[1]) * a.args[0].numel()))),
                    "amount is the fraction pruned, not the fraction kept."),
            Mistake(lambda a: _is(a, _mask_of(a.args[0].abs(), int(a.args[1] * a.args[0].numel()))),
                    "Close: the number of weights to prune is round(amount * numel), as in PyTorch; int() rounds "
                    "down."),
        ],
        otherwise="Compare with prune.l1_unstructured on a layer holding the same weight: its weight_mask.",
    )


EX1 = Exercise(
    "11.1", "Size after quantization", "number",
    hint="Split AlexNet's parameters into the weights of its nn.Linear layers (1 byte each) and everything else, "
         "convolutions and all biases (4 bytes each).",
    check=lambda a: int8_linear_bytes(a, "alexnet"),
    answer=int8_bytes_answer,
)
EX2 = Exercise(
    "11.2", "Iterative pruning", "number",
    hint="A float amount prunes that fraction of the weights that are still unpruned; what is left after one "
         "round is what the next round works on.",
    check=lambda a: pruned_fraction_left(a, amounts=(0.3, 0.3, 0.3)),
    answer=pruned_fraction_answer,
)
EX3 = Exercise(
    "11.3", "Freezing", "number",
    hint="After freezing, only the parameters of the new head have requires_grad=True: count the weights and "
         "biases of a Linear layer from resnet18_d2l's feature size to 5 classes.",
    check=lambda a: frozen_trainable_parameters(a, "resnet18_d2l", num_classes=5),
    answer=frozen_head_answer,
)
EX4 = Exercise(
    "11.4", "Where does bfloat16 pay?", "open question",
    hint="Compute the ratio of the bf16 and float32 images per second for each network, and line the ratios up "
         "with the widths of the layers and the sizes of the feature maps.",
    outcome="the widest networks with the largest matrix multiplications gain the most from bf16; narrow, small "
            "networks gain little or even lose. On a CPU without bf16 units there may be no gain at all. Speeds "
            "on a shared machine are noisy: compare ratios from one run.",
    discussion="bfloat16 halves the bytes moved and, on hardware with bf16 units (recent GPUs, some CPUs), "
               "doubles the arithmetic throughput of matrix multiplications. That pays where the time goes into "
               "large convolutions and Linear layers; small layers are dominated by overheads (kernel launches, "
               "conversions, memory-bound element-wise work) that bf16 does not speed up. Training adds the "
               "backward pass, which has the same character, so the pattern usually repeats there.",
)
EX5 = Exercise(
    "11.5", "Another budget", "open question",
    hint="Epochs for a network = seconds budget x images per second / training images. For the structured "
         "pruning, look at the shape of the weight after prune.remove and count the rows that are all zero.",
    outcome="the fast networks (LeNet-sized) get many more epochs and gain; the slow ones lose; whether the top "
            "of the ranking changes is your observation. Structured pruning zeroes whole rows of the weight: "
            "half of the layer's 120 neurons.",
    discussion="An equal-epoch comparison favours slow networks: they get as many passes as the fast ones at a "
               "much higher cost. With equal time the cheap networks train longer and close part of the gap. "
               "Unstructured pruning leaves the weight matrix the same size with zeros scattered through it, which "
               "dense hardware still multiplies; ln_structured with dim=0 removes whole output neurons, so the "
               "layer can be rebuilt smaller (and the next layer's inputs cut), which saves real arithmetic.",
)
EX6 = Exercise(
    "11.6", "Transfer over seeds", "open question",
    hint="Loop over seeds, keeping everything else fixed; collect the final test accuracy of each way to "
         "transfer and print the mean and standard deviation of each.",
    outcome="a mean and a spread per way to transfer; only differences between means larger than the spreads "
            "mean anything, and with 200 images the spreads are wide.",
    discussion="With 200 training images the subset and the initialisation move the accuracy by several points, "
               "often as much as the difference between two ways to transfer. A single run per method ranks them "
               "by chance as often as by merit; three or more seeds, with the spread reported, show which "
               "differences are real (fine-tuning the whole network versus training a new head, typically).",
)
EX7 = Exercise(
    "11.7", "Write magnitude pruning", "code",
    hint="Rank all the weights of the tensor by absolute value at once (flatten it), find how many to prune "
         "with round, and set the mask to 0 at the indices of the smallest ones; torch.topk takes largest=False.",
    check=check_magnitude_mask,
    answer=lambda: magnitude_mask,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6, EX7)
