"""Where the parameters are, and what shape comes out of each layer.

:func:`count_params` counts parameters (in total, trainable or frozen, and
per type of layer), :func:`layer_shapes` runs one zero batch through the
network and tabulates every module it calls, and :func:`summary` is
torchinfo's summary with the course's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .diagnose import diagnose_failure
from .graph import data_dependent_branch
from .probe import check_initialized, check_module, eval_mode, normalize_input_size, output_shape_of, probe_tensor
from .table import Column, Table, shape_str

__all__ = ["LayerShapes", "ParamCount", "ShapeRow", "count_params", "layer_shapes", "summary"]


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a network (buffers such as BatchNorm statistics excluded).

    Attributes:
        total: every parameter, each shared tensor once; ``trainable + frozen``.
        trainable: parameters with ``requires_grad``; ``frozen``: the others.
        by_type: parameters per type of the layer that owns them, by class name
            (``"Conv2d"``, ``"Linear"``, ``"BatchNorm2d"``, ``"BatchNorm"`` for
            coursekit's own), in order of first appearance; the values add up
            to ``total``. ``count_params(net).by_type["Linear"]`` is what
            ``sum(p.numel() for m in net.modules() if isinstance(m, nn.Linear)
            for p in m.parameters())`` computes by hand, except that a tensor
            shared by two layers counts once (for the first).
    """

    total: int
    trainable: int
    frozen: int
    # A dict cannot be hashed: the count's hash comes from the three numbers,
    # and repr and str stay the short line notebooks print.
    by_type: dict[str, int] = field(default_factory=dict, hash=False, repr=False)

    def __str__(self) -> str:
        return f"{self.total:,} parameters ({self.trainable:,} trainable, {self.frozen:,} frozen)"


def count_params(net: nn.Module) -> ParamCount:
    """Count the parameters of ``net``: total, trainable (requires_grad), frozen, and per layer type.

    A parameter shared by several layers is counted once. Raises ``ValueError``
    for a lazy network that has not seen an input yet.

    >>> count_params(nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(6 * 24 * 24, 10))).by_type
    {'Conv2d': 156, 'Linear': 34570}
    """
    check_module(net, "count_params")
    check_initialized(net, "count_params")
    trainable = frozen = 0
    by_type: dict[str, int] = {}
    seen: set[int] = set()
    for module in net.modules():  # a module used twice is visited once
        for p in module.parameters(recurse=False):  # the parameters this module owns itself
            if id(p) in seen:  # the same tensor in a second module: counted with the first
                continue
            seen.add(id(p))
            if p.requires_grad:
                trainable += p.numel()
            else:
                frozen += p.numel()
            kind = type(module).__name__
            by_type[kind] = by_type.get(kind, 0) + p.numel()
    return ParamCount(total=trainable + frozen, trainable=trainable, frozen=frozen, by_type=by_type)


def summary(net: nn.Module, input_size: Any, **kwargs: Any) -> Any:
    """The torchinfo summary of ``net`` with the course's defaults.

    Defaults: output size and parameter count columns, layer names, depth 3,
    evaluation mode, the device of the network, and ``verbose=0`` so that the
    summary is returned (it prints itself in Jupyter and with ``print``)
    rather than printed twice. Any torchinfo keyword overrides a default.

    Returns:
        torchinfo's ``ModelStatistics``.
    """
    import torchinfo  # imported here: only this function needs it

    check_module(net, "summary")

    shape = normalize_input_size(input_size, spatial=False)
    options: dict[str, Any] = dict(
        input_size=shape,
        col_names=("output_size", "num_params"),
        row_settings=("var_names",),
        depth=3,
        mode="eval",
        device=probe_tensor(net, (1,)).device,
        verbose=0,
    )
    options.update(kwargs)
    try:
        return torchinfo.summary(net, **options)
    except Exception as exc:
        # torchinfo replaces the real error by "Failed to run torchinfo. See above stack traces": show the real one.
        cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
        diagnose_failure(net, shape, cause)
        if cause is exc:
            raise
        raise cause from None


# ---------------------------------------------------------------------------
# Layer-by-layer shapes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeRow:
    """One module call: ``name`` from ``named_modules()``, ``depth`` 1 for children of the net."""

    name: str
    type: str
    depth: int
    output_shape: Any  # a tuple, or a list of tuples for modules that return several tensors
    params: int  # the module's parameters, its children's included; 0 for a repeated call
    is_leaf: bool


class LayerShapes(Table[ShapeRow]):
    """The result of :func:`layer_shapes`; ``rows`` is a list of :class:`ShapeRow`.

    ``table["features.0"]`` is the row of that module (its first call).
    """

    _row_kind = ("layer", "layers")

    def __init__(self, rows: list[ShapeRow], input_size: tuple[int, ...], params: ParamCount,
                 net_name: str, note: str | None = None) -> None:
        self.rows = rows
        self.input_size = input_size
        self.params = params
        self.net_name = net_name
        self.note = note
        self._columns = (
            Column("layer", lambda r: "  " * (r.depth - 1) + r.name),
            Column("type", lambda r: r.type),
            Column("output shape", lambda r: shape_str(r.output_shape)),
            Column("params", lambda r: f"{r.params:,}", right=True),
        )

    def _caption(self) -> list[str]:
        return [f"{self.net_name}, input {shape_str(self.input_size)}"]

    def _footer(self) -> list[str]:
        return [f"Total: {self.params}", *([self.note] if self.note else [])]


def _module_depth(name: str) -> int:
    return name.count(".") + 1


def layer_shapes(net: nn.Module, input_size: Any, depth: int | None = None) -> LayerShapes:
    """Run one zero batch through ``net`` and tabulate every module it calls.

    Args:
        net: any module. Lazy layers get initialised by the forward pass.
        input_size: ``(N, C, H, W)``, ``(C, H, W)`` or ``(N, features)``.
        depth: show modules nested at most this deep (1: the children of
            ``net`` only); containers at the cut show the total of what they
            contain. ``None`` shows every module, containers included, indented.

    Returns:
        a :class:`LayerShapes` table, one :class:`ShapeRow` per module call in
        the order the calls start (a container before its children). A module
        called twice gets two rows; its parameters are counted at its first call.

    Raises:
        ValueError: ``depth`` is neither None nor a whole number of at least 1.
        InputTooSmallError: the input is too small for the network; the message
            names the layer that shrinks it to nothing and the smallest size that works.
    """
    check_module(net, "layer_shapes")
    shape = normalize_input_size(input_size, spatial=False)
    # bool is an int in Python, but depth=True is surely a mistake.
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1):
        raise ValueError(f"depth must be None (every module) or a whole number of at least 1 "
                         f"(1: the children of the net only), got {depth!r}.")
    names = {m: n for n, m in net.named_modules() if n}  # the net itself has the name ""
    calls: list[list[Any]] = []  # [name, module, output] in the order calls start
    open_calls: list[list[Any]] = []

    def pre_hook(module: nn.Module, args: Any) -> None:
        call = [names[module], module, None]
        calls.append(call)
        open_calls.append(call)

    def post_hook(module: nn.Module, args: Any, out: Any) -> None:
        open_calls.pop()[2] = output_shape_of(out)

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))
    try:
        with eval_mode(net), torch.no_grad():
            net(probe_tensor(net, shape))
    except Exception as exc:
        failing = open_calls[-1][0] if open_calls else None
        diagnose_failure(net, shape, exc, failing_module=failing)
        raise
    finally:
        for h in handles:
            h.remove()

    rows, seen = [], set()
    for name, module, out in calls:
        d = _module_depth(name)
        if depth is not None and d > depth:
            continue
        is_leaf = not any(True for _ in module.children())
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters())
        seen.add(id(module))
        rows.append(ShapeRow(name, type(module).__name__, d, out, params, is_leaf))
    return LayerShapes(rows, shape, count_params(net), type(net).__name__, data_dependent_branch(net))
