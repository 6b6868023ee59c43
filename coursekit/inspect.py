"""Instruments for looking inside a network: shapes, parameters, cost, receptive fields.

Every chapter asks the same questions of its model, and this module
answers them for any ``nn.Module``, branching ones (Inception, ResNet,
DenseNet) included:

* what shape comes out of each layer?          :func:`layer_shapes`, :func:`summary`
* where are the parameters?                    :func:`count_params`, :func:`layer_shapes`
* what does a forward pass cost?               :func:`flops`
* how much memory does it take?               :func:`memory`
* which input pixels does each unit see?       :func:`receptive_field`,
  :func:`effective_receptive_field`

``input_size`` is always the size of the input *batch*, as in torchinfo:
``(N, C, H, W)``, for example ``(1, 1, 28, 28)`` for one Fashion-MNIST image.
``(C, H, W)`` is accepted too and gets a batch of one. :func:`layer_shapes`,
:func:`summary` and :func:`flops` also accept ``(N, features)`` for a network
that takes flat vectors (an MLP).

Every table comes back as a small object that prints as aligned plain text
(``print(table)``), renders as HTML in Jupyter, and keeps its values in
``table.rows`` (dataclasses) for code and tests. The text never contains memory
addresses, so notebooks that print tables stay reproducible.

Receptive fields follow the actual dataflow graph of the network, traced with
``torch.fx``. Along each axis (height and width separately) a unit of a
feature map is described by

* ``jump``   -- input pixels between two neighbouring units (the effective stride),
* ``rf``     -- the number of input pixels a unit sees (the receptive field),
* ``center`` -- the centre of the first unit's field, in input pixel coordinates
  (pixel ``i`` has its centre at ``i``; padding makes it negative).

A window layer (convolution or pooling) with kernel ``k``, stride ``s``,
dilation ``d`` and leading padding ``p`` turns ``(jump, rf, center)`` into::

    k_eff      = d * (k - 1) + 1
    jump_out   = jump * s
    rf_out     = rf + (k_eff - 1) * jump
    center_out = center + ((k_eff - 1) / 2 - p) * jump

Where paths meet (residual addition, Inception or DenseNet concatenation) a
unit sees the union of what its inputs see; when the paths disagree on the
jump or on the centre of the first unit the table says so in its ``note``
column. The fields are those of the network in evaluation mode (BatchNorm with
its running statistics).
"""

from __future__ import annotations

import contextlib
import html
import math
import operator
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

__all__ = [
    "EffectiveReceptiveField",
    "FieldRow",
    "FlopCount",
    "FlopRow",
    "InputTooSmallError",
    "LayerShapes",
    "MemoryRow",
    "MemoryUse",
    "ParamCount",
    "ReceptiveField",
    "ShapeRow",
    "UnsupportedOperationError",
    "count_params",
    "effective_receptive_field",
    "flops",
    "layer_shapes",
    "memory",
    "plot_effective_receptive_field",
    "receptive_field",
    "summary",
]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class InputTooSmallError(ValueError):
    """The input is too small: some layer shrinks the feature map to nothing.

    Attributes:
        layer: name of the first layer whose output has no unit left.
        input_size: the input size that was given, batch included.
        smallest_input_size: the smallest ``(N, C, H, W)`` for which no layer
            shrinks the map to nothing (height and width searched separately).
    """

    def __init__(self, message: str, layer: str, input_size: tuple[int, ...],
                 smallest_input_size: tuple[int, ...] | None) -> None:
        super().__init__(message)
        self.layer = layer
        self.input_size = input_size
        self.smallest_input_size = smallest_input_size


class UnsupportedOperationError(NotImplementedError):
    """:func:`receptive_field` met an operation whose geometry it does not know.

    It is raised rather than skipping the operation, because skipping it would
    silently give a wrong receptive field.
    """


# ---------------------------------------------------------------------------
# Small helpers shared by all instruments
# ---------------------------------------------------------------------------


def _normalize_input_size(input_size: Any, *, spatial: bool) -> tuple[int, ...]:
    """Return ``input_size`` as a tuple with the batch dimension first.

    ``(C, H, W)`` gets a batch of one. ``(N, features)`` is only accepted when
    ``spatial`` is false. Anything else raises ``ValueError``.
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
    if len(dims) == 3:
        return (1, *dims)
    if len(dims) == 4:
        return tuple(dims)
    if len(dims) == 2 and not spatial:
        return tuple(dims)
    wanted = "(N, C, H, W) or (C, H, W)" if spatial else "(N, C, H, W), (C, H, W) or (N, features)"
    raise ValueError(f"input_size must be {wanted}; got {tuple(dims)!r} ({len(dims)} numbers).")


def _probe_tensor(net: nn.Module, shape: Sequence[int]) -> torch.Tensor:
    """A zero input on the device and with the floating dtype of ``net``'s parameters."""
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
def _eval_mode(net: nn.Module) -> Iterator[None]:
    """Put every module in eval mode, then restore each module's own mode.

    Eval mode because a probe must not change the model (BatchNorm would update
    its running statistics in training mode) and must work with a batch of one
    (BatchNorm in training mode refuses a single value per channel).
    """
    modes = [(m, m.training) for m in net.modules()]
    net.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _hw(pair: tuple[Any, Any] | None) -> str:
    """``(5, 5)`` -> ``"5"``, ``(1, 7)`` -> ``"1x7"`` (height x width), None -> ``"-"``."""
    if pair is None:
        return "-"
    a, b = (_num(v) for v in pair)
    return a if a == b else f"{a}x{b}"


def _num(x: Any) -> str:
    """Integers without a decimal point, other numbers with up to 3 decimals."""
    if isinstance(x, str):
        return x
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.3f}".rstrip("0")


def _shape_str(shape: Any) -> str:
    if shape is None:
        return "-"
    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        return "(" + ", ".join(str(d) for d in shape) + ")"
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return str(shape)


def _si(x: float) -> str:
    """1234567 -> '1.23 M' (k, M, G, T)."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f} {unit}"
    return f"{x:.0f} "


@dataclass(frozen=True)
class _Column:
    header: str
    text: Callable[[Any], str]
    right: bool = False  # numbers are right-aligned


class _Table:
    """Base of the result objects: ``rows`` plus a text and an HTML rendering."""

    rows: list
    _columns: tuple[_Column, ...] = ()

    def _caption(self) -> list[str]:
        return []

    def _footer(self) -> list[str]:
        return []

    def _cells(self) -> list[list[str]]:
        return [[c.text(r) for c in self._columns] for r in self.rows]

    def __str__(self) -> str:
        cells = self._cells()
        headers = [c.header for c in self._columns]
        widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

        def line(values: list[str]) -> str:
            parts = [v.rjust(w) if c.right else v.ljust(w)
                     for v, w, c in zip(values, widths, self._columns)]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line(["-" * w for w in widths]))
        out = self._caption() + [line(headers), rule] + [line(r) for r in cells] + [rule]
        return "\n".join(out + self._footer())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c.header)}</th>" for c in self._columns)
        body = []
        for row in self._cells():
            tds = "".join(
                f"<td style='text-align:{'right' if c.right else 'left'};white-space:pre'>{esc(v)}</td>"
                for v, c in zip(row, self._columns)
            )
            body.append(f"<tr>{tds}</tr>")
        caption = "".join(f"<p>{esc(t)}</p>" for t in self._caption())
        footer = "".join(f"<p>{esc(t)}</p>" for t in self._footer())
        return (f"<div>{caption}<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>{footer}</div>")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a network (buffers such as BatchNorm statistics excluded)."""

    total: int
    trainable: int
    frozen: int

    def __str__(self) -> str:
        return f"{self.total:,} parameters ({self.trainable:,} trainable, {self.frozen:,} frozen)"


def _check_initialized(net: nn.Module, what: str) -> None:
    for name, p in net.named_parameters():
        if isinstance(p, nn.parameter.UninitializedParameter):
            raise ValueError(
                f"{what}: parameter {name!r} is not initialised yet (a lazy layer such as "
                "nn.LazyConv2d only learns its input size on the first forward pass). Run one "
                "forward pass first, e.g. net(torch.zeros(1, 1, 28, 28)) or "
                "coursekit.inspect.layer_shapes(net, (1, 1, 28, 28))."
            )


def count_params(net: nn.Module) -> ParamCount:
    """Count the parameters of ``net``: total, trainable (requires_grad) and frozen.

    A parameter shared by several layers is counted once. Raises ``ValueError``
    for a lazy network that has not seen an input yet.
    """
    _check_initialized(net, "count_params")
    trainable = frozen = 0
    for p in net.parameters():  # parameters() already yields a shared tensor once
        if p.requires_grad:
            trainable += p.numel()
        else:
            frozen += p.numel()
    return ParamCount(total=trainable + frozen, trainable=trainable, frozen=frozen)


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

    shape = _normalize_input_size(input_size, spatial=False)
    options: dict[str, Any] = dict(
        input_size=shape,
        col_names=("output_size", "num_params"),
        row_settings=("var_names",),
        depth=3,
        mode="eval",
        device=_probe_tensor(net, (1,)).device,
        verbose=0,
    )
    options.update(kwargs)
    try:
        return torchinfo.summary(net, **options)
    except Exception as exc:  # torchinfo wraps the real error; find the layer at fault
        _diagnose_failure(net, shape, exc)
        raise


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


def _output_shape(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (list, tuple)):
        return [_output_shape(o) for o in out]
    return type(out).__name__


class LayerShapes(_Table):
    """The result of :func:`layer_shapes`; ``rows`` is a list of :class:`ShapeRow`."""

    def __init__(self, rows: list[ShapeRow], input_size: tuple[int, ...], params: ParamCount,
                 net_name: str) -> None:
        self.rows = rows
        self.input_size = input_size
        self.params = params
        self.net_name = net_name
        self._columns = (
            _Column("layer", lambda r: "  " * (r.depth - 1) + r.name),
            _Column("type", lambda r: r.type),
            _Column("output shape", lambda r: _shape_str(r.output_shape)),
            _Column("params", lambda r: f"{r.params:,}", right=True),
        )

    def __getitem__(self, key: int | str) -> ShapeRow:
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if row.name == key:
                return row
        raise KeyError(f"no layer named {key!r}; layers: {', '.join(r.name for r in self.rows)}")

    def _caption(self) -> list[str]:
        return [f"{self.net_name}, input {_shape_str(self.input_size)}"]

    def _footer(self) -> list[str]:
        return [f"Total: {self.params}"]


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
        InputTooSmallError: the input is too small for the network; the message
            names the layer that shrinks it to nothing and the smallest size that works.
    """
    shape = _normalize_input_size(input_size, spatial=False)
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be None or at least 1, got {depth}.")
    names = {m: n for n, m in net.named_modules() if n}  # the net itself has the name ""
    calls: list[list[Any]] = []  # [name, module, output] in the order calls start
    open_calls: list[list[Any]] = []

    def pre_hook(module: nn.Module, args: Any) -> None:
        call = [names[module], module, None]
        calls.append(call)
        open_calls.append(call)

    def post_hook(module: nn.Module, args: Any, out: Any) -> None:
        open_calls.pop()[2] = _output_shape(out)

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))
    try:
        with _eval_mode(net), torch.no_grad():
            net(_probe_tensor(net, shape))
    except Exception as exc:
        failing = open_calls[-1][0] if open_calls else None
        _diagnose_failure(net, shape, exc, failing_module=failing)
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
    return LayerShapes(rows, shape, count_params(net), type(net).__name__)


# ---------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlopRow:
    """FLOPs of one leaf module (``name`` "(other)" for work done outside leaf modules)."""

    name: str
    type: str
    flops: int
    macs: int
    share: float  # fraction of the network's total


class FlopCount(_Table):
    """The result of :func:`flops`.

    ``flops`` counts floating-point operations with one multiply-add = 2 FLOPs
    (the convention of ``torch.utils.flop_counter``); ``macs`` counts
    multiply-adds (= ``flops / 2``), the number many papers call "FLOPs".
    """

    def __init__(self, total: int, rows: list[FlopRow], by_operator: dict[str, int],
                 input_size: tuple[int, ...]) -> None:
        self.flops = total
        self.macs = total // 2
        self.rows = rows
        self.by_module = {r.name: r.flops for r in rows}
        self.by_operator = by_operator
        self.input_size = input_size
        self._columns = (
            _Column("layer", lambda r: r.name),
            _Column("type", lambda r: r.type),
            _Column("FLOPs", lambda r: f"{r.flops:,}", right=True),
            _Column("multiply-adds", lambda r: f"{r.macs:,}", right=True),
            _Column("share", lambda r: f"{100 * r.share:.1f}%", right=True),
        )

    def _caption(self) -> list[str]:
        return [f"Forward pass on input {_shape_str(self.input_size)}: {_si(self.flops)}FLOPs = "
                f"{_si(self.macs)}MACs (multiply-accumulates; 1 MAC = 2 FLOPs)"]

    def _footer(self) -> list[str]:
        return ["Counted by torch.utils.flop_counter: convolutions and matrix products only; "
                "activations, normalisation, pooling and bias additions are not counted."]


def flops(net: nn.Module, input_size: Any) -> FlopCount:
    """Count the FLOPs of one forward pass with ``torch.utils.flop_counter``.

    Returns:
        a :class:`FlopCount`: ``.flops`` (2 per multiply-add), ``.macs``
        (multiply-adds, half of it), ``.by_module`` and ``.rows`` per leaf
        module in call order, ``.by_operator`` per aten operator. The count is
        for the whole batch of ``input_size``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    shape = _normalize_input_size(input_size, spatial=False)
    counter = FlopCounterMode(display=False)
    try:
        with _eval_mode(net), torch.no_grad(), counter:
            net(_probe_tensor(net, shape))
    except Exception as exc:
        _diagnose_failure(net, shape, exc)
        raise
    total = int(counter.get_total_flops())
    counts = counter.get_flop_counts()
    # FlopCounterMode names a module "<class of the net>.<qualified name>".
    per_name = {}
    for key, ops in counts.items():
        if key != "Global" and "." in key:
            per_name[key.split(".", 1)[1]] = int(sum(ops.values()))
    rows, covered = [], 0
    for name, module in net.named_modules():
        if name and not any(True for _ in module.children()) and per_name.get(name, 0) > 0:
            n = per_name[name]
            covered += n
            rows.append(FlopRow(name, type(module).__name__, n, n // 2, n / total))
    if total - covered > 0:  # e.g. a torch.matmul written in a custom forward()
        n = total - covered
        rows.append(FlopRow("(other)", "-", n, n // 2, n / total))
    by_operator = {str(op).replace("aten.", ""): int(n) for op, n in counts.get("Global", {}).items()}
    return FlopCount(total, rows, by_operator, shape)


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------


def _bytes(n: float) -> str:
    """12845056 -> '12.85 MB' (decimal units: kB, MB, GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


@dataclass(frozen=True)
class MemoryRow:
    """The tensors one module creates during a forward pass.

    ``name`` is the innermost module running when they were made (a container
    for work done in its own ``forward()``, such as Inception's ``torch.cat``;
    ``"(top level)"`` for the network's own ``forward()``). ``activation_bytes``
    counts each new tensor once; ``param_bytes`` are the module's own
    parameters (not its children's).
    """

    name: str
    type: str
    output_shape: Any
    activation_bytes: int
    param_bytes: int


class MemoryUse(_Table):
    """The result of :func:`memory`, all sizes in bytes; ``rows`` is a list of :class:`MemoryRow`.

    Attributes:
        params: bytes of the parameters; ``buffers``: of the buffers (BatchNorm statistics).
        input: bytes of the input batch.
        activations: bytes of every tensor the forward pass creates, each once
            (views and in-place results share memory and add nothing): what one
            forward pass needs if nothing is freed. Inference can free a tensor
            once the next layers have used it; training cannot (see ``saved``).
        saved: bytes of the tensors autograd keeps for the backward pass
            (parameters and the input excluded), measured in evaluation mode.
        total: ``params + buffers + input + activations``.
    """

    def __init__(self, rows: list[MemoryRow], params: int, buffers: int, input_bytes: int, activations: int,
                 saved: int, input_size: tuple[int, ...], dtype: torch.dtype, net_name: str) -> None:
        self.rows = rows
        self.params = params
        self.buffers = buffers
        self.input = input_bytes
        self.activations = activations
        self.saved = saved
        self.total = params + buffers + input_bytes + activations
        self.input_size = input_size
        self.dtype = dtype
        self.net_name = net_name
        self.by_module = {r.name: r.activation_bytes for r in rows}
        self._columns = (
            _Column("layer", lambda r: r.name),
            _Column("type", lambda r: r.type),
            _Column("output shape", lambda r: _shape_str(r.output_shape)),
            _Column("activations", lambda r: _bytes(r.activation_bytes), right=True),
            _Column("parameters", lambda r: _bytes(r.param_bytes), right=True),
        )

    def __getitem__(self, key: int | str) -> MemoryRow:
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if row.name == key:
                return row
        raise KeyError(f"no module named {key!r} created tensors; modules: {', '.join(r.name for r in self.rows)}")

    def _caption(self) -> list[str]:
        dtype = str(self.dtype).replace("torch.", "")
        return [f"{self.net_name}, input {_shape_str(self.input_size)} in {dtype}: memory of one forward pass"]

    def _footer(self) -> list[str]:
        return [
            f"Parameters {_bytes(self.params)}, buffers {_bytes(self.buffers)}, input {_bytes(self.input)}, "
            f"activations {_bytes(self.activations)} (every tensor the forward pass creates, each once).",
            f"Kept for the backward pass when training: {_bytes(self.saved)}.",
        ]


def _storage_key(t: torch.Tensor) -> tuple[str, int]:
    return (str(t.device), t.untyped_storage().data_ptr())


def memory(net: nn.Module, input_size: Any) -> MemoryUse:
    """Measure the memory of one forward pass: parameters, activations, what training keeps.

    Every tensor that the operators of the forward pass create is recorded
    (with a ``TorchDispatchMode``) and counted once by its storage, so views
    (``flatten``, ``reshape``) and in-place operations (``ReLU(inplace=True)``)
    cost nothing, while work done outside leaf modules (``torch.cat`` in an
    Inception block, ``x + shortcut`` in a residual block) is counted too.
    Whatever an operator really allocates counts: max-pooling on the CPU, for
    instance, also creates the int64 indices of its maxima. The tensors are
    kept alive until the end, so no memory is reused and the count is exact.
    A second pass with gradients enabled records the tensors autograd saves
    for the backward pass. Both run in evaluation mode and leave the network
    as it was.

    Args:
        net: any module whose parameters are initialised (run lazy layers once first).
        input_size: ``(N, C, H, W)``, ``(C, H, W)`` or ``(N, features)``;
            activations grow with the batch ``N``, parameters do not.

    Returns:
        a :class:`MemoryUse`: ``.params``, ``.buffers``, ``.input``,
        ``.activations``, ``.saved`` and ``.total`` in bytes, and ``.rows``
        saying which module created how much.
    """
    from torch.utils import _pytree as pytree
    from torch.utils._python_dispatch import TorchDispatchMode

    _check_initialized(net, "memory")
    shape = _normalize_input_size(input_size, spatial=False)
    x = _probe_tensor(net, shape)
    params = {_storage_key(p): p.untyped_storage().nbytes() for p in net.parameters()}
    buffers = {_storage_key(b): b.untyped_storage().nbytes() for b in net.buffers()}
    known = set(params) | set(buffers) | {_storage_key(x)}

    names = {m: n for n, m in net.named_modules()}
    stack: list[nn.Module] = []
    created: dict[tuple[str, int], tuple[nn.Module, int, torch.Tensor]] = {}
    last_output: dict[nn.Module, Any] = {}

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            for t in pytree.tree_leaves(out):
                if isinstance(t, torch.Tensor) and t.untyped_storage().nbytes() > 0:
                    key = _storage_key(t)
                    if key not in known and key not in created:
                        # Keeping ``t`` alive keeps its memory from being reused.
                        created[key] = (stack[-1] if stack else net, t.untyped_storage().nbytes(), t)
            return out

    def pre_hook(module: nn.Module, args: Any) -> None:
        stack.append(module)

    def post_hook(module: nn.Module, args: Any, out: Any) -> None:
        stack.pop()
        last_output[module] = _output_shape(out)

    handles = [h for m in names for h in (m.register_forward_pre_hook(pre_hook), m.register_forward_hook(post_hook))]
    try:
        with _eval_mode(net), torch.no_grad(), Recorder():
            net(x)
    except Exception as exc:
        _diagnose_failure(net, shape, exc, failing_module=names.get(stack[-1]) if stack else None)
        raise
    finally:
        for h in handles:
            h.remove()

    # Which tensors does autograd keep for the backward pass?
    saved: dict[tuple[str, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        key = _storage_key(t)
        if key not in known:
            saved[key] = t.untyped_storage().nbytes()
        return t

    with _eval_mode(net), torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        kept = net(x)  # noqa: F841 -- keeps the graph, and so the saved tensors, alive while counting
    del kept

    per_module: dict[nn.Module, int] = {}
    for module, nbytes, _ in created.values():
        per_module[module] = per_module.get(module, 0) + nbytes
    rows = []
    for module, nbytes in per_module.items():  # in the order of their first tensor
        name = names[module] or "(top level)"
        own = sum(p.numel() * p.element_size() for p in module.parameters(recurse=False))
        rows.append(MemoryRow(name, type(module).__name__, last_output.get(module), nbytes, own))
    return MemoryUse(rows, params=sum(params.values()), buffers=sum(buffers.values()),
                     input_bytes=x.untyped_storage().nbytes(), activations=sum(n for _, n, _ in created.values()),
                     saved=sum(saved.values()), input_size=shape, dtype=x.dtype, net_name=type(net).__name__)


# ---------------------------------------------------------------------------
# Receptive fields: geometry of one axis
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """Geometry of a feature map along one axis (height or width).

    ``lo``..``hi`` are the first and last input pixels seen by the first unit
    (``lo`` < 0 where the field hangs over zero padding). ``solid`` is False
    when the field may have holes (a dilated kernel whose taps are further
    apart than what each tap sees).
    """

    size: int
    jump: float
    lo: float
    hi: float
    solid: bool = True

    @property
    def rf(self) -> float:
        return self.hi - self.lo + 1

    @property
    def center(self) -> float:
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class _Geom:
    """Geometry of a tensor. ``flat`` tensors are vectors (after Flatten or a
    global reduction); their axes keep the geometry of the map they came from."""

    h: _Axis
    w: _Axis
    flat: bool = False


def _window(ax: _Axis, k: int, s: int, d: int, pad_lo: int, pad_hi: int,
            ceil_mode: bool = False) -> _Axis:
    """Apply a sliding window (convolution or pooling) along one axis."""
    k_eff = d * (k - 1) + 1
    span = ax.size + pad_lo + pad_hi - k_eff
    if ceil_mode:
        size = -(-span // s) + 1
        # PyTorch drops a last window that would start in the right padding.
        if (size - 1) * s >= ax.size + pad_lo:
            size -= 1
    else:
        size = span // s + 1
    # Taps of the kernel are d * jump input pixels apart; if that is more than
    # one tap sees, the field has holes between the taps.
    solid = ax.solid and (k == 1 or d * ax.jump <= ax.rf)
    return _Axis(size=size, jump=ax.jump * s, lo=ax.lo - pad_lo * ax.jump,
                 hi=ax.hi + (k_eff - 1 - pad_lo) * ax.jump, solid=solid)


def _global(ax: _Axis) -> _Axis:
    """An operation whose single output sees every unit of the axis (global pooling, Linear)."""
    return _window(ax, ax.size, ax.size, 1, 0, 0)


def _adaptive(ax: _Axis, out: int | None) -> tuple[_Axis, int | float, str]:
    """Adaptive pooling to ``out`` units: unit i pools input units
    floor(i*n/out) .. ceil((i+1)*n/out) - 1. Returns (axis, kernel, note)."""
    n = ax.size
    if out is None or out == n:
        return ax, 1, ""
    if n % out == 0:  # regular windows: an ordinary pooling with kernel = stride = n / out
        return _window(ax, n // out, n // out, 1, 0, 0), n // out, ""
    first_end = math.ceil(n / out)
    kmax = max(math.ceil((i + 1) * n / out) - (i * n) // out for i in range(out))
    new = _Axis(size=out, jump=ax.jump * n / out, lo=ax.lo, hi=ax.hi + (first_end - 1) * ax.jump,
                solid=ax.solid)
    return new, kmax, (f"adaptive pooling {n}->{out}: windows of unequal size; "
                       "jump is the average and rf that of the first unit")


def _merge_axes(axes: list[_Axis]) -> tuple[_Axis, list[str]]:
    """A unit fed by several paths sees the union of their fields (hull at unit 0)."""
    size = max(a.size for a in axes)
    # An input of size 1 under a map of size > 1 is broadcast (e.g. squeeze-excitation).
    main = [a for a in axes if a.size == size] or axes
    notes = []
    jumps = sorted({a.jump for a in main})
    if len(jumps) > 1:
        notes.append(f"paths disagree on the jump ({' vs '.join(_num(j) for j in jumps)}): "
                     "the field is exact for the first unit only")
    centers = sorted({a.center for a in main})
    if len(centers) > 1:
        notes.append(f"paths disagree on the centre of the first unit ({' vs '.join(_num(c) for c in centers)})")
    merged = _Axis(size=size, jump=max(jumps), lo=min(a.lo for a in axes),
                   hi=max(a.hi for a in axes), solid=all(a.solid for a in axes))
    return merged, notes


def _merge(geoms: list[_Geom], where: str) -> tuple[_Geom, str]:
    if len({g.flat for g in geoms}) > 1:
        raise UnsupportedOperationError(f"{where} combines a flattened tensor with a feature map.")
    h, notes_h = _merge_axes([g.h for g in geoms])
    w, notes_w = _merge_axes([g.w for g in geoms])
    if notes_h == notes_w:  # the usual case: both axes built the same way
        notes = notes_h
    else:
        notes = [f"height: {n}" for n in notes_h] + [f"width: {n}" for n in notes_w]
    # The union of rectangles is the hull rectangle only if one of them
    # contains all the others (the usual case: concentric branches).
    container = [g for g in geoms
                 if all(g.h.lo <= o.h.lo and g.h.hi >= o.h.hi and g.w.lo <= o.w.lo and g.w.hi >= o.w.hi
                        for o in geoms)]
    if container:
        h = _Axis(h.size, h.jump, h.lo, h.hi, container[0].h.solid)
        w = _Axis(w.size, w.jump, w.lo, w.hi, container[0].w.solid)
    else:
        h = _Axis(h.size, h.jump, h.lo, h.hi, False)
        w = _Axis(w.size, w.jump, w.lo, w.hi, False)
        larger = max(g.h.rf * g.w.rf for g in geoms)
        notes.append(f"the union of the paths' fields is not a rectangle; rf is its bounding box "
                     f"(the largest single path sees {larger:g} pixels)")
    return _Geom(h, w, geoms[0].flat), "; ".join(notes)


# ---------------------------------------------------------------------------
# Receptive fields: one fx node at a time
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    """Geometry of one layer's output, as ``(height, width)`` pairs.

    ``kernel``/``stride``/``dilation``/``padding`` are those of the layer
    (None when it has no window; ``padding`` is the padding before the first
    row/column). ``jump``, ``rf`` and ``center`` describe the output units:
    input pixels between neighbouring units, field size in input pixels, and
    the centre of the first unit's field in input pixel coordinates.
    ``first_field`` is ``((top, bottom), (left, right))`` of the first unit's
    field, unclipped. ``size`` is the spatial size of the output (for a
    flattened output: of the map it was flattened from). ``solid`` is False
    when the field may have holes or not be a rectangle (then ``rf`` is its
    bounding box). ``whole`` is True when a unit sees the whole input.
    """

    name: str
    node: str  # the torch.fx node
    type: str
    kernel: tuple[int, int] | None
    stride: tuple[int, int] | None
    dilation: tuple[int, int] | None
    padding: tuple[int, int] | None
    jump: tuple[float, float]
    rf: tuple[float, float]
    center: tuple[float, float]
    first_field: tuple[tuple[float, float], tuple[float, float]]
    size: tuple[int, int]
    flat: bool
    solid: bool
    whole: bool
    output_shape: tuple[int, ...] | None
    note: str


@dataclass
class _Step:
    """What one node does: its output geometry and what the table shows."""

    geom: _Geom | None
    type: str = ""
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    dilation: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    note: str = ""
    show: bool = True  # elementwise functions (F.relu...) get no row of their own


class _TooSmall(Exception):
    def __init__(self, node: fx.Node, step: _Step, axis: str, size_in: int, size_out: int) -> None:
        super().__init__(node.name)
        self.node, self.step, self.axis, self.size_in, self.size_out = node, step, axis, size_in, size_out


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1])) if len(v) else (0, 0)
    return (int(v), int(v))


_ELEMENTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Threshold, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
    nn.modules.batchnorm._BatchNorm, nn.LocalResponseNorm,
)
# Normalisations whose statistics come from the input itself: the field of the
# filters is shown; their statistics are noted, not followed.
_STAT_NORM_MODULES = (nn.GroupNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm)
_PAD_MODULES = (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d,
                nn.CircularPad2d)

_ELEMENTWISE_FUNCTIONS = {
    F.relu, F.relu_, torch.relu, torch.relu_, F.relu6, F.leaky_relu, F.elu, F.celu, F.selu,
    F.gelu, F.silu, F.mish, F.hardswish, F.hardsigmoid, F.hardtanh, F.softplus, F.softsign,
    F.logsigmoid, F.prelu, torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.dropout,
    F.dropout1d, F.dropout2d, F.alpha_dropout, F.batch_norm, F.local_response_norm, torch.exp,
    torch.abs, torch.neg, torch.clamp, torch.square, torch.sqrt, torch.sign, operator.neg,
    operator.pos, operator.abs, torch.nn.functional.threshold,
}
_BINARY_FUNCTIONS = {
    operator.add: "add", operator.iadd: "add", torch.add: "add", operator.sub: "sub",
    operator.isub: "sub", torch.sub: "sub", operator.mul: "mul", operator.imul: "mul",
    torch.mul: "mul", operator.truediv: "div", operator.itruediv: "div", torch.div: "div",
    torch.maximum: "maximum", torch.minimum: "minimum",
}
_CAT_FUNCTIONS = {torch.cat, torch.concat, torch.concatenate}
_ELEMENTWISE_METHODS = {
    "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "exp", "abs", "neg", "clamp",
    "clamp_", "clamp_min", "clamp_max", "pow", "sqrt", "square", "sign", "float", "double",
    "half", "to", "type", "type_as", "contiguous", "clone", "detach",
}
_BINARY_METHODS = {"add": "add", "add_": "add", "sub": "sub", "sub_": "sub", "mul": "mul",
                   "mul_": "mul", "div": "div", "div_": "div"}
_SHAPE_METHODS = {"view", "reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze",
                  "view_as", "reshape_as", "expand", "expand_as", "chunk", "split"}
_SHAPE_FUNCTIONS = {torch.reshape, torch.squeeze, torch.unsqueeze, torch.transpose,
                    torch.permute, operator.getitem, torch.chunk, torch.split}
_REDUCE_FUNCTIONS = {torch.mean, torch.sum, torch.amax, torch.amin, torch.var, torch.std}
_REDUCE_METHODS = {"mean", "sum", "amax", "amin", "var", "std"}
_NON_TENSOR_METHODS = {"size", "dim", "numel", "ndimension", "nelement", "item", "tolist"}


_SHAPE_KEY = "coursekit_shape"  # where _ShapeRecorder leaves the output shape of a node


def _arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """Argument ``name`` of a traced call, passed by position or by keyword."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _tensor_meta_shape(node: Any) -> tuple[int, ...] | None:
    if not isinstance(node, fx.Node):
        return None
    return node.meta.get(_SHAPE_KEY)


def _func_name(target: Any) -> str:
    name = getattr(target, "__name__", str(target))
    return "max_pool2d" if name == "fn" else name  # boolean_dispatch wrappers are called "fn"


def _windowed(g: _Geom, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
              pads: tuple[tuple[int, int], tuple[int, int]], ceil_mode: bool = False) -> _Geom:
    if g.flat:
        raise UnsupportedOperationError("a convolution or pooling applied to a flattened tensor")
    return _Geom(_window(g.h, k[0], s[0], d[0], *pads[0], ceil_mode),
                 _window(g.w, k[1], s[1], d[1], *pads[1], ceil_mode))


def _conv_pads(k: tuple[int, int], d: tuple[int, int], padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        # PyTorch puts the odd pixel of 'same' padding at the bottom/right.
        totals = [d[i] * (k[i] - 1) for i in range(2)]
        return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
    p = _pair(padding)
    return ((p[0], p[0]), (p[1], p[1]))


def _conv_step(g: _Geom, kind: str, k: Any, s: Any, d: Any, padding: Any,
               ceil_mode: bool = False, note: str = "") -> _Step:
    k, d = _pair(k), _pair(d)
    s = _pair(s) if s not in (None, [], ()) else k  # pooling: stride defaults to the kernel
    pads = _conv_pads(k, d, padding)
    geom = _windowed(g, k, s, d, pads, ceil_mode)
    note = "; ".join(filter(None, [note, _pad_note(pads[1][0], pads[1][1], pads[0][0], pads[0][1]),
                                   "ceil_mode" if ceil_mode else ""]))
    return _Step(geom, kind, k, s, d, (pads[0][0], pads[1][0]), note)


def _flatten_step(g: _Geom, kind: str) -> _Step:
    return _Step(_Geom(g.h, g.w, flat=True), kind,
                 note="flattened (a Linear layer after it sees the whole map)")


def _dense_step(g: _Geom, kind: str) -> _Step:
    """Linear: every output feature sees every input feature."""
    if g.flat:
        return _Step(_Geom(_global(g.h), _global(g.w), flat=True), kind)
    # nn.Linear on a 4-D map mixes only along its last axis, the width.
    return _Step(_Geom(g.h, _global(g.w)), kind, note="Linear on a feature map mixes along the width only")


def _reduce_step(g: _Geom, kind: str, dims: Any, keepdim: bool, ndim: int) -> _Step:
    """mean/sum/amax over some dimensions: over height and/or width it is global pooling."""
    if dims is None:
        dims = list(range(ndim))
    dims = {d % ndim for d in ((dims,) if isinstance(dims, int) else dims)}
    if g.flat or ndim < 3:
        return _Step(_Geom(_global(g.h), _global(g.w), flat=True) if g.flat else g, kind)
    h = _global(g.h) if ndim - 2 in dims else g.h
    w = _global(g.w) if ndim - 1 in dims else g.w
    return _Step(_Geom(h, w, flat=not keepdim and (ndim - 2 in dims or ndim - 1 in dims)), kind)


def _shape_step(node: fx.Node, g: _Geom, in_node: fx.Node, strict: bool) -> _Step | None:
    """view/reshape/permute/indexing: follow the geometry when the layout says how."""
    kind = _func_name(node.target) if node.op == "call_function" else str(node.target)
    in_shape, out_shape = _tensor_meta_shape(in_node), _tensor_meta_shape(node)
    if in_shape is None:
        # The input is a tuple (torch.chunk, max_pool2d with return_indices): getitem picks a part.
        if node.target is operator.getitem or not strict:
            return _Step(g if strict else None, kind, show=False)
        raise UnsupportedOperationError(f"{kind} on a non-tensor input")
    if out_shape is None:
        if not strict:
            return _Step(None, kind, show=False)
        if node.target in ("chunk", "split", torch.chunk, torch.split):
            # x.chunk(n, dim) and torch.chunk(x, n, dim) alike: dim is the third argument
            dim = _arg(node, 2, "dim", 0)
            if dim % len(in_shape) < len(in_shape) - 2:  # a split of the channels
                return _Step(g, kind, show=False)
        raise UnsupportedOperationError(f"{kind} producing something other than a tensor")
    if g.flat:
        return _Step(g, kind, show=False)
    moves_spatial = False
    if node.target in ("permute", "transpose", torch.permute, torch.transpose):
        if node.target in ("permute", torch.permute):
            order = node.args[1:] if node.op == "call_method" and not isinstance(node.args[1], (tuple, list)) else node.args[1]
            order = [o % len(in_shape) for o in order]
        else:
            a, b = (v % len(in_shape) for v in node.args[1:3])
            order = list(range(len(in_shape)))
            order[a], order[b] = order[b], order[a]
        moves_spatial = order[-2:] != [len(in_shape) - 2, len(in_shape) - 1]
    if len(in_shape) >= 3 and len(out_shape) >= 3 and out_shape[-2:] == in_shape[-2:] and not moves_spatial:
        return _Step(g, kind, show=False)  # only the leading (channel) dimensions move
    if len(out_shape) <= 2 and node.target is not operator.getitem:
        return _flatten_step(g, kind)
    raise UnsupportedOperationError(
        f"{kind} turns shape {in_shape} into {out_shape}: it moves, crops or mixes the height "
        "and width axes, which receptive_field cannot follow")


def _pad_note(left: int, right: int, top: int, bottom: int) -> str:
    """The padding column shows the top/left padding; say so when the other sides differ."""
    if (left, top) == (right, bottom):
        return ""
    return f"padding top {top}, bottom {bottom}, left {left}, right {right}"


def _module_step(node: fx.Node, module: nn.Module, g: _Geom, strict: bool) -> _Step:
    kind = type(module).__name__
    if isinstance(module, nn.Conv2d):
        note = f"padding_mode={module.padding_mode}" if module.padding_mode != "zeros" else ""
        return _conv_step(g, kind, module.kernel_size, module.stride, module.dilation, module.padding, note=note)
    if isinstance(module, nn.MaxPool2d):
        return _conv_step(g, kind, module.kernel_size, module.stride, module.dilation, module.padding,
                          module.ceil_mode)
    if isinstance(module, nn.AvgPool2d):
        return _conv_step(g, kind, module.kernel_size, module.stride, 1, module.padding, module.ceil_mode)
    if isinstance(module, nn.LPPool2d):
        return _conv_step(g, kind, module.kernel_size, module.stride, 1, 0, module.ceil_mode)
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _adaptive_step(g, kind, module.output_size)
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return _dense_step(g, kind)
    if isinstance(module, nn.Flatten):
        if g.flat or module.start_dim in (0, 1, -3, -4) and module.end_dim in (-1, 3):
            return _flatten_step(g, kind) if not g.flat else _Step(g, kind)
        raise UnsupportedOperationError(f"Flatten(start_dim={module.start_dim}, end_dim={module.end_dim}) "
                                        "merges height and width into one axis")
    if isinstance(module, _PAD_MODULES):
        left, right, top, bottom = module.padding
        notes = [_pad_note(left, right, top, bottom)]
        if not isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d)):
            notes.append("border units see mirrored/repeated pixels")
        geom = _windowed(g, (1, 1), (1, 1), (1, 1), ((top, bottom), (left, right)))
        return _Step(geom, kind, padding=(top, left), note="; ".join(filter(None, notes)))
    if isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Softmin)):
        if g.flat or module.dim in (1, -3):
            return _Step(g, kind)
        raise UnsupportedOperationError(f"{kind}(dim={module.dim}) mixes units along a spatial axis")
    if isinstance(module, _ELEMENTWISE_MODULES):
        return _Step(g, kind)
    if isinstance(module, _STAT_NORM_MODULES):
        note = "" if g.flat else "its statistics come from the whole map; the field shown is that of the filters"
        return _Step(g, kind, note=note)
    raise UnsupportedOperationError(f"module {node.target!r} of type {kind}")


def _adaptive_step(g: _Geom, kind: str, output_size: Any) -> _Step:
    if g.flat:
        raise UnsupportedOperationError(f"{kind} applied to a flattened tensor")
    out_h, out_w = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    h, kh, note_h = _adaptive(g.h, out_h)
    w, kw, note_w = _adaptive(g.w, out_w)
    note = "; ".join(filter(None, [note_h, note_w]))
    return _Step(_Geom(h, w), kind, kernel=(kh, kw), stride=(kh, kw), note=note)


def _function_step(node: fx.Node, geoms: dict[fx.Node, _Geom | None], strict: bool) -> _Step | None:
    target = node.target
    kind = _func_name(target) if node.op == "call_function" else str(target)
    first = node.args[0] if node.args else None
    g = geoms.get(first) if isinstance(first, fx.Node) else None

    if node.op == "call_method" and target in _NON_TENSOR_METHODS or target is getattr:
        return _Step(None, kind, show=False)
    if target in _ELEMENTWISE_FUNCTIONS or node.op == "call_method" and target in _ELEMENTWISE_METHODS:
        return _Step(g, kind, show=False)
    if target in _BINARY_FUNCTIONS or node.op == "call_method" and target in _BINARY_METHODS:
        name = _BINARY_FUNCTIONS.get(target) or _BINARY_METHODS[target]
        tensors = [geoms[a] for a in node.args if isinstance(a, fx.Node) and geoms.get(a) is not None]
        if len(tensors) == 1:
            return _Step(tensors[0], name, show=False)  # x + 1, x * 0.5: elementwise
        geom, note = _merge(tensors, f"{name} node {node.name!r}")
        return _Step(geom, name, note=note)
    if target in _CAT_FUNCTIONS:
        parts = [a for a in node.args[0] if isinstance(a, fx.Node)]
        tensors = [geoms[a] for a in parts if geoms.get(a) is not None]
        dim = _arg(node, 1, "dim", 0)
        ndim = len(_tensor_meta_shape(parts[0]) or (0, 0, 0, 0))
        if tensors and not tensors[0].flat and ndim >= 3 and dim % ndim >= ndim - 2:
            raise UnsupportedOperationError(f"cat along dimension {dim} (height or width)")
        geom, note = _merge(tensors, f"cat node {node.name!r}") if len(tensors) > 1 else (tensors[0], "")
        return _Step(geom, "cat", note=note)
    if g is None:
        return None  # no input that depends on the image: nothing to follow
    if target in (F.max_pool2d, torch.max_pool2d, F.max_pool2d_with_indices):
        return _conv_step(g, "max_pool2d", _arg(node, 1, "kernel_size"), _arg(node, 2, "stride"),
                          _arg(node, 4, "dilation", 1), _arg(node, 3, "padding", 0), bool(_arg(node, 5, "ceil_mode", False)))
    if target is F.avg_pool2d:
        return _conv_step(g, "avg_pool2d", _arg(node, 1, "kernel_size"), _arg(node, 2, "stride"), 1,
                          _arg(node, 3, "padding", 0), bool(_arg(node, 4, "ceil_mode", False)))
    if target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
        return _adaptive_step(g, kind, _arg(node, 1, "output_size"))
    if target in (F.conv2d, torch.conv2d):
        weight = _tensor_meta_shape(_arg(node, 1, "weight"))
        if weight is None:
            if strict:
                raise UnsupportedOperationError("conv2d whose weight shape is unknown")
            return _Step(None, kind)
        return _conv_step(g, "conv2d", tuple(weight[-2:]), _arg(node, 3, "stride", 1),
                          _arg(node, 5, "dilation", 1), _arg(node, 4, "padding", 0))
    if target is F.pad:
        pad = list(_arg(node, 1, "pad")) + [0, 0, 0, 0]
        left, right, top, bottom = pad[:4]
        geom = _windowed(g, (1, 1), (1, 1), (1, 1), ((top, bottom), (left, right)))
        return _Step(geom, "pad", padding=(top, left), note=_pad_note(left, right, top, bottom))
    if target in (F.linear,):
        return _dense_step(g, "linear")
    if target is torch.flatten or node.op == "call_method" and target == "flatten":
        start, end = _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1)
        if g.flat or start in (0, 1) and end in (-1, 3):
            return _flatten_step(g, "flatten") if not g.flat else _Step(g, "flatten", show=False)
        raise UnsupportedOperationError(f"flatten(start_dim={start}) merges height and width into one axis")
    if target in _REDUCE_FUNCTIONS or node.op == "call_method" and target in _REDUCE_METHODS:
        ndim = len(_tensor_meta_shape(first) or (0, 0, 0, 0))
        return _reduce_step(g, kind, _arg(node, 1, "dim"), bool(_arg(node, 2, "keepdim", False)), ndim)
    if target in (F.softmax, F.log_softmax, torch.softmax) or node.op == "call_method" and target in ("softmax", "log_softmax"):
        dim = _arg(node, 1, "dim")
        if g.flat or dim in (1, -3):
            return _Step(g, kind, show=False)
        raise UnsupportedOperationError(f"{kind}(dim={dim}) mixes units along a spatial axis")
    if target in _SHAPE_FUNCTIONS or node.op == "call_method" and target in _SHAPE_METHODS:
        return _shape_step(node, g, first, strict)
    if not strict:
        return _Step(None, kind)  # searching for the smallest input: stop following this path
    raise UnsupportedOperationError(f"{node.op} {kind!r}")


def _row_name(node: fx.Node) -> str:
    """Modules by their qualified name; functions as '<enclosing module>.<node name>'."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    path = next(reversed(stack.values()))[0] if stack else ""
    return f"{path}.{node.name}" if path else node.name


def _module_paths(node: fx.Node) -> tuple[str, ...]:
    """Qualified names of the modules that enclose ``node`` (itself included for a module call)."""
    paths = [path for path, _ in (node.meta.get("nn_module_stack") or {}).values()]
    if node.op == "call_module":
        paths.append(str(node.target))
    return tuple(paths)


def _propagate(gm: fx.GraphModule, height: int, width: int, *, strict: bool) -> list[tuple[fx.Node, _Step]]:
    """Follow the geometry through the graph for an ``height`` x ``width`` input.

    With ``strict`` (after shape propagation) every operation must be understood
    and sizes are checked against the real ones; without it (while searching for
    the smallest input) paths through unknown operations are simply dropped.
    Raises ``_TooSmall`` at the first node that has no unit left.
    """
    modules = dict(gm.named_modules())
    geoms: dict[fx.Node, _Geom | None] = {}
    steps: list[tuple[fx.Node, _Step]] = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if steps:  # a second input to the network
                geoms[node] = None
                continue
            step = _Step(_Geom(_Axis(height, 1, 0, 0), _Axis(width, 1, 0, 0)), "input")
        elif node.op in ("get_attr", "output"):
            geoms[node] = None
            continue
        else:
            tensor_inputs = [a for a in node.all_input_nodes if geoms.get(a) is not None]
            if not tensor_inputs:
                geoms[node] = None
                continue
            try:
                if node.op == "call_module":
                    step = _module_step(node, modules[node.target], geoms[tensor_inputs[0]], strict)
                else:
                    step = _function_step(node, geoms, strict)
            except UnsupportedOperationError as exc:
                if not strict:
                    geoms[node] = None
                    continue
                raise UnsupportedOperationError(
                    f"receptive_field cannot analyse node {node.name!r} ({_row_name(node)}): {exc}. "
                    "It handles convolutions, max/avg/adaptive pooling, padding, Linear, Flatten, "
                    "elementwise operations, additions and channel concatenations; extend "
                    "coursekit.inspect or analyse the part of the network before this layer."
                ) from None
            if step is None:
                geoms[node] = None
                continue
            if step.geom is not None and step.geom.flat is False:
                for axis, before, after in (("height", geoms[tensor_inputs[0]].h, step.geom.h),
                                            ("width", geoms[tensor_inputs[0]].w, step.geom.w)):
                    if after.size < 1:
                        raise _TooSmall(node, step, axis, before.size, after.size)
        geoms[node] = step.geom
        steps.append((node, step))
        if strict and step.geom is not None and not step.geom.flat:
            shape = _tensor_meta_shape(node)
            if shape is not None and len(shape) >= 3 and tuple(shape[-2:]) != (step.geom.h.size, step.geom.w.size):
                raise RuntimeError(
                    f"coursekit.inspect computed a {step.geom.h.size}x{step.geom.w.size} map at node "
                    f"{node.name!r} but PyTorch produced {tuple(shape)}; please report this bug.")
    return steps


class _ShapeRecorder(fx.Interpreter):
    """Runs the traced network and stores each node's output shape in ``node.meta``."""

    current: fx.Node | None = None  # the node being run, to name it if it fails

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        result = super().run_node(n)
        n.meta[_SHAPE_KEY] = tuple(result.shape) if isinstance(result, torch.Tensor) else None
        return result


def _trace(net: nn.Module) -> fx.GraphModule:
    try:
        # Traced in eval mode: a forward() that branches on self.training
        # (from-scratch BatchNorm, GoogLeNet's auxiliary heads) takes its
        # inference path, the one whose geometry is reported.
        with _eval_mode(net):
            return fx.symbolic_trace(net)
    except Exception as exc:
        raise RuntimeError(
            f"receptive_field follows the dataflow graph of the network, and torch.fx could not "
            f"trace {type(net).__name__}: {type(exc).__name__}: {exc}. The usual cause is Python "
            "control flow (if/for) that depends on tensor values in forward()."
        ) from exc


def _smallest_size(gm: fx.GraphModule, height: int, width: int) -> tuple[int, int]:
    """Smallest (H, W) for which no layer shrinks the map to nothing.

    Output sizes only grow with the input size, so a doubling search followed
    by bisection finds the smallest size along each axis (the other axis is
    made large enough not to matter).
    """
    big = 1 << 20

    def fits(h: int, w: int) -> bool:
        try:
            _propagate(gm, h, w, strict=False)
            return True
        except _TooSmall:
            return False

    result = []
    for axis in range(2):
        def ok(n: int) -> bool:
            return fits(n, big) if axis == 0 else fits(big, n)
        hi = max(1, (height, width)[axis])
        while not ok(hi):
            if hi > big:
                raise RuntimeError("no input size works for this network")
            hi *= 2
        lo = 0  # ok(lo) is False or lo == 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid
        result.append(hi)
    return result[0], result[1]


def _forward_failure(net: nn.Module, shape: tuple[int, ...]) -> str | None:
    """The first line of the error of a forward pass on ``shape``, or None if it runs.

    Lazy networks are not run: a forward pass would fix their sizes."""
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters()):
        return None
    try:
        with _eval_mode(net), torch.no_grad():
            net(_probe_tensor(net, shape))
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def _too_small_error(net: nn.Module, gm: fx.GraphModule, shape: tuple[int, ...],
                     err: _TooSmall) -> InputTooSmallError:
    s = err.step
    window = ", ".join(f"{what} {_hw(v)}" for what, v in (("kernel", s.kernel), ("stride", s.stride),
                                                            ("padding", s.padding)) if v is not None)
    try:
        h, w = _smallest_size(gm, shape[-2], shape[-1])
        smallest = (*shape[:-2], h, w)
        advice = (f"The smallest input for which no layer shrinks the map to nothing is "
                  f"{_shape_str(smallest)}.")
        failure = _forward_failure(net, smallest)
        if failure:
            advice += (f" The network still fails at that size ({failure}): layers after a "
                       "Flatten often need one exact input size.")
    except RuntimeError:
        smallest, advice = None, "No input size works."
    layer = _row_name(err.node)
    message = (
        f"Input {_shape_str(shape)} is too small for {type(net).__name__}: layer {layer!r} "
        f"({s.type}{', ' + window if window else ''}) shrinks the {err.axis} from {err.size_in} to "
        f"{err.size_out} units. {advice}"
    )
    return InputTooSmallError(message, layer, shape, smallest)


def _diagnose_failure(net: nn.Module, shape: tuple[int, ...], exc: BaseException,
                      failing_module: str | None = None) -> None:
    """After a forward pass failed: raise InputTooSmallError if the input is too
    small; otherwise add the failing layer to the error and let it propagate."""
    if len(shape) == 4:
        try:
            gm = _trace(net)
            _propagate(gm, shape[-2], shape[-1], strict=False)
        except _TooSmall as small:
            raise _too_small_error(net, gm, shape, small) from exc
        except Exception:  # not traceable: fall back to the plain error
            pass
    if failing_module is not None and hasattr(exc, "add_note"):
        exc.add_note(f"coursekit.inspect: the error happened in layer {failing_module!r} "
                     f"for input size {_shape_str(shape)}.")


class ReceptiveField(_Table):
    """The result of :func:`receptive_field`; ``rows`` is a list of :class:`FieldRow`.

    ``table["features.3"]`` returns the row of a layer; the name of a
    container (``"features"``, ``"b3"``) gives the row of its last layer, i.e.
    the geometry of the container's output.
    """

    def __init__(self, rows: list[FieldRow], input_size: tuple[int, ...], net_name: str,
                 gm: fx.GraphModule, outputs: list[tuple[str, tuple[str, ...], int]]) -> None:
        self.rows = rows
        self.input_size = input_size
        self.net_name = net_name
        self.graph_module = gm  # the traced network, for effective_receptive_field
        # Every node with a geometry, rows or not (F.relu has no row of its own):
        # (node name, enclosing module paths, index of the row with its geometry).
        self._outputs = outputs
        self._columns = (
            _Column("layer", lambda r: r.name),
            _Column("type", lambda r: r.type),
            _Column("kernel", lambda r: _hw(r.kernel), right=True),
            _Column("stride", lambda r: _hw(r.stride), right=True),
            _Column("dilation", lambda r: _hw(r.dilation), right=True),
            _Column("padding", lambda r: _hw(r.padding), right=True),
            _Column("jump", lambda r: "-" if r.flat else _hw(r.jump), right=True),
            _Column("rf", lambda r: _hw(r.rf), right=True),
            _Column("center", lambda r: _hw(r.center), right=True),
            _Column("output", lambda r: _shape_str(r.output_shape)),
            _Column("note", lambda r: r.note),
        )

    def __getitem__(self, key: int | str) -> FieldRow:
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if key in (row.name, row.node):
                return row
        inside = [(node, i) for node, paths, i in self._outputs if key in paths]
        if inside:
            # Nodes are in dataflow order: the last one inside the container is
            # its output (often an F.relu after the last row: same geometry).
            node, i = inside[-1]
            return replace(self.rows[i], name=key, node=node)
        raise KeyError(f"no layer named {key!r}; layers: {', '.join(r.name for r in self.rows)}")

    def box(self, layer: str, unit: tuple[int, int] = (0, 0), clip: bool = True
            ) -> tuple[int, int, int, int]:
        """Input pixels seen by ``unit`` (row, column) of ``layer``'s output.

        Returns ``(top, bottom, left, right)``, inclusive; with ``clip`` the
        field is cut at the image border (zero padding has no pixels).
        """
        row = self[layer]
        (top, bottom), (left, right) = row.first_field
        top, bottom = top + unit[0] * row.jump[0], bottom + unit[0] * row.jump[0]
        left, right = left + unit[1] * row.jump[1], right + unit[1] * row.jump[1]
        if clip:
            height, width = self.input_size[-2:]
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, height - 1), min(right, width - 1)
        return int(math.floor(top)), int(math.ceil(bottom)), int(math.floor(left)), int(math.ceil(right))

    def _caption(self) -> list[str]:
        return [f"{self.net_name}, input {_shape_str(self.input_size)}: receptive fields in input "
                "pixels (height x width when they differ)"]

    def _footer(self) -> list[str]:
        last = self.rows[-1]
        seen = "the whole input" if last.whole else "a patch of the input"
        return [f"A unit of the last layer ({last.name}) sees {seen}: "
                f"{_num(last.rf[0])}x{_num(last.rf[1])} pixels (height x width)."]


def receptive_field(net: nn.Module, input_size: Any) -> ReceptiveField:
    """Receptive field of every layer, along height and width, following the dataflow graph.

    Args:
        net: a 2-D network that ``torch.fx.symbolic_trace`` can trace.
        input_size: ``(N, C, H, W)`` or ``(C, H, W)``.

    Returns:
        a :class:`ReceptiveField` table: one :class:`FieldRow` for the input,
        every layer (leaf module) and every function that changes the geometry
        or merges paths (add, cat, pooling, flatten), in dataflow order.

    Raises:
        InputTooSmallError: a layer shrinks the map to nothing; the message says
            which, and the smallest input size that works.
        UnsupportedOperationError: an operation whose geometry is unknown
            (named with its node); nothing is skipped silently.
        RuntimeError: torch.fx cannot trace the network.
    """
    shape = _normalize_input_size(input_size, spatial=True)
    gm = _trace(net)
    # The arithmetic alone finds an input that is too small, before any forward pass.
    try:
        _propagate(gm, shape[-2], shape[-1], strict=False)
    except _TooSmall as small:
        raise _too_small_error(net, gm, shape, small) from None
    recorder = _ShapeRecorder(gm)
    try:
        with _eval_mode(gm), torch.no_grad():
            recorder.run(_probe_tensor(net, shape))
    except Exception as exc:
        where = f" in layer {_row_name(recorder.current)!r}" if recorder.current is not None else ""
        message = str(exc).split("\n\nWhile executing")[0]  # torch.fx appends the graph node
        raise RuntimeError(f"{type(net).__name__} fails on an input of size {_shape_str(shape)}{where}: "
                           f"{message}") from exc
    steps = _propagate(gm, shape[-2], shape[-1], strict=True)

    height, width = shape[-2:]
    rows: list[FieldRow] = []
    outputs: list[tuple[str, tuple[str, ...], int]] = []
    row_of: dict[fx.Node, int] = {}  # the row that holds each node's geometry
    for node, step in steps:
        if step.geom is None:
            continue
        if not step.show:  # geometry-preserving: the row of its input describes it
            source = [row_of[a] for a in node.all_input_nodes if a in row_of]
            if source:
                row_of[node] = source[0]
                outputs.append((node.name, _module_paths(node), source[0]))
            continue
        row_of[node] = len(rows)
        outputs.append((node.name, _module_paths(node), len(rows)))
        g = step.geom
        whole = g.h.lo <= 0 and g.h.hi >= height - 1 and g.w.lo <= 0 and g.w.hi >= width - 1
        notes = [step.note] if step.note else []
        if not (g.h.solid and g.w.solid) and "rectangle" not in step.note:
            notes.append("the field has holes (dilated taps further apart than each tap sees)")
        out_shape = _tensor_meta_shape(node)
        rows.append(FieldRow(
            name=_row_name(node) if node.op != "placeholder" else "input",
            node=node.name,
            type=step.type,
            kernel=step.kernel, stride=step.stride, dilation=step.dilation, padding=step.padding,
            jump=(g.h.jump, g.w.jump),
            rf=(g.h.rf, g.w.rf),
            center=(g.h.center, g.w.center),
            first_field=((g.h.lo, g.h.hi), (g.w.lo, g.w.hi)),
            size=(g.h.size, g.w.size),
            flat=g.flat,
            solid=g.h.solid and g.w.solid,
            whole=whole,
            output_shape=out_shape,
            note="; ".join(notes),
        ))
    return ReceptiveField(rows, shape, type(net).__name__, gm, outputs)


# ---------------------------------------------------------------------------
# Effective receptive field (Luo et al., 2016)
# ---------------------------------------------------------------------------


def _truncate(gm: fx.GraphModule, node_name: str) -> fx.GraphModule:
    """A copy of the traced network that returns the output of node ``node_name``."""
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    graph.graph_copy(gm.graph, env)  # copies every node but the output
    target = next(n for n in gm.graph.nodes if n.name == node_name)
    graph.output(env[target])
    sub = fx.GraphModule(gm, graph)
    sub.graph.eliminate_dead_code()  # drop the layers after the target
    sub.recompile()
    return sub


@dataclass
class EffectiveReceptiveField:
    """The result of :func:`effective_receptive_field`.

    Attributes:
        grad: ``(H, W)`` array, mean over random inputs of ``|d unit / d input|``
            summed over input channels.
        layer: the layer whose unit was probed; ``unit``: its (row, column).
        box: the theoretical field of that unit clipped to the image,
            ``(top, bottom, left, right)`` inclusive.
        rf: the theoretical field size ``(height, width)``, unclipped.
        n_samples: how many random inputs were averaged.
    """

    grad: np.ndarray
    layer: str
    unit: tuple[int, int]
    box: tuple[int, int, int, int]
    rf: tuple[float, float]
    n_samples: int

    def support_box(self) -> tuple[int, int, int, int] | None:
        """Bounding box ``(top, bottom, left, right)`` of the pixels with a non-zero gradient."""
        rows, cols = np.nonzero(self.grad)
        if rows.size == 0:
            return None
        return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())

    def __repr__(self) -> str:
        t, b, l, r = self.box
        return (f"EffectiveReceptiveField(layer={self.layer!r}, unit={self.unit}, "
                f"theoretical rf {_hw(self.rf)} -> rows {t}..{b}, columns {l}..{r} in the image, "
                f"{self.n_samples} random inputs)")

    def plot(self, axes: Any = None) -> Any:
        """Draw the heat map next to the theoretical field; see :func:`plot_effective_receptive_field`."""
        return plot_effective_receptive_field(self, axes)


def effective_receptive_field(net: nn.Module, input_size: Any, layer: str | None = None,
                              unit: tuple[int, int] | None = None, n_samples: int = 32,
                              batch_size: int = 8, seed: int = 0) -> EffectiveReceptiveField:
    """The effective receptive field of one unit (Luo et al., 2016).

    It is the gradient of the unit (summed over its channels) with respect to
    the input, in absolute value, summed over input channels and averaged over
    ``n_samples`` standard normal inputs, with the network in evaluation mode.
    Luo et al. show that it is much smaller than the theoretical field and
    roughly Gaussian.

    Args:
        layer: a row name of :func:`receptive_field` or a container name;
            default: the last layer whose output is a map of more than one unit.
        unit: ``(row, column)`` in that layer's output; default: the centre.
        seed: seeds the random inputs, so the result is reproducible.

    Returns:
        an :class:`EffectiveReceptiveField` with the array in ``.grad`` and the
        theoretical field in ``.box``; ``.plot()`` draws both.
    """
    if n_samples < 1 or batch_size < 1:
        raise ValueError("n_samples and batch_size must be positive")
    table = receptive_field(net, input_size)
    if layer is None:
        # The last node whose output is a map of more than one unit (an F.relu
        # after the last such row counts: same geometry, but it shapes the gradient).
        spatial = [(node, i) for node, _, i in table._outputs
                   if not table.rows[i].flat and table.rows[i].size[0] * table.rows[i].size[1] > 1]
        node, i = spatial[-1] if spatial else (table.rows[0].node, 0)
        row = replace(table.rows[i], node=node)
    else:
        row = table[layer]
    if row.flat:
        raise ValueError(f"layer {row.name!r} has a flattened output; pick a layer with a feature map.")
    if unit is None:
        unit = (row.size[0] // 2, row.size[1] // 2)
    if not (0 <= unit[0] < row.size[0] and 0 <= unit[1] < row.size[1]):
        raise ValueError(f"unit {unit} is outside the {row.size[0]}x{row.size[1]} output of {row.name!r}")
    sub = _truncate(table.graph_module, row.node)
    shape = table.input_size
    probe = _probe_tensor(net, shape)
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros(shape[-2:], dtype=torch.float64)
    done = 0
    with _eval_mode(net):
        while done < n_samples:
            n = min(batch_size, n_samples - done)
            x = torch.randn((n, *shape[1:]), generator=generator, dtype=probe.dtype).to(probe.device)
            x.requires_grad_(True)
            out = sub(x)
            # Samples are independent in eval mode, so one backward pass gives
            # each sample's own gradient.
            (grad,) = torch.autograd.grad(out[:, :, unit[0], unit[1]].sum(), x)
            total += grad.abs().sum(dim=(0, 1)).double().cpu()
            done += n
    return EffectiveReceptiveField(
        grad=(total / n_samples).numpy(), layer=row.name, unit=tuple(unit),
        box=table.box(row.name, unit), rf=row.rf, n_samples=n_samples)


def plot_effective_receptive_field(erf: EffectiveReceptiveField, axes: Any = None) -> Any:
    """Draw the effective receptive field as a heat map with the theoretical field on it.

    Left: the heat map of ``erf.grad`` with the theoretical field (clipped to
    the image) as a rectangle. Right: the profile through the unit's row,
    normalised, with the theoretical field's extent as dashed lines: the
    effective field is peaked while the theoretical one is flat.

    Args:
        axes: two matplotlib axes; by default a new figure is made.

    Returns:
        the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    else:
        fig = axes[0].figure
    heat, profile = axes
    top, bottom, left, right = erf.box
    heat.imshow(erf.grad, cmap="viridis")
    heat.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1,
                             fill=False, edgecolor="red", linewidth=1.5, label="theoretical field"))
    heat.set_title(f"effective receptive field: {erf.layer!r}, unit {erf.unit}")
    heat.legend(loc="lower right", fontsize="small")
    centre_row = min(max((top + bottom) // 2, 0), erf.grad.shape[0] - 1)
    line = erf.grad[centre_row]
    peak = line.max() if line.max() > 0 else 1.0
    profile.plot(np.arange(line.size), line / peak, label="effective (normalised)")
    profile.axvline(left, color="red", linestyle="--", label="theoretical field")
    profile.axvline(right, color="red", linestyle="--")
    profile.set_xlabel("input column")
    profile.set_title(f"profile through row {centre_row}")
    profile.legend(fontsize="small")
    fig.tight_layout()
    return fig
