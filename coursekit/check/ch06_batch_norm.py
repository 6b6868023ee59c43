"""Exercise checks for notebook 06, batch normalization."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .code import Attempt, Mistake, judge_code, same_tensor
from .exercise import Exercise
from .verdict import Slip, Verdict, describe, judge

# PyTorch's batch-norm layers (their common base class is private to torch).
TORCH_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def batch_norm_eval_output(answer: Any, x: float = 5.0, running_mean: float = 3.0, running_var: float = 4.0,
                           gamma: float = 3.0, beta: float = 0.5, eps: float = 1e-5) -> Verdict:
    """Exercise 06.1: what a one-feature ``nn.BatchNorm1d`` in eval mode outputs for the input ``x``.

    The layer's running statistics, ``gamma`` (its ``weight``) and ``beta`` (its ``bias``) are given.
    """
    expected = eval_output(x, running_mean, running_var, gamma, beta, eps)
    std = (running_var + eps) ** 0.5
    return judge(
        answer, "float", expected,
        what="a float, the layer's output for x",
        right=f"{gamma:g} * ({x:g} - {running_mean:g}) / sqrt({running_var:g} + eps) + {beta:g} = {expected:.4g}. "
              "In eval mode the layer is a fixed affine map of its input, the same whatever batch the input "
              "comes in.",
        slips=[
            Slip(gamma * (x - running_mean) / (running_var + eps) + beta,
                 "You divided by the variance; divide by the standard deviation, sqrt(running_var + eps)."),
            Slip((x - running_mean) / std,
                 "That is the standardised value x_hat; the layer then scales it by gamma and shifts it by beta."),
            Slip(gamma * (x - running_mean) / std, "Almost: add the shift beta after scaling by gamma."),
            Slip((x - running_mean) / std + beta, "Almost: scale x_hat by gamma before adding beta."),
            Slip(beta, "You normalised x with its own statistics (a batch of one value has mean x and variance 0, "
                 "so x_hat = 0). In eval mode the layer uses its running mean and variance instead."),
            Slip(gamma * x / std + beta, "Subtract the running mean before dividing by the standard deviation."),
            Slip((gamma * x + beta - running_mean) / std,
                 "The order is reversed: standardise first, then scale by gamma and shift by beta."),
        ],
        otherwise="In eval mode y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta; or build "
                  "nn.BatchNorm1d(1), fill its running_mean, running_var, weight and bias, and call it on "
                  "torch.tensor([[x]]) after .eval().",
    )


def without_batch_norm(net: nn.Sequential) -> nn.Sequential:
    """``net`` with every batch-norm layer (ours or PyTorch's) replaced by ``nn.Identity``."""
    from ..models import BatchNorm

    return nn.Sequential(*[nn.Identity() if isinstance(m, (BatchNorm, *TORCH_BATCH_NORMS)) else m for m in net])


def bn_lenet_added_parameters(answer: Any) -> Verdict:
    """Exercise 06.2: how many learnable parameters the batch-norm layers add to d2l's BN-LeNet."""
    from ..models import bn_lenet, lenet

    net = bn_lenet()
    total = count_params(net).total
    expected = total - count_params(without_batch_norm(net)).total
    features = [m.num_features for m in net if isinstance(m, TORCH_BATCH_NORMS)]
    buffers = sum(b.numel() for b in net.buffers())
    # Per position instead of per channel: the size of every batch-norm layer's input.
    per_position, X = [], torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        for m in net.eval():
            if isinstance(m, TORCH_BATCH_NORMS):
                per_position.append(X[0].numel())
            X = m(X)
    counted_buffers = ("You counted the running mean and variance too. They are buffers, updated by averaging, "
                       "not by gradient descent: net.parameters() does not list them.")
    return judge(
        answer, "int", expected,
        what="an int, the learnable parameters of all batch-norm layers together",
        right=f"{expected} parameters, a gamma and a beta for each of the {sum(features)} channels and features "
              f"that are normalised ({' + '.join(map(str, features))}), a mere {expected / total:.1%} of the "
              "network.",
        slips=[
            Slip(expected // 2, "That counts one vector per channel; each layer learns two, the scale gamma and the "
                 "shift beta."),
            Slip(expected + 2 * sum(features), counted_buffers),
            Slip(expected + buffers, counted_buffers),
            Slip(2 * sum(per_position), "After a convolution, batch norm has one gamma and one beta per *channel*, "
                 "shared by all positions of that channel, not one per pixel."),
            Slip(total, "That is the whole BN-LeNet; subtract the parameters of the same network without its "
                 "batch-norm layers."),
            Slip(total - count_params(lenet()).total, "ck.models.lenet() pads its first convolution (28 -> 28), "
                 "BN-LeNet does not (28 -> 24), so their first fully connected layers differ (400 vs 256 inputs). "
                 "Compare BN-LeNet with itself minus the batch-norm layers, or count gamma and beta directly."),
        ],
        otherwise="Each batch-norm layer learns gamma and beta, one number each per channel (after a convolution) "
                  "or per feature (after a Linear layer).",
    )


def bn_lenet_buffers(answer: Any) -> Verdict:
    """Exercise 06.2: how many numbers the buffers of ``ck.models.bn_lenet()`` (PyTorch's batch norm) hold."""
    from ..models import bn_lenet

    net = bn_lenet()
    buffers = list(net.buffers())
    expected = sum(b.numel() for b in buffers)
    layers = sum(isinstance(m, TORCH_BATCH_NORMS) for m in net)
    stats = 2 * sum(m.num_features for m in net if isinstance(m, TORCH_BATCH_NORMS))
    total = count_params(net).total
    learnable = total - count_params(without_batch_norm(net)).total
    one_statistic = "Each layer keeps two statistics per channel, a running mean and a running variance."
    counted_parameters = "That counts the learnable parameters; buffers are what net.buffers() yields."
    return judge(
        answer, "int", expected,
        what="an int, the number of values in all the buffers together",
        right=f"{expected} values, a running mean and a running variance for each of the {stats // 2} normalised "
              f"channels and features ({stats}), plus one num_batches_tracked counter per layer ({layers}). Our "
              f"from-scratch BatchNorm has no counter: {stats} values.",
        slips=[
            Slip(stats, "Close: that is the running means and variances. nn.BatchNorm keeps one more buffer per "
                 "layer, num_batches_tracked; list them with net.named_buffers()."),
            Slip(len(buffers), "That is the number of buffer tensors; the question asks for the numbers in them "
                 "(sum b.numel() over net.buffers())."),
            Slip(stats // 2, one_statistic),
            Slip(stats // 2 + layers, one_statistic),
            Slip(total, counted_parameters),
            Slip(learnable, counted_parameters),
        ],
        otherwise="Sum b.numel() over net.buffers(): running_mean, running_var and num_batches_tracked of every "
                  "batch-norm layer.",
    )


def moving_mean_after(answer: Any, steps: int = 10, momentum: float = 0.1, batch_mean: float = 3.0) -> Verdict:
    """Exercise 06.3: a fresh layer's running mean after ``steps`` training batches, all of mean ``batch_mean``."""
    bn = nn.BatchNorm1d(1, momentum=momentum)
    batch = torch.tensor([[batch_mean - 1.0], [batch_mean + 1.0]])  # mean batch_mean
    with torch.no_grad():
        for _ in range(steps):
            bn(batch)
    expected = bn.running_mean.item()
    keep = (1 - momentum) ** steps
    return judge(
        answer, "float", expected,
        what="a float, the running mean after the last batch",
        right=f"{batch_mean:g} * (1 - (1 - {momentum:g})^{steps}) = {expected:.4g}. The starting value 0 still has "
              f"weight {keep:.3f}; it takes about {round(3 / momentum)} batches (3 / momentum) before it falls "
              "below 5%.",
        slips=[
            Slip(batch_mean, f"That is where the average is heading, not where it is after {steps} steps (the "
                 f"starting 0 still has weight (1 - momentum)^steps = {keep:.3f}). If you used 0.9 as the weight "
                 "of the new batch, that is the old d2l convention: in PyTorch momentum is the weight of the new "
                 "batch."),
            Slip(batch_mean * keep, f"That is {batch_mean:g} * (1 - momentum)^steps: the weight left on the *start*; "
                 "the running mean has the rest, 1 - (1 - momentum)^steps."),
            Slip(batch_mean * momentum, "That is the running mean after one batch; apply the update once per batch."),
            Slip(batch_mean * momentum * steps, "The update is not additive: each step moves the average a fraction "
                 "momentum of the *remaining* distance to the batch mean, so the steps shrink."),
        ],
        otherwise=f"Apply running = (1 - momentum) * running + momentum * batch_mean {steps} times, starting "
                  "from 0.",
    )


def bn_lenet_costs(answer: Any) -> Verdict:
    """Exercise 06.2: ``(parameters, buffer_values)``, the learnable parameters the batch-norm layers add to
    ``ck.models.bn_lenet()`` and the numbers all its buffers hold; one line for both."""
    if answer is None or (isinstance(answer, (tuple, list)) and any(a is None for a in answer)):
        verdict = Verdict(None, "not answered yet: replace None with (parameters, buffer values), two ints, and "
                                "run the cell again.")
    elif not isinstance(answer, (tuple, list)) or len(answer) != 2:
        verdict = Verdict(False, f"Give two ints, (parameters, buffer values); you gave {describe(answer)}.")
    else:
        with contextlib.redirect_stdout(io.StringIO()):  # one line for the two checks
            parts = bn_lenet_added_parameters(answer[0]), bn_lenet_buffers(answer[1])
        if all(parts):
            verdict = Verdict(True, "Right: " + " Buffers: ".join(p.message.removeprefix("Right: ") for p in parts))
        else:
            which = ("The parameters" if not parts[0] else "The buffers") + ": "
            wrong = parts[0] if not parts[0] else parts[1]
            verdict = Verdict(False, which + wrong.message)
    print(verdict.line)
    return verdict


def bn_lenet_costs_answer() -> tuple[int, int]:
    """The right answer of 06.2, counted on ``ck.models.bn_lenet()``."""
    from ..models import bn_lenet

    net = bn_lenet()
    added = count_params(net).total - count_params(without_batch_norm(net)).total
    return added, sum(b.numel() for b in net.buffers())


def eval_output(x: float = 5.0, running_mean: float = 3.0, running_var: float = 4.0, gamma: float = 3.0,
                beta: float = 0.5, eps: float = 1e-5) -> float:
    """What a one-feature ``nn.BatchNorm1d`` with these statistics and parameters outputs for ``x`` in eval mode."""
    bn = nn.BatchNorm1d(1, eps=eps)
    with torch.no_grad():
        bn.running_mean.fill_(running_mean)
        bn.running_var.fill_(running_var)
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
        return bn.eval()(torch.tensor([[float(x)]])).item()


# 06.3 asks about other settings than the notebook's table (momentum 0.1 and mean 3), so its answer is not on screen.
MOMENTUM_SETTINGS = dict(steps=20, momentum=0.05, batch_mean=-2.0)


def running_mean_after(steps: int, momentum: float, batch_mean: float) -> float:
    """A fresh ``nn.BatchNorm1d``'s running mean after ``steps`` training batches of mean ``batch_mean``."""
    bn = nn.BatchNorm1d(1, momentum=momentum)
    with torch.no_grad():
        for _ in range(steps):
            bn(torch.tensor([[batch_mean - 1.0], [batch_mean + 1.0]]))
    return bn.running_mean.item()


# --- 06.6: write batch norm's forward pass from a layer's state --------------------------------------


def batch_norm_forward(X: torch.Tensor, bn: nn.BatchNorm1d | nn.BatchNorm2d) -> torch.Tensor:
    """What ``bn(X)`` returns, computed from the layer's state; in training mode it also updates the running
    statistics in place, as PyTorch does. ``X``: (N, C) or (N, C, H, W)."""
    dims = [d for d in range(X.dim()) if d != 1]          # every axis but the channels
    shape = [1, -1] + [1] * (X.dim() - 2)                 # (1, C) or (1, C, 1, 1), to broadcast
    if bn.training:
        mean = X.mean(dim=dims)
        var = X.var(dim=dims, correction=0)               # normalise with the batch's own variance
        n = X.numel() // X.shape[1]
        with torch.no_grad():                             # the running variance gets the unbiased estimate
            bn.running_mean.mul_(1 - bn.momentum).add_(bn.momentum * mean)
            bn.running_var.mul_(1 - bn.momentum).add_(bn.momentum * var * n / (n - 1))
    else:
        mean, var = bn.running_mean, bn.running_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + bn.eps)
    return bn.weight.reshape(shape) * X_hat + bn.bias.reshape(shape)


def _bn_trials() -> list[tuple[torch.Tensor, nn.Module]]:
    """Fresh (X, layer) pairs for each check, since a right answer updates the layer: training mode on (N, C)
    and (N, C, H, W), then eval mode with running statistics far from the batch's."""
    g = torch.Generator().manual_seed(0)
    trials = []
    for shape, training in [((8, 3), True), ((4, 3, 5, 5), True), ((4, 3, 5, 5), False), ((6, 3), False)]:
        bn = nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)
        with torch.no_grad():
            bn.weight.copy_(1 + torch.rand(3, generator=g))
            bn.bias.copy_(torch.randn(3, generator=g))
            bn.running_mean.copy_(torch.randn(3, generator=g))
            bn.running_var.copy_(0.5 + torch.rand(3, generator=g))
        trials.append((3 + 2 * torch.randn(*shape, generator=g), bn.train(training)))
    return trials


def _reference_state(X: torch.Tensor, bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reference's output and the running statistics it leaves, on a copy of the layer."""
    layer = copy.deepcopy(bn)
    with torch.no_grad():
        Y = batch_norm_forward(X, layer)
    return Y, layer.running_mean, layer.running_var


def _same_batch_norm(got: Any, expected: tuple, args: tuple) -> str | None:
    Y, running_mean, running_var = expected
    difference = same_tensor(got, Y, args)
    if difference is not None:
        return difference.replace("the result", "the output")
    bn = args[1]
    if not (torch.allclose(bn.running_mean, running_mean, atol=1e-5)
            and torch.allclose(bn.running_var, running_var, atol=1e-5)):
        return "the output is right but the layer's running statistics are not what PyTorch leaves"
    return None


def _standardised(X: torch.Tensor, bn: nn.Module, *, correction: int = 0, dims: list[int] | None = None,
                  affine: bool = True) -> torch.Tensor:
    """``X`` normalised with its own batch statistics (a variant for the detectors)."""
    dims = dims if dims is not None else _channel_dims(X)
    shape = [1, -1] + [1] * (X.dim() - 2)
    X_hat = (X - X.mean(dim=dims, keepdim=True)) / torch.sqrt(X.var(dim=dims, keepdim=True, correction=correction)
                                                             + bn.eps)
    return bn.weight.reshape(shape) * X_hat + bn.bias.reshape(shape) if affine else X_hat


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.detach(), b, atol=1e-4)


def _fresh(a: Attempt) -> nn.Module:
    """The layer of the attempt's trial as it was before the learner's call."""
    return next(bn for X, bn in _bn_trials() if torch.equal(X, a.args[0]))


def _right_output(a: Attempt) -> bool:
    return _close(a.got, a.expected[0])


def _channel_dims(X: torch.Tensor) -> list[int]:
    return [d for d in range(X.dim()) if d != 1]


def check_batch_norm_forward(answer: Any) -> Verdict:
    """Exercise 06.6: the learner's ``batch_norm_forward(X, bn)``, in training mode and in eval mode."""
    return judge_code(
        answer, _reference_state, _bn_trials(),
        what="your function batch_norm_forward(X, bn)",
        compare=_same_batch_norm,
        right="in training mode the batch's mean and biased variance over every axis but the channels, a running "
              "variance fed the unbiased estimate; in eval mode the running statistics, untouched. Both then scale "
              "by gamma and shift by beta.",
        mistakes=[
            Mistake(lambda a: not a.args[1].training and _close(a.got, _standardised(a.args[0], a.args[1])),
                    "In eval mode (bn.training is False) the layer uses its running mean and variance, not the "
                    "batch's statistics: that is batch norm left in training mode at evaluation."),
            Mistake(lambda a: a.args[1].training and _close(a.got, _standardised(a.args[0], a.args[1], correction=1)),
                    "You normalised with the unbiased variance (dividing by n - 1). The output uses the batch's own "
                    "variance, correction=0; only the running variance gets the unbiased estimate."),
            Mistake(lambda a: a.args[1].training and a.got.dim() == 4
                    and _close(a.got, _standardised(a.args[0], a.args[1], dims=[0])),
                    "After a convolution one channel has one mean and one variance, taken over the batch *and* "
                    "all positions: reduce over dims (0, 2, 3), not over the batch alone."),
            Mistake(lambda a: _close(a.got, _standardised(a.args[0], a.args[1], affine=False)),
                    "That is x_hat: the layer then scales it by bn.weight (gamma) and shifts it by bn.bias (beta)."),
            Mistake(lambda a: _right_output(a) and a.args[1].training and torch.allclose(a.args[1].running_var, (1 - a.args[1].momentum)
                    * _fresh(a).running_var + a.args[1].momentum * a.args[0].var(dim=_channel_dims(a.args[0]),
                                                                                 correction=0), atol=1e-5),
                    "The running mean is right, but the running variance is fed the unbiased estimate, the "
                    "batch's variance times n / (n - 1): it estimates the variance of the whole data set."),
            Mistake(lambda a: _right_output(a) and a.args[1].training and torch.equal(
                a.args[1].running_mean, _fresh(a).running_mean),
                    "In training mode the layer also updates bn.running_mean and bn.running_var in place "
                    "(under torch.no_grad()), with weight bn.momentum on the new batch."),
            Mistake(lambda a: _right_output(a) and a.args[1].training and torch.allclose(a.args[1].running_mean, a.args[1].momentum
                    * _fresh(a).running_mean + (1 - a.args[1].momentum) * a.args[0].mean(dim=_channel_dims(a.args[0])),
                    atol=1e-5),
                    "In PyTorch momentum is the weight of the *new* batch: running = (1 - momentum) * running + "
                    "momentum * batch statistic (the old d2l code's 0.9 was the weight of the old average)."),
            Mistake(lambda a: _right_output(a) and not a.args[1].training
                    and not torch.equal(a.args[1].running_mean, _fresh(a).running_mean),
                    "In eval mode the running statistics stay as they are; update them in training mode only."),
        ],
        otherwise="Compare with the layer itself: copy.deepcopy(bn)(X), and its running_mean and running_var after.",
    )


EX1 = Exercise(
    "06.1", "An evaluation-mode output", "number",
    hint="In evaluation mode the layer standardises x with its running statistics (mind the square root), then "
         "scales by gamma and shifts by beta. In training mode, think about the mean and variance of a batch of "
         "one value.",
    check=batch_norm_eval_output,
    answer=eval_output,
    discussion="In training mode the single input is its own batch: mean x, variance 0, so x_hat = 0 and the "
               "output is beta whatever x is (and nn.BatchNorm1d refuses to train on a batch of one value: "
               "'Expected more than 1 value per channel').",
)
EX2 = Exercise(
    "06.2", "What batch normalization costs", "number",
    hint="Learnable: a gamma and a beta per normalised channel or feature. Buffers: list them with "
         "net.named_buffers() and count the values in each; nn.BatchNorm keeps more than the two statistics.",
    check=bn_lenet_costs,
    answer=bn_lenet_costs_answer,
)
EX3 = Exercise(
    "06.3", "Momentum", "number",
    hint="After k batches of mean mu, starting from 0, the running mean is mu * (1 - (1 - m)^k); here m is the "
         "momentum you pass to nn.BatchNorm1d, not the default.",
    check=lambda a: moving_mean_after(a, **MOMENTUM_SETTINGS),
    answer=lambda: running_mean_after(**MOMENTUM_SETTINGS),
    outcome="a running mean still well short of the batches' mean. For the second part: a momentum near one over "
            "the number of batches to average over. Whether exact averages change the test accuracy is one "
            "observation per run: compare it with the spread between seeds.",
    discussion="An exponential average with weight m on the new batch gives the batch k steps back the weight "
               "m(1 - m)^k: it averages over roughly the last 1/m batches, so about a thousand batches need "
               "m = 0.001. Exact averages (momentum=None, reset_running_stats(), one pass over the training set in "
               "training mode under torch.no_grad()) remove the lag of the moving averages behind the last "
               "weights; after a run that ends with small steps the lag is small and so is the change in accuracy.",
)
EX4 = Exercise(
    "06.4", "Larger learning rates", "open question",
    hint="Keep everything but the learning rate fixed, and look at the training loss of the first epoch as well "
         "as the final accuracy; a loss of nan means the run diverged.",
    outcome="LeNet stops learning (a flat or nan loss) at a smaller learning rate than BN-LeNet, which still "
            "learns at rates where LeNet fails. One run per setting is a single observation.",
    discussion="Batch normalization makes each layer's output invariant to the scale of the weights in front of "
               "it: a large step that inflates the weights cannot inflate the activations, and as the weights "
               "grow the same gradient step changes them relatively less, so the effective step size tunes "
               "itself. That is the 'larger learning rates' effect; the smoother loss surface of Santurkar et al. "
               "points the same way. Without normalization, a large step blows the activations up layer after "
               "layer and the loss diverges.",
)
EX5 = Exercise(
    "06.5", "Layer norm instead of batch norm", "open question",
    hint="Build the network with nn.GroupNorm(1, C) and nn.LayerNorm(n) where BN-LeNet has its batch norms, then "
         "compare net.train()(X) and net.eval()(X) on one batch.",
    outcome="training and evaluation mode give identical outputs (no running statistics, no batch dependence). "
            "Whether it converges as fast as BN-LeNet is an experiment: compare the curves over a few seeds.",
    discussion="Layer (and group) normalization standardise each example over its own features, so a batch of one "
               "is fine and there is nothing to switch at evaluation. It loses batch norm's regularising noise and "
               "normalises all channels of an example together, which on small CNNs often trains a little slower "
               "than batch norm; in Transformers, where batch statistics are awkward, it is the standard.",
)
EX6 = Exercise(
    "06.6", "Write batch norm's forward pass", "code",
    hint="Reduce over every axis except dim 1. In training mode use the batch's statistics and update "
         "bn.running_mean and bn.running_var in place under torch.no_grad(), with weight bn.momentum on the new "
         "batch; in eval mode use the running statistics. Which variance goes where is explained above.",
    check=check_batch_norm_forward,
    answer=lambda: batch_norm_forward,
)
EXERCISES = (EX1, EX2, EX3, EX4, EX5, EX6)
