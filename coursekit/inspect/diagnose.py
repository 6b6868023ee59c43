"""Why did the forward pass fail? Name the layer, and say which input size would work.

Every instrument runs the network once. When that fails, the error PyTorch
raises names an operator deep inside a layer ("Calculated output size:
(6x0x0). Output size is too small"), not the layer, nor what to do about it.
:func:`diagnose_failure` follows the geometry through the traced network
(:mod:`.graph`) to find the first layer that shrinks the map to nothing, and
raises :class:`~coursekit.inspect.InputTooSmallError` naming it together with
the smallest input size that works.
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .errors import InputTooSmallError
from .graph import ShrunkToNothing, propagate, row_name, trace
from .probe import eval_mode, is_lazy, probe_tensor
from .table import format_hw, shape_str

__all__ = ["diagnose_failure", "too_small_error"]


def _smallest_size(gm: fx.GraphModule, height: int, width: int) -> tuple[int, int]:
    """Smallest (H, W) for which no layer shrinks the map to nothing.

    Output sizes only grow with the input size, so a doubling search followed
    by bisection finds the smallest size along each axis (the other axis is
    made large enough not to matter).
    """
    big = 1 << 20

    def fits(h: int, w: int) -> bool:
        try:
            propagate(gm, h, w, strict=False)
            return True
        except ShrunkToNothing:
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
    if is_lazy(net):
        return None
    try:
        with eval_mode(net), torch.no_grad():
            net(probe_tensor(net, shape))
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def too_small_error(net: nn.Module, gm: fx.GraphModule, shape: tuple[int, ...],
                    err: ShrunkToNothing) -> InputTooSmallError:
    """The error to raise when ``err`` says a layer of ``net`` (traced as ``gm``) leaves no unit.

    Its message names the layer, its window, the axis that vanished, and the
    smallest input ``(N, C, H, W)`` that works (also in ``.smallest_input_size``).
    """
    s = err.step
    window = ", ".join(f"{what} {format_hw(v)}" for what, v in (("kernel", s.kernel), ("stride", s.stride),
                                                                  ("padding", s.padding)) if v is not None)
    try:
        h, w = _smallest_size(gm, shape[-2], shape[-1])
        smallest = (*shape[:-2], h, w)
        advice = (f"The smallest input for which no layer shrinks the map to nothing is "
                  f"{shape_str(smallest)}.")
        failure = _forward_failure(net, smallest)
        if failure:
            advice += (f" The network still fails at that size ({failure}): layers after a "
                       "Flatten often need one exact input size.")
    except RuntimeError:
        smallest, advice = None, "No input size works."
    layer = row_name(err.node)
    message = (
        f"Input {shape_str(shape)} is too small for {type(net).__name__}: layer {layer!r} "
        f"({s.type}{', ' + window if window else ''}) shrinks the {err.axis} from {err.size_in} to "
        f"{err.size_out} units. {advice}"
    )
    return InputTooSmallError(message, layer, shape, smallest)


def diagnose_failure(net: nn.Module, shape: tuple[int, ...], exc: BaseException,
                     failing_module: str | None = None) -> None:
    """After a forward pass on ``shape`` failed with ``exc``: explain it if possible.

    Raises :class:`~coursekit.inspect.InputTooSmallError` if the input is too
    small. Otherwise it adds the failing layer (``failing_module``, when the
    caller knows it) to ``exc`` as a note and returns, so the caller re-raises
    the original error.
    """
    if len(shape) == 4:
        try:
            gm = trace(net)
            propagate(gm, shape[-2], shape[-1], strict=False)
        except ShrunkToNothing as small:
            raise too_small_error(net, gm, shape, small) from exc
        except Exception:  # not traceable: fall back to the plain error
            pass
    if failing_module is not None:
        note = f"coursekit.inspect: the error happened in layer {failing_module!r} for input size {shape_str(shape)}."
        if hasattr(exc, "add_note"):
            exc.add_note(note)
        elif exc.args and isinstance(exc.args[0], str):  # Python 3.10 has no notes: the message carries it
            exc.args = (f"{exc.args[0]}\n{note}", *exc.args[1:])
