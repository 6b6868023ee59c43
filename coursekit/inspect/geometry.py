"""Receptive-field arithmetic along one axis, with no reference to any network.

Along each axis (height and width separately) a unit of a feature map is
described by how far apart neighbouring units are in input pixels (``jump``)
and by the first and last input pixels the first unit sees (``lo``..``hi``),
from which follow ``rf = hi - lo + 1`` and ``center = (lo + hi) / 2``.
A window layer (convolution or pooling) with kernel ``k``, stride ``s``,
dilation ``d`` and leading padding ``p`` turns them into::

    k_eff      = d * (k - 1) + 1
    jump_out   = jump * s
    lo_out     = lo - p * jump
    hi_out     = hi + (k_eff - 1 - p) * jump

which is the usual ``rf_out = rf + (k_eff - 1) * jump``. :mod:`.graph` applies
these functions node by node to a traced network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UnsupportedOperationError
from .table import format_number

__all__ = ["Axis", "Geom", "adaptive_window", "global_window", "merge", "window", "window_2d"]


@dataclass(frozen=True)
class Axis:
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
class Geom:
    """Geometry of a tensor. ``flat`` tensors are vectors (after Flatten or a
    global reduction); their axes keep the geometry of the map they came from."""

    h: Axis
    w: Axis
    flat: bool = False


def window(ax: Axis, k: int, s: int, d: int, pad_lo: int, pad_hi: int,
           ceil_mode: bool = False) -> Axis:
    """Apply a sliding window (convolution or pooling) along one axis.

    ``k``, ``s``, ``d``: kernel, stride and dilation; ``pad_lo``/``pad_hi``:
    padding before the first and after the last unit.
    """
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
    return Axis(size=size, jump=ax.jump * s, lo=ax.lo - pad_lo * ax.jump,
                hi=ax.hi + (k_eff - 1 - pad_lo) * ax.jump, solid=solid)


def window_2d(g: Geom, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
              pads: tuple[tuple[int, int], tuple[int, int]], ceil_mode: bool = False) -> Geom:
    """:func:`window` along height and width: ``k``, ``s``, ``d`` are (height, width) pairs,
    ``pads`` is ``((top, bottom), (left, right))``."""
    if g.flat:
        raise UnsupportedOperationError("a convolution or pooling applied to a flattened tensor")
    return Geom(window(g.h, k[0], s[0], d[0], *pads[0], ceil_mode),
                window(g.w, k[1], s[1], d[1], *pads[1], ceil_mode))


def global_window(ax: Axis) -> Axis:
    """An operation whose single output sees every unit of the axis (global pooling, Linear)."""
    return window(ax, ax.size, ax.size, 1, 0, 0)


def adaptive_window(ax: Axis, out: int | None) -> tuple[Axis, int | float, str]:
    """Adaptive pooling to ``out`` units: unit i pools input units
    floor(i*n/out) .. ceil((i+1)*n/out) - 1. Returns (axis, kernel, note)."""
    n = ax.size
    if out is None or out == n:
        return ax, 1, ""
    if n % out == 0:  # regular windows: an ordinary pooling with kernel = stride = n / out
        return window(ax, n // out, n // out, 1, 0, 0), n // out, ""
    first_end = math.ceil(n / out)
    kmax = max(math.ceil((i + 1) * n / out) - (i * n) // out for i in range(out))
    new = Axis(size=out, jump=ax.jump * n / out, lo=ax.lo, hi=ax.hi + (first_end - 1) * ax.jump,
               solid=ax.solid)
    return new, kmax, (f"adaptive pooling {n}->{out}: windows of unequal size; "
                       "jump is the average and rf that of the first unit")


def _merge_axes(axes: list[Axis]) -> tuple[Axis, list[str]]:
    """A unit fed by several paths sees the union of their fields (hull at unit 0)."""
    size = max(a.size for a in axes)
    # An input of size 1 under a map of size > 1 is broadcast (e.g. squeeze-excitation).
    main = [a for a in axes if a.size == size] or axes
    notes = []
    jumps = sorted({a.jump for a in main})
    if len(jumps) > 1:
        notes.append(f"paths disagree on the jump ({' vs '.join(format_number(j) for j in jumps)}): "
                     "the field is exact for the first unit only")
    centers = sorted({a.center for a in main})
    if len(centers) > 1:
        notes.append("paths disagree on the centre of the first unit "
                     f"({' vs '.join(format_number(c) for c in centers)})")
    merged = Axis(size=size, jump=max(jumps), lo=min(a.lo for a in axes),
                  hi=max(a.hi for a in axes), solid=all(a.solid for a in axes))
    return merged, notes


def merge(geoms: list[Geom], where: str) -> tuple[Geom, str]:
    """Where paths meet (add, cat): the geometry of the result and a note on any disagreement.

    ``where`` names the node for the error raised when a flattened tensor
    meets a feature map.
    """
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
        h = Axis(h.size, h.jump, h.lo, h.hi, container[0].h.solid)
        w = Axis(w.size, w.jump, w.lo, w.hi, container[0].w.solid)
    else:
        h = Axis(h.size, h.jump, h.lo, h.hi, False)
        w = Axis(w.size, w.jump, w.lo, w.hi, False)
        larger = max(g.h.rf * g.w.rf for g in geoms)
        notes.append(f"the union of the paths' fields is not a rectangle; rf is its bounding box "
                     f"(the largest single path sees {larger:g} pixels)")
    return Geom(h, w, geoms[0].flat), "; ".join(notes)
