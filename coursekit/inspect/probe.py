"""What every instrument does before and around its forward pass.

Each instrument runs ``net`` once on a *probe*: a batch of zeros of the size
the caller gives, on the network's device and in its dtype, with the network
in evaluation mode. These helpers do that the same way for all of them.

``input_size`` is always the size of the input *batch*, as in torchinfo:
``(N, C, H, W)``, or ``(C, H, W)`` for a batch of one, or ``(N, features)``
for a network that takes flat vectors (where the instrument allows it).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

# 2**27 values: 512 MiB of float32, far above any input of the course (64 x 3 x 224 x 224 is 9.6 million).
MAX_PROBE_VALUES = 2**27

__all__ = ["check_initialized", "check_module", "eval_mode", "is_lazy", "normalize_input_size", "output_shape_of",
           "probe_tensor"]


def check_module(net: Any, what: str) -> None:
    """Raise ``TypeError`` unless ``net`` is an ``nn.Module``; ``what`` names the caller.

    The usual slip is passing the function that builds a model (``lenet``)
    instead of the model (``lenet()``): the message says so.
    """
    if isinstance(net, nn.Module):
        return
    name = getattr(net, "__name__", None)
    if callable(net) and name:
        raise TypeError(f"{what} needs a model, got the function {name}: call it to build one, {name}().")
    raise TypeError(f"{what} needs a model (a torch.nn.Module), got {type(net).__name__}.")


def normalize_input_size(input_size: Any, *, spatial: bool) -> tuple[int, ...]:
    """Return ``input_size`` as a tuple with the batch dimension first.

    ``(C, H, W)`` gets a batch of one: ``(1, C, H, W)``. ``(N, features)`` is
    only accepted when ``spatial`` is false. Anything else (a tensor, zeros,
    floats, the wrong number of dimensions) raises ``ValueError``.
    """
    if isinstance(input_size, torch.Tensor):
        raise ValueError(
            "input_size is the *size* of the input batch, e.g. (1, 1, 28, 28), "
            f"not a tensor; use input_size=tuple(x.shape) (got a tensor of shape {tuple(input_size.shape)})."
        )
    if not isinstance(input_size, (tuple, list, torch.Size)) or len(input_size) == 0:
        raise ValueError(
            f"input_size must be a tuple like (1, 1, 28, 28) (N, C, H, W) or (1, 28, 28) "
            f"(C, H, W); got {input_size!r}."
        )
    dims = []
    for d in input_size:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(
                f"input_size must contain positive integers, e.g. (1, 1, 28, 28); got {tuple(input_size)!r}."
            )
        dims.append(int(d))
    if math.prod(dims) > MAX_PROBE_VALUES:
        raise ValueError(
            f"input_size {tuple(dims)!r} is {math.prod(dims):,} values ({math.prod(dims) * 4 / 2**30:.1f} GiB as float32), "
            f"more than the {MAX_PROBE_VALUES:,} an instrument probes with; the course's networks take at most "
            "(N, 3, 224, 224): use a smaller input."
        )
    if len(dims) == 3:
        return (1, *dims)
    if len(dims) == 4:
        return tuple(dims)
    if len(dims) == 2 and not spatial:
        return tuple(dims)
    wanted = "(N, C, H, W) or (C, H, W)" if spatial else "(N, C, H, W), (C, H, W) or (N, features)"
    raise ValueError(f"input_size must be {wanted}; got {tuple(dims)!r} ({len(dims)} numbers).")


def probe_tensor(net: nn.Module, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of ``shape`` on the device and with the floating dtype of ``net``'s parameters.

    A network without (initialised) parameters gets the CPU and the default dtype.
    """
    device, dtype = torch.device("cpu"), torch.get_default_dtype()
    for p in net.parameters():
        if isinstance(p, nn.parameter.UninitializedParameter):
            continue
        device = p.device
        if p.is_floating_point():
            dtype = p.dtype
        break
    return torch.zeros(tuple(shape), device=device, dtype=dtype)


@contextlib.contextmanager
def eval_mode(net: nn.Module) -> Iterator[None]:
    """Put every module in eval mode, then restore each module's own mode.

    Eval mode because a probe must not change the model (BatchNorm would update
    its running statistics in training mode) and must work with a batch of one
    (BatchNorm in training mode refuses a single value per channel). Each
    module's mode is restored, not just the network's, because a learner may
    have put some layers in a different mode on purpose.
    """
    modes = [(m, m.training) for m in net.modules()]
    net.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def output_shape_of(out: Any) -> Any:
    """What a module returned, as shapes: a tensor -> a tuple, several tensors -> a list of those.

    Anything else is described by its type name (never its ``repr``, which may
    hold a memory address).
    """
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (list, tuple)):
        return [output_shape_of(o) for o in out]
    return type(out).__name__


def is_lazy(net: nn.Module) -> bool:
    """True if some parameter of ``net`` is not initialised yet (a lazy layer that has not run)."""
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters())


def check_initialized(net: nn.Module, what: str) -> None:
    """Raise ``ValueError`` naming the first lazy parameter of ``net``; ``what`` names the caller."""
    for name, p in net.named_parameters():
        if isinstance(p, nn.parameter.UninitializedParameter):
            raise ValueError(
                f"{what}: parameter {name!r} is not initialised yet (a lazy layer such as "
                "nn.LazyConv2d only learns its input size on the first forward pass). Run one "
                "forward pass first, e.g. net(torch.zeros(1, 1, 28, 28)) or "
                "coursekit.inspect.layer_shapes(net, (1, 1, 28, 28))."
            )
