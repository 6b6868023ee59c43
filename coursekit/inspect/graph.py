"""The torch.fx engine behind receptive fields: follow the geometry through the dataflow graph.

:func:`trace` turns a network into a graph of nodes (module calls, functions
such as ``F.relu`` or ``torch.cat``, methods such as ``x.view``), and
:func:`propagate` walks them in dataflow order, giving each node a
:class:`Step`: the :class:`~.geometry.Geom` of its output (from the arithmetic
of :mod:`.geometry`) and what the table shows about it. Paths that meet
(``x + shortcut``, ``torch.cat``) are merged. An operation whose geometry is
unknown raises :class:`~coursekit.inspect.UnsupportedOperationError` rather
than being skipped, because skipping it would silently give a wrong field.

:class:`ShapeRecorder` runs the traced graph once and leaves each node's real
output shape in ``node.meta``, so that :func:`propagate` can check its sizes
against PyTorch's.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from .errors import UnsupportedOperationError
from .geometry import Axis, Geom, adaptive_window, global_window, merge, window_2d
from .probe import eval_mode

__all__ = ["ShapeRecorder", "ShrunkToNothing", "Step", "module_paths", "propagate", "recorded_shape",
           "row_name", "trace"]


@dataclass
class Step:
    """What one node does: its output geometry and what the table shows."""

    geom: Geom | None
    type: str = ""
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    dilation: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    note: str = ""
    show: bool = True  # elementwise functions (F.relu...) get no row of their own


class ShrunkToNothing(Exception):
    """Raised by :func:`propagate` at the first node whose output has no unit left.

    Not an error for the learner: :mod:`.diagnose` turns it into an
    :class:`~coursekit.inspect.InputTooSmallError` that names the layer.
    """

    def __init__(self, node: fx.Node, step: Step, axis: str, size_in: int, size_out: int) -> None:
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


_SHAPE_KEY = "coursekit_shape"  # where ShapeRecorder leaves the output shape of a node


def _arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """Argument ``name`` of a traced call, passed by position or by keyword."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def recorded_shape(node: Any) -> tuple[int, ...] | None:
    """The output shape :class:`ShapeRecorder` saw for ``node``; None for a non-tensor or not a node."""
    if not isinstance(node, fx.Node):
        return None
    return node.meta.get(_SHAPE_KEY)


def _func_name(target: Any) -> str:
    name = getattr(target, "__name__", str(target))
    return "max_pool2d" if name == "fn" else name  # boolean_dispatch wrappers are called "fn"


def _conv_pads(k: tuple[int, int], d: tuple[int, int], padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        # PyTorch puts the odd pixel of 'same' padding at the bottom/right.
        totals = [d[i] * (k[i] - 1) for i in range(2)]
        return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
    p = _pair(padding)
    return ((p[0], p[0]), (p[1], p[1]))


def _conv_step(g: Geom, kind: str, k: Any, s: Any, d: Any, padding: Any,
               ceil_mode: bool = False, note: str = "") -> Step:
    k, d = _pair(k), _pair(d)
    s = _pair(s) if s not in (None, [], ()) else k  # pooling: stride defaults to the kernel
    pads = _conv_pads(k, d, padding)
    geom = window_2d(g, k, s, d, pads, ceil_mode)
    note = "; ".join(filter(None, [note, _pad_note(pads[1][0], pads[1][1], pads[0][0], pads[0][1]),
                                   "ceil_mode" if ceil_mode else ""]))
    return Step(geom, kind, k, s, d, (pads[0][0], pads[1][0]), note)


def _flatten_step(g: Geom, kind: str) -> Step:
    return Step(Geom(g.h, g.w, flat=True), kind,
                note="flattened (a Linear layer after it sees the whole map)")


def _dense_step(g: Geom, kind: str) -> Step:
    """Linear: every output feature sees every input feature."""
    if g.flat:
        return Step(Geom(global_window(g.h), global_window(g.w), flat=True), kind)
    # nn.Linear on a 4-D map mixes only along its last axis, the width.
    return Step(Geom(g.h, global_window(g.w)), kind, note="Linear on a feature map mixes along the width only")


def _reduce_step(g: Geom, kind: str, dims: Any, keepdim: bool, ndim: int) -> Step:
    """mean/sum/amax over some dimensions: over height and/or width it is global pooling."""
    if dims is None:
        dims = list(range(ndim))
    dims = {d % ndim for d in ((dims,) if isinstance(dims, int) else dims)}
    if g.flat or ndim < 3:
        return Step(Geom(global_window(g.h), global_window(g.w), flat=True) if g.flat else g, kind)
    h = global_window(g.h) if ndim - 2 in dims else g.h
    w = global_window(g.w) if ndim - 1 in dims else g.w
    return Step(Geom(h, w, flat=not keepdim and (ndim - 2 in dims or ndim - 1 in dims)), kind)


def _index_touches_spatial(index: Any, ndim: int) -> bool:
    """Whether ``x[index]`` on an ``ndim``-dimensional map does anything but take all of height and width."""
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        cut = items.index(Ellipsis)
        front, back = items[:cut], items[cut + 1:]
    else:
        front, back = items, []
    def along(dims: list[int], parts: list[Any]) -> bool:
        return any(d >= ndim - 2 and not (isinstance(p, slice) and p == slice(None)) for d, p in zip(dims, parts))
    front = [p for p in front if p is not None]  # None adds an axis and indexes none
    back = [p for p in back if p is not None]
    return along(list(range(len(front))), front) or along(list(range(ndim - len(back), ndim)), back)


def data_dependent_branch(net: nn.Module) -> str | None:
    """A warning when ``forward`` branches on tensor values (its path depends on the input), else None."""
    try:
        with eval_mode(net):
            fx.symbolic_trace(net)
    except fx.proxy.TraceError as exc:
        if "control flow" in str(exc):
            return ("Note: forward() branches on the input's values (Python if/while on a tensor): this table "
                    "follows the path this input took; another input may take another.")
    except Exception:  # untraceable for other reasons: nothing to say about branches
        pass
    return None


def _shape_step(node: fx.Node, g: Geom, in_node: fx.Node, strict: bool) -> Step | None:
    """view/reshape/permute/indexing: follow the geometry when the layout says how."""
    kind = _func_name(node.target) if node.op == "call_function" else str(node.target)
    in_shape, out_shape = recorded_shape(in_node), recorded_shape(node)
    if in_shape is None:
        # The input is a tuple (torch.chunk, max_pool2d with return_indices): getitem picks a part.
        if node.target is operator.getitem or not strict:
            return Step(g if strict else None, kind, show=False)
        raise UnsupportedOperationError(f"{kind} on a non-tensor input")
    if out_shape is None:
        if not strict:
            return Step(None, kind, show=False)
        if node.target in ("chunk", "split", torch.chunk, torch.split):
            # x.chunk(n, dim) and torch.chunk(x, n, dim) alike: dim is the third argument
            dim = _arg(node, 2, "dim", 0)
            if dim % len(in_shape) < len(in_shape) - 2:  # a split of the channels
                return Step(g, kind, show=False)
        raise UnsupportedOperationError(f"{kind} producing something other than a tensor")
    if g.flat:
        return Step(g, kind, show=False)
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
    if node.target is operator.getitem and _index_touches_spatial(node.args[1], len(in_shape)):
        if not strict:
            return Step(None, kind, show=False)
        raise UnsupportedOperationError(
            "indexing that selects, crops or reorders along the height or width (e.g. x[..., idx]), which "
            "receptive_field cannot follow")
    if len(in_shape) >= 3 and len(out_shape) >= 3 and out_shape[-2:] == in_shape[-2:] and not moves_spatial:
        return Step(g, kind, show=False)  # only the leading (channel) dimensions move
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


def _pad_step(g: Geom, kind: str, left: int, right: int, top: int, bottom: int, note: str = "") -> Step:
    """Padding (nn.ZeroPad2d and co., F.pad), given in PyTorch's order: left, right, top, bottom."""
    geom = window_2d(g, (1, 1), (1, 1), (1, 1), ((top, bottom), (left, right)))
    notes = [_pad_note(left, right, top, bottom), note]
    return Step(geom, kind, padding=(top, left), note="; ".join(filter(None, notes)))


def _module_step(node: fx.Node, module: nn.Module, g: Geom, strict: bool) -> Step:
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
            return _flatten_step(g, kind) if not g.flat else Step(g, kind)
        raise UnsupportedOperationError(f"Flatten(start_dim={module.start_dim}, end_dim={module.end_dim}) "
                                        "merges height and width into one axis")
    if isinstance(module, _PAD_MODULES):
        zeros = isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d))
        return _pad_step(g, kind, *module.padding,
                         note="" if zeros else "border units see mirrored/repeated pixels")
    if isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Softmin)):
        if g.flat or module.dim in (1, -3):
            return Step(g, kind)
        raise UnsupportedOperationError(f"{kind}(dim={module.dim}) mixes units along a spatial axis")
    if isinstance(module, _ELEMENTWISE_MODULES):
        return Step(g, kind)
    if isinstance(module, _STAT_NORM_MODULES):
        note = "" if g.flat else "its statistics come from the whole map; the field shown is that of the filters"
        return Step(g, kind, note=note)
    raise UnsupportedOperationError(f"module {node.target!r} of type {kind}")


def _adaptive_step(g: Geom, kind: str, output_size: Any) -> Step:
    if g.flat:
        raise UnsupportedOperationError(f"{kind} applied to a flattened tensor")
    out_h, out_w = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    h, kh, note_h = adaptive_window(g.h, out_h)
    w, kw, note_w = adaptive_window(g.w, out_w)
    note = "; ".join(filter(None, [note_h, note_w]))
    return Step(Geom(h, w), kind, kernel=(kh, kw), stride=(kh, kw), note=note)


def _function_step(node: fx.Node, geoms: dict[fx.Node, Geom | None], strict: bool) -> Step | None:
    target = node.target
    kind = _func_name(target) if node.op == "call_function" else str(target)
    first = node.args[0] if node.args else None
    g = geoms.get(first) if isinstance(first, fx.Node) else None

    if node.op == "call_method" and target in _NON_TENSOR_METHODS or target is getattr:
        return Step(None, kind, show=False)
    if target in _ELEMENTWISE_FUNCTIONS or node.op == "call_method" and target in _ELEMENTWISE_METHODS:
        return Step(g, kind, show=False)
    if target in _BINARY_FUNCTIONS or node.op == "call_method" and target in _BINARY_METHODS:
        name = _BINARY_FUNCTIONS.get(target) or _BINARY_METHODS[target]
        tensors = [geoms[a] for a in node.args if isinstance(a, fx.Node) and geoms.get(a) is not None]
        if len(tensors) == 1:
            return Step(tensors[0], name, show=False)  # x + 1, x * 0.5: elementwise
        geom, note = merge(tensors, f"{name} node {node.name!r}")
        return Step(geom, name, note=note)
    if target in _CAT_FUNCTIONS:
        parts = [a for a in node.args[0] if isinstance(a, fx.Node)]
        tensors = [geoms[a] for a in parts if geoms.get(a) is not None]
        dim = _arg(node, 1, "dim", 0)
        ndim = len(recorded_shape(parts[0]) or (0, 0, 0, 0))
        if tensors and not tensors[0].flat and ndim >= 3 and dim % ndim >= ndim - 2:
            raise UnsupportedOperationError(f"cat along dimension {dim} (height or width)")
        geom, note = merge(tensors, f"cat node {node.name!r}") if len(tensors) > 1 else (tensors[0], "")
        return Step(geom, "cat", note=note)
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
        weight = recorded_shape(_arg(node, 1, "weight"))
        if weight is None:
            if strict:
                raise UnsupportedOperationError("conv2d whose weight shape is unknown")
            return Step(None, kind)
        return _conv_step(g, "conv2d", tuple(weight[-2:]), _arg(node, 3, "stride", 1),
                          _arg(node, 5, "dilation", 1), _arg(node, 4, "padding", 0))
    if target is F.pad:
        pad = list(_arg(node, 1, "pad")) + [0, 0, 0, 0]
        return _pad_step(g, "pad", *pad[:4])
    if target in (F.linear,):
        return _dense_step(g, "linear")
    if target is torch.flatten or node.op == "call_method" and target == "flatten":
        start, end = _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1)
        if g.flat or start in (0, 1) and end in (-1, 3):
            return _flatten_step(g, "flatten") if not g.flat else Step(g, "flatten", show=False)
        raise UnsupportedOperationError(f"flatten(start_dim={start}) merges height and width into one axis")
    if target in _REDUCE_FUNCTIONS or node.op == "call_method" and target in _REDUCE_METHODS:
        ndim = len(recorded_shape(first) or (0, 0, 0, 0))
        return _reduce_step(g, kind, _arg(node, 1, "dim"), bool(_arg(node, 2, "keepdim", False)), ndim)
    if target in (F.softmax, F.log_softmax, torch.softmax) or node.op == "call_method" and target in ("softmax", "log_softmax"):
        dim = _arg(node, 1, "dim")
        if g.flat or dim in (1, -3):
            return Step(g, kind, show=False)
        raise UnsupportedOperationError(f"{kind}(dim={dim}) mixes units along a spatial axis")
    if target in _SHAPE_FUNCTIONS or node.op == "call_method" and target in _SHAPE_METHODS:
        return _shape_step(node, g, first, strict)
    if not strict:
        return Step(None, kind)  # searching for the smallest input: stop following this path
    raise UnsupportedOperationError(f"{node.op} {kind!r}")


def row_name(node: fx.Node) -> str:
    """Modules by their qualified name; functions as '<enclosing module>.<node name>'."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    path = next(reversed(stack.values()))[0] if stack else ""
    return f"{path}.{node.name}" if path else node.name


def module_paths(node: fx.Node) -> tuple[str, ...]:
    """Qualified names of the modules that enclose ``node`` (itself included for a module call)."""
    paths = [path for path, _ in (node.meta.get("nn_module_stack") or {}).values()]
    if node.op == "call_module":
        paths.append(str(node.target))
    return tuple(paths)


def propagate(gm: fx.GraphModule, height: int, width: int, *, strict: bool) -> list[tuple[fx.Node, Step]]:
    """Follow the geometry through the graph for an ``height`` x ``width`` input.

    With ``strict`` (after shape propagation) every operation must be understood
    and sizes are checked against the real ones; without it (while searching for
    the smallest input) paths through unknown operations are simply dropped.
    Raises ``ShrunkToNothing`` at the first node that has no unit left.
    """
    modules = dict(gm.named_modules())
    geoms: dict[fx.Node, Geom | None] = {}
    steps: list[tuple[fx.Node, Step]] = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if steps:  # a second input to the network
                geoms[node] = None
                continue
            step = Step(Geom(Axis(height, 1, 0, 0), Axis(width, 1, 0, 0)), "input")
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
                    f"receptive_field cannot analyse node {node.name!r} ({row_name(node)}): {exc}. "
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
                        raise ShrunkToNothing(node, step, axis, before.size, after.size)
        geoms[node] = step.geom
        steps.append((node, step))
        if strict and step.geom is not None and not step.geom.flat:
            shape = recorded_shape(node)
            if shape is not None and len(shape) >= 3 and tuple(shape[-2:]) != (step.geom.h.size, step.geom.w.size):
                raise RuntimeError(
                    f"coursekit.inspect computed a {step.geom.h.size}x{step.geom.w.size} map at node "
                    f"{node.name!r} but PyTorch produced {tuple(shape)}; please report this bug.")
    return steps


class ShapeRecorder(fx.Interpreter):
    """Runs the traced network and stores each node's output shape in ``node.meta``."""

    current: fx.Node | None = None  # the node being run, to name it if it fails

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        result = super().run_node(n)
        n.meta[_SHAPE_KEY] = tuple(result.shape) if isinstance(result, torch.Tensor) else None
        return result


def trace(net: nn.Module) -> fx.GraphModule:
    """``torch.fx.symbolic_trace(net)`` in eval mode; a ``RuntimeError`` that says why if it cannot."""
    try:
        # Traced in eval mode: a forward() that branches on self.training
        # (from-scratch BatchNorm, GoogLeNet's auxiliary heads) takes its
        # inference path, the one whose geometry is reported.
        with eval_mode(net):
            return fx.symbolic_trace(net)
    except Exception as exc:
        raise RuntimeError(
            f"receptive_field follows the dataflow graph of the network, and torch.fx could not "
            f"trace {type(net).__name__}: {type(exc).__name__}: {exc}. The usual cause is Python "
            "control flow (if/for) that depends on tensor values in forward()."
        ) from exc