"""Input checks: turn "mat1 and mat2 shapes cannot be multiplied" into advice.

A network with a fixed fully connected head (LeNet, AlexNet, VGG) only takes
the image size it was designed for; a network with global average pooling
takes any size above a minimum. Feeding anything else fails deep inside the
network with an error that names neither the model nor the fix. Every
constructor in :mod:`coursekit.models` therefore ends with
:func:`check_input`, which registers an :class:`InputCheck` as a forward
pre-hook.

Why a hook and not an ``if`` in ``forward``: ``torch.fx.symbolic_trace`` (used
by :mod:`coursekit.inspect`) traces ``forward`` with placeholder values that
have no shape, and it never runs the root module's hooks. Why a class and not
a closure: a model must still pickle (``torch.save(net)``, ``copy.deepcopy``).
"""

from __future__ import annotations

import torch
from torch import nn


def _resize_advice(size: int) -> str:
    """How to get ``size`` x ``size`` Fashion-MNIST images from the course's loader."""
    if size == 28:
        return ("Use Fashion-MNIST's own 28x28 images: load the data with "
                "load_data_fashion_mnist(batch_size), without resize.")
    return f"Resize the images: load the data with load_data_fashion_mnist(batch_size, resize={size})."


class InputCheck:
    """Forward pre-hook that rejects an input the model cannot take.

    Args:
        model: the constructor's name, used in messages (``"alexnet"``).
        in_channels: channels the model was built for.
        size: the only side length the model takes (fixed fully connected head),
            or None when any size from ``min_size`` up works.
        min_size: smallest side for models with global pooling; None if any.
        native_size: the side the model is meant for; suggested in messages.
    """

    def __init__(self, model: str, in_channels: int, *, size: int | None = None,
                 min_size: int | None = None, native_size: int) -> None:
        self.model = model
        self.in_channels = in_channels
        self.size = size
        self.min_size = min_size
        self.native_size = native_size

    def expected(self) -> str:
        """The accepted shape in words, e.g. ``(N, 1, 224, 224)``."""
        if self.size is not None:
            return f"(N, {self.in_channels}, {self.size}, {self.size})"
        if self.min_size is not None:
            return f"(N, {self.in_channels}, H, W) with H, W >= {self.min_size}"
        return f"(N, {self.in_channels}, H, W)"

    def __call__(self, module: nn.Module, args: tuple) -> None:
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor):
            return None  # a tracer's placeholder (torch.fx Proxy) has no shape to check
        got = tuple(x.shape)
        head = f"{self.model} expects input of shape {self.expected()}, got {got}."
        if x.dim() == 3 and got[0] == self.in_channels:
            raise ValueError(f"{head} That is a single image without the batch dimension; "
                             f"pass X.unsqueeze(0).")
        if x.dim() != 4:
            raise ValueError(f"{head} Pass a 4-D batch of images (N, C, H, W).")
        channels, height, width = got[1:]
        if channels != self.in_channels:
            raise ValueError(
                f"{head} The model was built with in_channels={self.in_channels}; "
                f"for {channels}-channel images build it with "
                f"{self.model}(in_channels={channels}).")
        fix = _resize_advice(self.size or self.native_size)
        if self.size is not None and (height, width) != (self.size, self.size):
            raise ValueError(f"{head} Its fully connected head is sized for "
                             f"{self.size}x{self.size} images. {fix}")
        if self.min_size is not None and min(height, width) < self.min_size:
            raise ValueError(f"{head} Smaller images shrink to nothing before the global "
                             f"average pooling (it is meant for {self.native_size}x"
                             f"{self.native_size}). {fix}")
        return None


def check_input(model: nn.Module, name: str, in_channels: int, *, size: int | None = None,
                min_size: int | None = None, native_size: int | None = None) -> nn.Module:
    """Register an :class:`InputCheck` on ``model`` and record ``model.input_size`` and ``model.model_name``.

    ``model.input_size`` is ``(C, H, W)`` of the images the model is meant for
    (``size``, else ``native_size``), ready for ``torchinfo.summary(net,
    input_size=(1, *net.input_size))``. Calling this again on the same model
    replaces its check, so ``vgg11`` can relabel the network ``vgg`` built.
    Returns ``model``.
    """
    native = size if size is not None else native_size
    if native is None:
        raise ValueError("check_input needs size (fixed-size models) or native_size.")
    for key, hook in list(model._forward_pre_hooks.items()):
        if isinstance(hook, InputCheck):
            del model._forward_pre_hooks[key]
    model.register_forward_pre_hook(
        InputCheck(name, in_channels, size=size, min_size=min_size, native_size=native))
    model.input_size = (in_channels, native, native)
    model.model_name = name  # what checkpoints record, so that resuming can refuse another model's weights
    return model
