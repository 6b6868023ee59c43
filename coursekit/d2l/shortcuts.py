"""The tensor shortcuts of d2l's PyTorch backend: ``d2l.tensor``, ``d2l.reshape``, ``d2l.reduce_sum``...

The books write their framework-neutral code with these names; each is the
torch function, or a one-line call of the tensor method, that d2l 1.0.3 binds
to it.
"""

from __future__ import annotations

import torch

__all__ = [
    "abs", "arange", "argmax", "astype", "batch_matmul", "concat", "cos", "cosh", "exp", "expand_dims", "eye",
    "float32", "int32", "int64", "linspace", "log", "matmul", "meshgrid", "normal", "numpy", "ones", "ones_like",
    "rand", "randn", "reduce_mean", "reduce_sum", "repeat", "reshape", "sigmoid", "sin", "sinh", "size", "stack",
    "swapaxes", "tanh", "tensor", "to", "transpose", "zeros", "zeros_like",
]

ones_like, ones, zeros_like, zeros = torch.ones_like, torch.ones, torch.zeros_like, torch.zeros
tensor, arange, meshgrid, linspace, eye = torch.tensor, torch.arange, torch.meshgrid, torch.linspace, torch.eye
sin, sinh, cos, cosh, tanh, exp, log = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh, torch.exp, torch.log
normal, rand, randn = torch.normal, torch.rand, torch.randn
matmul, batch_matmul, concat, stack = torch.matmul, torch.bmm, torch.cat, torch.stack
abs, sigmoid = torch.abs, torch.sigmoid  # noqa: A001 - d2l's name, shadowing the builtin inside this module only
int32, int64, float32 = torch.int32, torch.int64, torch.float32


def numpy(x: torch.Tensor, *args, **kwargs):
    return x.detach().numpy(*args, **kwargs)


def size(x: torch.Tensor, *args, **kwargs) -> int:
    return x.numel(*args, **kwargs)


def reshape(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.reshape(*args, **kwargs)


def to(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.to(*args, **kwargs)


def reduce_sum(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.sum(*args, **kwargs)


def reduce_mean(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.mean(*args, **kwargs)


def argmax(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.argmax(*args, **kwargs)


def astype(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.type(*args, **kwargs)


def transpose(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.t(*args, **kwargs)


def expand_dims(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.unsqueeze(*args, **kwargs)


def swapaxes(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.swapaxes(*args, **kwargs)


def repeat(x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return x.repeat(*args, **kwargs)
