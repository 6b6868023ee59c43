"""Which input pixels each unit sees: the theoretical and the effective receptive field.

:func:`receptive_field` follows the geometry through the traced network (see
:mod:`.graph` and :mod:`.geometry` for the arithmetic) and tabulates it layer
by layer; :func:`effective_receptive_field` measures how much each pixel of
that field actually moves one unit, with gradients (Luo et al., 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from .diagnose import too_small_error
from .graph import ShapeRecorder, ShrunkToNothing, module_paths, propagate, recorded_shape, row_name, trace
from .probe import check_module, eval_mode, normalize_input_size, probe_tensor
from .table import Column, Table, format_hw, format_number, shape_str

__all__ = ["EffectiveReceptiveField", "FieldRow", "ReceptiveField", "effective_receptive_field",
           "plot_effective_receptive_field", "receptive_field"]


# ---------------------------------------------------------------------------
# Theoretical receptive field
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


class ReceptiveField(Table[FieldRow]):
    """The result of :func:`receptive_field`; ``rows`` is a list of :class:`FieldRow`.

    ``table["features.3"]`` returns the row of a layer (``table["relu_2"]``:
    of a torch.fx node); the name of a container (``"features"``, ``"b3"``)
    gives the row of its last layer, i.e. the geometry of the container's output.
    """

    _row_kind = ("layer", "layers")

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
            Column("layer", lambda r: r.name),
            Column("type", lambda r: r.type),
            Column("kernel", lambda r: format_hw(r.kernel), right=True),
            Column("stride", lambda r: format_hw(r.stride), right=True),
            Column("dilation", lambda r: format_hw(r.dilation), right=True),
            Column("padding", lambda r: format_hw(r.padding), right=True),
            Column("jump", lambda r: "-" if r.flat else format_hw(r.jump), right=True),
            Column("rf", lambda r: format_hw(r.rf), right=True),
            Column("center", lambda r: format_hw(r.center), right=True),
            Column("output", lambda r: shape_str(r.output_shape)),
            Column("note", lambda r: r.note),
        )

    def __getitem__(self, key: int | str) -> FieldRow:
        """By index or layer name as any :class:`Table`; also by fx node name or container name."""
        try:
            return super().__getitem__(key)
        except KeyError:
            for row in self.rows:
                if row.node == key:
                    return row
            inside = [(node, i) for node, paths, i in self._outputs if key in paths]
            if not inside:
                raise  # the table's KeyError, which lists the layers
            # Nodes are in dataflow order: the last one inside the container is
            # its output (often an F.relu after the last row: same geometry).
            node, i = inside[-1]
            return replace(self.rows[i], name=key, node=node)

    def box(self, layer: str, unit: tuple[int, int] = (0, 0)) -> tuple[int, int, int, int]:
        """Input pixels seen by ``unit`` (row, column) of ``layer``'s output.

        Returns ``(top, bottom, left, right)``, inclusive, cut at the image
        border: zero padding has no pixels. (``table[layer].first_field`` is the
        first unit's field before the cut.)
        """
        row = self[layer]
        (top, bottom), (left, right) = row.first_field
        top, bottom = top + unit[0] * row.jump[0], bottom + unit[0] * row.jump[0]
        left, right = left + unit[1] * row.jump[1], right + unit[1] * row.jump[1]
        height, width = self.input_size[-2:]
        top, left = max(top, 0), max(left, 0)
        bottom, right = min(bottom, height - 1), min(right, width - 1)
        return int(math.floor(top)), int(math.ceil(bottom)), int(math.floor(left)), int(math.ceil(right))

    def _caption(self) -> list[str]:
        return [f"{self.net_name}, input {shape_str(self.input_size)}: receptive fields in input "
                "pixels (height x width when they differ)"]

    def _footer(self) -> list[str]:
        last = self.rows[-1]
        seen = "the whole input" if last.whole else "a patch of the input"
        field = f"{format_number(last.rf[0])}x{format_number(last.rf[1])}"
        height, width = self.input_size[-2:]
        if last.rf[0] > height or last.rf[1] > width:
            return [f"A unit of the last layer ({last.name}) sees {seen}: its field is {field} pixels (height x "
                    f"width), larger than the {height}x{width} image, because the padding adds a frame of zeros "
                    "around it; the field counts the frame too."]
        return [f"A unit of the last layer ({last.name}) sees {seen}: {field} pixels (height x width)."]


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
    check_module(net, "receptive_field")
    shape = normalize_input_size(input_size, spatial=True)
    gm = trace(net)
    # The arithmetic alone finds an input that is too small, before any forward pass.
    try:
        propagate(gm, shape[-2], shape[-1], strict=False)
    except ShrunkToNothing as small:
        raise too_small_error(net, gm, shape, small) from None
    recorder = ShapeRecorder(gm)
    try:
        with eval_mode(gm), torch.no_grad():
            recorder.run(probe_tensor(net, shape))
    except Exception as exc:
        where = f" in layer {row_name(recorder.current)!r}" if recorder.current is not None else ""
        message = str(exc).split("\n\nWhile executing")[0]  # torch.fx appends the graph node
        raise RuntimeError(f"{type(net).__name__} fails on an input of size {shape_str(shape)}{where}: "
                           f"{message}") from exc
    steps = propagate(gm, shape[-2], shape[-1], strict=True)

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
                outputs.append((node.name, module_paths(node), source[0]))
            continue
        row_of[node] = len(rows)
        outputs.append((node.name, module_paths(node), len(rows)))
        g = step.geom
        whole = g.h.lo <= 0 and g.h.hi >= height - 1 and g.w.lo <= 0 and g.w.hi >= width - 1
        notes = [step.note] if step.note else []
        if not (g.h.solid and g.w.solid) and "rectangle" not in step.note:
            notes.append("the field has holes (dilated taps further apart than each tap sees)")
        out_shape = recorded_shape(node)
        rows.append(FieldRow(
            name=row_name(node) if node.op != "placeholder" else "input",
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
                f"theoretical rf {format_hw(self.rf)} -> rows {t}..{b}, columns {l}..{r} in the image, "
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
    check_module(net, "effective_receptive_field")
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
    probe = probe_tensor(net, shape)
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros(shape[-2:], dtype=torch.float64)
    done = 0
    with eval_mode(net):
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
