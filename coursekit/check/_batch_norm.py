"""Exercise checks for chapter 06 batch normalization."""

from __future__ import annotations

from torch import nn

from ._verdicts import _count, _number, _unanswered, _verdict

__all__: list[str] = [
    "batch_norm_eval_output",
    "bn_lenet_added_parameters",
    "bn_lenet_buffers",
    "moving_mean_after",
]


def _close(answer: float, value: float, tol: float = 5e-3) -> bool:
    """Equal up to rounding to two or three significant decimals."""
    return abs(answer - value) <= tol * max(1.0, abs(value))



def batch_norm_eval_output(answer: float | None, x: float = 5.0, running_mean: float = 3.0,
                           running_var: float = 4.0, gamma: float = 3.0, beta: float = 0.5,
                           eps: float = 1e-5) -> bool:
    """Exercise 06.1: what a one-feature ``nn.BatchNorm1d`` in eval mode outputs for the input ``x``.

    The layer's running statistics, ``gamma`` (its ``weight``) and ``beta`` (its ``bias``) are given.
    """
    if _unanswered(answer, "a float, the layer's output for x"):
        return False
    if (answer := _number(answer, "the output")) is None:
        return False
    import torch

    bn = nn.BatchNorm1d(1, eps=eps)
    with torch.no_grad():
        bn.running_mean.fill_(running_mean)
        bn.running_var.fill_(running_var)
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
        expected = bn.eval()(torch.tensor([[float(x)]])).item()
    std = (running_var + eps) ** 0.5
    if _close(answer, expected):
        return _verdict(True, f"Right: {gamma:g} * ({x:g} - {running_mean:g}) / sqrt({running_var:g} + eps) + "
                        f"{beta:g} = {expected:.4g}. In eval mode the layer is a fixed affine map of its input, "
                        "the same whatever batch the input comes in.")
    slips = [
        (gamma * (x - running_mean) / (running_var + eps) + beta,
         "You divided by the variance; divide by the standard deviation, sqrt(running_var + eps)."),
        ((x - running_mean) / std,
         "That is the standardised value x_hat; the layer then scales it by gamma and shifts it by beta."),
        (gamma * (x - running_mean) / std,
         "Almost: add the shift beta after scaling by gamma."),
        ((x - running_mean) / std + beta,
         "Almost: scale x_hat by gamma before adding beta."),
        (beta,
         "You normalised x with its own statistics (a batch of one value has mean x and variance 0, so x_hat = 0). "
         "In eval mode the layer uses its running mean and variance instead."),
        (gamma * x / std + beta,
         "Subtract the running mean before dividing by the standard deviation."),
        ((gamma * x + beta - running_mean) / std,
         "The order is reversed: standardise first, then scale by gamma and shift by beta."),
    ]
    for value, hint in slips:
        if _close(answer, value):
            return _verdict(False, hint)
    return _verdict(False, f"Not quite (you said {answer:g}). In eval mode y = gamma * (x - running_mean) / "
                    "sqrt(running_var + eps) + beta; or build nn.BatchNorm1d(1), fill its running_mean, "
                    "running_var, weight and bias, and call it on torch.tensor([[x]]) after .eval().")


def _without_batch_norm(net: nn.Sequential) -> nn.Sequential:
    """``net`` with every batch-norm layer (ours or PyTorch's) replaced by ``nn.Identity``."""
    from ..models import BatchNorm

    return nn.Sequential(*[nn.Identity() if isinstance(m, (BatchNorm, nn.modules.batchnorm._BatchNorm)) else m
                           for m in net])


def bn_lenet_added_parameters(answer: int | None) -> bool:
    """Exercise 06.2: how many learnable parameters the batch-norm layers add to d2l's BN-LeNet."""
    if _unanswered(answer, "an int, the learnable parameters of all batch-norm layers together"):
        return False
    import torch

    from ..models import bn_lenet, lenet

    net = bn_lenet()
    plain = _without_batch_norm(net)
    expected = _count(net) - _count(plain)
    norms = [m for m in net if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    buffers = sum(b.numel() for b in net.buffers())
    # Per position instead of per channel: the shape of every batch-norm layer's input.
    sizes, X = [], torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        for m in net.eval():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                sizes.append(X[0].numel())
            X = m(X)
    if answer == expected:
        return _verdict(True, f"Right: {expected} parameters, a gamma and a beta for each of the "
                        f"{sum(m.num_features for m in norms)} channels and features that are normalised "
                        f"({' + '.join(str(m.num_features) for m in norms)}), a mere "
                        f"{expected / _count(net):.1%} of the network.")
    if answer == expected // 2:
        return _verdict(False, "That counts one vector per channel; each layer learns two, the scale gamma and the "
                        "shift beta.")
    if answer in (expected + 2 * sum(m.num_features for m in norms), expected + buffers):
        return _verdict(False, "You counted the running mean and variance too. They are buffers, updated by "
                        "averaging, not by gradient descent: net.parameters() does not list them.")
    if answer == 2 * sum(sizes):
        return _verdict(False, "After a convolution, batch norm has one gamma and one beta per *channel*, shared by "
                        "all positions of that channel, not one per pixel.")
    if answer == _count(net):
        return _verdict(False, "That is the whole BN-LeNet; subtract the parameters of the same network without "
                        "its batch-norm layers.")
    if answer == _count(net) - _count(lenet()):
        return _verdict(False, "ck.models.lenet() pads its first convolution (28 -> 28), BN-LeNet does not "
                        "(28 -> 24), so their first fully connected layers differ (400 vs 256 inputs). Compare "
                        "BN-LeNet with itself minus the batch-norm layers, or count gamma and beta directly.")
    return _verdict(False, f"Not quite (you said {answer:,}). Each batch-norm layer learns gamma and beta, one "
                    "number each per channel (after a convolution) or per feature (after a Linear layer).")


def bn_lenet_buffers(answer: int | None) -> bool:
    """Exercise 06.2: how many numbers the buffers of ``ck.models.bn_lenet()`` (PyTorch's batch norm) hold."""
    if _unanswered(answer, "an int, the number of values in all the buffers together"):
        return False
    from ..models import bn_lenet

    net = bn_lenet()
    buffers = list(net.buffers())
    expected = sum(b.numel() for b in buffers)
    norms = [m for m in net if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    stats = 2 * sum(m.num_features for m in norms)
    if answer == expected:
        return _verdict(True, f"Right: {expected} values, a running mean and a running variance for each of the "
                        f"{stats // 2} normalised channels and features ({stats}), plus one num_batches_tracked "
                        f"counter per layer ({len(norms)}). Our from-scratch BatchNorm has no counter: "
                        f"{stats} values.")
    if answer == stats:
        return _verdict(False, "Close: that is the running means and variances. nn.BatchNorm keeps one more buffer "
                        "per layer, num_batches_tracked; list them with net.named_buffers().")
    if answer == len(buffers):
        return _verdict(False, "That is the number of buffer tensors; the question asks for the numbers in them "
                        "(sum b.numel() over net.buffers()).")
    if answer == stats // 2 or answer == stats // 2 + len(norms):
        return _verdict(False, "Each layer keeps two statistics per channel, a running mean and a running variance.")
    if answer in (_count(net), _count(net) - _count(_without_batch_norm(net))):
        return _verdict(False, "That counts the learnable parameters; buffers are what net.buffers() yields.")
    return _verdict(False, f"Not quite (you said {answer:,}). Sum b.numel() over net.buffers(): running_mean, "
                    "running_var and num_batches_tracked of every batch-norm layer.")


def moving_mean_after(answer: float | None, steps: int = 10, momentum: float = 0.1,
                      batch_mean: float = 3.0) -> bool:
    """Exercise 06.3: a fresh layer's running mean after ``steps`` training batches, all of mean ``batch_mean``."""
    if _unanswered(answer, "a float, the running mean after the last batch"):
        return False
    if (answer := _number(answer, "the running mean")) is None:
        return False
    import torch

    bn = nn.BatchNorm1d(1, momentum=momentum)
    batch = torch.tensor([[batch_mean - 1.0], [batch_mean + 1.0]])  # mean batch_mean
    with torch.no_grad():
        for _ in range(steps):
            bn(batch)
    expected = bn.running_mean.item()
    keep = (1 - momentum) ** steps
    if _close(answer, expected):
        return _verdict(True, f"Right: {batch_mean:g} * (1 - (1 - {momentum:g})^{steps}) = {expected:.4g}. The "
                        f"starting value 0 still has weight {keep:.3f}; it takes about {round(3 / momentum)} "
                        f"batches (3 / momentum) before it falls below 5%.")
    if _close(answer, batch_mean):
        return _verdict(False, f"That is where the average is heading, not where it is after {steps} steps "
                        f"(the starting 0 still has weight (1 - momentum)^steps = {keep:.3f}). If you used 0.9 as "
                        "the weight of the new batch, that is the old d2l convention: in PyTorch momentum is the "
                        "weight of the new batch.")
    if _close(answer, batch_mean * keep):
        return _verdict(False, f"That is {batch_mean:g} * (1 - momentum)^steps: the weight left on the *start*; the "
                        "running mean has the rest, 1 - (1 - momentum)^steps.")
    if _close(answer, batch_mean * momentum):
        return _verdict(False, "That is the running mean after one batch; apply the update once per batch.")
    if _close(answer, batch_mean * momentum * steps):
        return _verdict(False, "The update is not additive: each step moves the average a fraction momentum of the "
                        "*remaining* distance to the batch mean, so the steps shrink.")
    return _verdict(False, f"Not quite (you said {answer:g}). Apply running = (1 - momentum) * running + momentum * "
                    f"batch_mean {steps} times, starting from 0.")
