"""Exercise checks for notebook 06, batch normalization."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..inspect import count_params
from .verdict import Slip, Verdict, judge

# PyTorch's batch-norm layers (their common base class is private to torch).
TORCH_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def batch_norm_eval_output(answer: Any, x: float = 5.0, running_mean: float = 3.0, running_var: float = 4.0,
                           gamma: float = 3.0, beta: float = 0.5, eps: float = 1e-5) -> Verdict:
    """Exercise 06.1: what a one-feature ``nn.BatchNorm1d`` in eval mode outputs for the input ``x``.

    The layer's running statistics, ``gamma`` (its ``weight``) and ``beta`` (its ``bias``) are given.
    """
    bn = nn.BatchNorm1d(1, eps=eps)
    with torch.no_grad():
        bn.running_mean.fill_(running_mean)
        bn.running_var.fill_(running_var)
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
        expected = bn.eval()(torch.tensor([[float(x)]])).item()
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
