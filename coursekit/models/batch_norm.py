"""Batch normalization from scratch, and LeNet with it.

During training a batch-norm layer standardises every channel with the mean
and variance of the current minibatch, then rescales it with a learned
``gamma`` and shifts it with a learned ``beta``. It also keeps moving averages
of those statistics, which replace the batch statistics at evaluation time,
when there may be no batch to speak of.

Two details make the scratch version below equal to ``nn.BatchNorm1d/2d`` to
float precision (``tests/models/test_batch_norm.py`` checks it):

* Momentum follows PyTorch: ``moving = (1 - momentum) * moving + momentum *
  batch`` with ``momentum=0.1``. (Older d2l code writes the same update with
  ``momentum=0.9`` on the other term.)
* The output uses the *biased* batch variance (divide by n), but the moving
  variance is updated with the *unbiased* one (divide by n - 1), an estimate of
  the population variance.

Unlike d2l's lecture version, the moving statistics are registered buffers, so
``net.to(device)`` moves them and ``net.state_dict()`` saves them, and the
mode is ``module.training`` (``net.train()`` / ``net.eval()``), not whether
autograd happens to be on.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_input


def batch_norm(X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
               moving_mean: torch.Tensor, moving_var: torch.Tensor, *, training: bool,
               momentum: float = 0.1, eps: float = 1e-5,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normalise ``X`` per channel; return ``(Y, new_moving_mean, new_moving_var)``.

    ``X`` is ``(N, C)`` (after a fully connected layer) or ``(N, C, H, W)``
    (after a convolution); ``gamma``, ``beta`` and the moving statistics are
    shaped ``(1, C)`` or ``(1, C, 1, 1)`` so they broadcast against it. ``Y``
    has the shape of ``X``. In training mode the statistics come from the batch
    and the returned moving averages are updated (and detached from the graph);
    in evaluation mode the moving averages are used and returned unchanged.
    """
    if not training:
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
        return gamma * X_hat + beta, moving_mean, moving_var
    # A channel's statistics pool over the batch and, for images, over every
    # position: lay each channel out as one row, (N, C) -> (C, N) and
    # (N, C, H, W) -> (C, N*H*W). This avoids branching on X's rank, which
    # torch.fx could not trace.
    per_channel = X.transpose(0, 1).flatten(1)
    mean = per_channel.mean(dim=1).view_as(moving_mean)
    var = per_channel.var(dim=1, correction=0).view_as(moving_var)
    X_hat = (X - mean) / torch.sqrt(var + eps)
    unbiased_var = per_channel.var(dim=1, correction=1).view_as(moving_var)
    new_mean = (1.0 - momentum) * moving_mean + momentum * mean.detach()
    new_var = (1.0 - momentum) * moving_var + momentum * unbiased_var.detach()
    return gamma * X_hat + beta, new_mean, new_var


def _check_input(module: "BatchNorm", args: tuple) -> None:
    """Forward pre-hook of :class:`BatchNorm`: a rank that matches ``num_dims``, and statistics to take."""
    X = args[0] if args else None
    if not isinstance(X, torch.Tensor):
        return  # a tracer's placeholder (torch.fx Proxy) has no shape to check
    name = f"BatchNorm(num_features={module.num_features}, num_dims={module.num_dims})"
    if X.dim() != module.num_dims:
        kind = "(N, C)" if module.num_dims == 2 else "(N, C, H, W)"
        raise ValueError(
            f"{name} expects a {module.num_dims}-D input {kind}, got shape {tuple(X.shape)}. "
            f"Use num_dims=2 after a fully connected layer and num_dims=4 after a convolution.")
    if module.training and X.numel() == X.shape[1]:
        # One value per channel has no variance (and no unbiased estimate of it).
        raise ValueError(
            f"{name} needs more than one value per channel in training mode, got shape "
            f"{tuple(X.shape)}. Train on batches of 2 or more, or call net.eval() to predict.")


class BatchNorm(nn.Module):
    """Batch normalization for fully connected (``num_dims=2``) or conv (``num_dims=4``) layers.

    Input ``(N, num_features)`` or ``(N, num_features, H, W)`` -> output of the
    same shape. Parameters ``gamma`` (init 1) and ``beta`` (init 0); buffers
    ``moving_mean`` (init 0) and ``moving_var`` (init 1). Numerically the same
    as ``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` with the same ``momentum`` and ``eps``.
    """

    def __init__(self, num_features: int, num_dims: int, momentum: float = 0.1,
                 eps: float = 1e-5) -> None:
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (fully connected) or 4 (convolutional), "
                             f"got {num_dims!r}.")
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.num_features = num_features
        self.num_dims = num_dims
        self.momentum = momentum
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))
        self.register_forward_pre_hook(_check_input)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            training=self.training, momentum=self.momentum, eps=self.eps)
        if self.training:
            # In place, so the buffers stay the registered tensors (and torch.fx can trace it).
            self.moving_mean.copy_(moving_mean)
            self.moving_var.copy_(moving_var)
        return Y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, num_dims={self.num_dims}, "
                f"momentum={self.momentum}, eps={self.eps}")


def bn_lenet_scratch(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """d2l's LeNet with the from-scratch :class:`BatchNorm` after every conv and hidden layer.

    As in d2l the first convolution is unpadded: 28 -> 24 -> pool 12 -> 8 ->
    pool 4, so the first fully connected layer sees 16 * 4 * 4 = 256 features.
    Input ``(N, in_channels, 28, 28)`` -> logits ``(N, num_classes)``.
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
        nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )
    return check_input(net, "bn_lenet_scratch", in_channels, size=28)


def bn_lenet(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """:func:`bn_lenet_scratch` with PyTorch's ``nn.BatchNorm2d`` / ``nn.BatchNorm1d``.

    Input ``(N, in_channels, 28, 28)`` -> logits ``(N, num_classes)``.
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )
    return check_input(net, "bn_lenet", in_channels, size=28)
