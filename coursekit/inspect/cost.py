"""What a forward pass costs: arithmetic (:func:`flops`) and memory (:func:`memory`).

Both run one zero batch of ``input_size`` through the network in evaluation
mode and leave the network as it was. ``flops`` counts with
``torch.utils.flop_counter``; ``memory`` records every tensor the operators
create. Both count the whole batch: FLOPs and activations grow with ``N``,
parameters do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn

from .diagnose import diagnose_failure
from .graph import data_dependent_branch
from .probe import check_initialized, check_module, eval_mode, normalize_input_size, output_shape_of, probe_tensor
from .table import Column, Table, format_bytes, shape_str, si

__all__ = ["FlopCount", "FlopRow", "MemoryRow", "MemoryUse", "flops", "memory"]


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


class FlopCount(Table[FlopRow]):
    """The result of :func:`flops`.

    ``flops`` counts floating-point operations with one multiply-add = 2 FLOPs
    (the convention of ``torch.utils.flop_counter``); ``macs`` counts
    multiply-adds (= ``flops / 2``), the number many papers call "FLOPs".
    ``rows`` is a list of :class:`FlopRow`; ``table["features.0"]`` is one of them.
    """

    _row_kind = ("layer", "layers")

    def __init__(self, total: int, rows: list[FlopRow], by_operator: dict[str, int],
                 input_size: tuple[int, ...], note: str | None = None) -> None:
        self.note = note
        self.flops = total
        self.macs = total // 2
        self.rows = rows
        self.by_module = {r.name: r.flops for r in rows}
        self.by_operator = by_operator
        self.input_size = input_size
        self._columns = (
            Column("layer", lambda r: r.name),
            Column("type", lambda r: r.type),
            Column("FLOPs", lambda r: f"{r.flops:,}", right=True),
            Column("multiply-adds", lambda r: f"{r.macs:,}", right=True),
            Column("share", lambda r: f"{100 * r.share:.1f}%", right=True),
        )

    def _caption(self) -> list[str]:
        return [f"Forward pass on input {shape_str(self.input_size)}: {si(self.flops)}FLOPs = "
                f"{si(self.macs)}MACs (multiply-accumulates; 1 MAC = 2 FLOPs)"]

    def _footer(self) -> list[str]:
        return ["Counted by torch.utils.flop_counter: convolutions and matrix products only; "
                "activations, normalisation, pooling and bias additions are not counted.",
                *([self.note] if self.note else [])]


def flops(net: nn.Module, input_size: Any) -> FlopCount:
    """Count the FLOPs of one forward pass with ``torch.utils.flop_counter``.

    Returns:
        a :class:`FlopCount`: ``.flops`` (2 per multiply-add), ``.macs``
        (multiply-adds, half of it), ``.by_module`` and ``.rows`` per leaf
        module in call order, ``.by_operator`` per aten operator. The count is
        for the whole batch of ``input_size``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    check_module(net, "flops")

    shape = normalize_input_size(input_size, spatial=False)
    counter = FlopCounterMode(display=False)
    try:
        with eval_mode(net), torch.no_grad(), counter:
            net(probe_tensor(net, shape))
    except Exception as exc:
        diagnose_failure(net, shape, exc)
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
    return FlopCount(total, rows, by_operator, shape, data_dependent_branch(net))



# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------


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


class MemoryUse(Table[MemoryRow]):
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

    ``table["features.0"]`` is the row of a module that created tensors.
    """

    _row_kind = ("module", "modules that created tensors")

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
            Column("layer", lambda r: r.name),
            Column("type", lambda r: r.type),
            Column("output shape", lambda r: shape_str(r.output_shape)),
            Column("activations", lambda r: format_bytes(r.activation_bytes), right=True),
            Column("parameters", lambda r: format_bytes(r.param_bytes), right=True),
        )

    def _caption(self) -> list[str]:
        dtype = str(self.dtype).replace("torch.", "")
        return [f"{self.net_name}, input {shape_str(self.input_size)} in {dtype}: memory of one forward pass"]

    def _footer(self) -> list[str]:
        return [
            f"Parameters {format_bytes(self.params)}, buffers {format_bytes(self.buffers)}, "
            f"input {format_bytes(self.input)}, "
            f"activations {format_bytes(self.activations)} (every tensor the forward pass creates, each once).",
            f"Kept for the backward pass when training: {format_bytes(self.saved)}.",
        ]


def _storage_key(t: torch.Tensor) -> tuple[str, int]:
    return (str(t.device), t.untyped_storage().data_ptr())


def _tensors_in(out: Any) -> Iterator[torch.Tensor]:
    """The tensors an operator returned: one tensor, or tuples and lists of them (max with indices...)."""
    if isinstance(out, torch.Tensor):
        yield out
    elif isinstance(out, (tuple, list)):
        for item in out:
            yield from _tensors_in(item)


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
    from torch.utils._python_dispatch import TorchDispatchMode

    check_module(net, "memory")

    check_initialized(net, "memory")
    shape = normalize_input_size(input_size, spatial=False)
    x = probe_tensor(net, shape)
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
            for t in _tensors_in(out):
                if t.untyped_storage().nbytes() > 0:
                    key = _storage_key(t)
                    if key not in known and key not in created:
                        # Keeping ``t`` alive keeps its memory from being reused.
                        created[key] = (stack[-1] if stack else net, t.untyped_storage().nbytes(), t)
            return out

    def pre_hook(module: nn.Module, args: Any) -> None:
        stack.append(module)

    def post_hook(module: nn.Module, args: Any, out: Any) -> None:
        stack.pop()
        last_output[module] = output_shape_of(out)

    handles = [h for m in names for h in (m.register_forward_pre_hook(pre_hook), m.register_forward_hook(post_hook))]
    try:
        with eval_mode(net), torch.no_grad(), Recorder():
            net(x)
    except Exception as exc:
        diagnose_failure(net, shape, exc, failing_module=names.get(stack[-1]) if stack else None)
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

    with eval_mode(net), torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
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


