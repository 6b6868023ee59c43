"""Weight initialisation: d2l's Xavier, or He's for deep ReLU networks (used by :func:`coursekit.fit`)."""

from __future__ import annotations

import math

import torch
from torch import nn

INITS = ("xavier", "kaiming")


def has_lazy(net: nn.Module) -> bool:
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters())


def init_weights(net: nn.Module, example: torch.Tensor | None = None, method: str = "xavier") -> None:
    """Re-initialise every Linear and Conv weight: ``'xavier'`` (uniform, as d2l does) or ``'kaiming'``.

    Kaiming (He) normal init, fan-in, keeps the activations' variance through
    ReLU layers, where Xavier's halves it at every layer; deep ReLU nets
    without BatchNorm (NiN, plain VGG) may need it to start learning.
    Biases are drawn again too (from PyTorch's default range with Xavier,
    zeros with Kaiming), so that after seeding the whole network depends on
    the seed alone, not on how it was built.
    Lazy modules have no weights until they see data; pass ``example`` (one
    batch) and they are materialised with a forward pass first, instead of
    being silently skipped.
    """
    if method not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {method!r}.")
    if has_lazy(net):
        if example is None:
            raise ValueError("net has lazy layers: pass an example batch so their shapes can be inferred.")
        with torch.no_grad():
            net(example)
    for module in net.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            if method == "xavier":
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    bound = 1 / math.sqrt(module.weight[0].numel())  # nn.Linear's and nn.Conv2d's own default
                    nn.init.uniform_(module.bias, -bound, bound)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
