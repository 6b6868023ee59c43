"""Checks of code: run the learner's function on seeded inputs and compare it with a reference.

A "write it yourself" exercise hands :func:`judge_code` the learner's function
(or class, or module builder), the reference implementation, and the argument
tuples to try (built from a seeded generator, so a check says the same thing
every time). For each tuple the engine calls both, and ``compare`` says whether
the learner's result matches the reference's. On the first mismatch the
exercise's :class:`Mistake` detectors are tried in order on the :class:`Attempt`,
each recognising a typical slip (forgot the padding, concatenated on the wrong
axis...) from what the learner's code returned or raised; the first that
matches gives the line, else a general "Not quite" says on which input the
results differ. The learner's code gets copies of the tensors it is given, so
an in-place operation in it cannot change what it is compared with.

Like :func:`~coursekit.check.verdict.judge`, it prints one line, returns a
:class:`~coursekit.check.verdict.Verdict` and never raises because of the
learner's code: an exception inside it becomes the verdict line; a stub that
still raises ``NotImplementedError`` or returns ``None`` is "not answered yet".

Three comparisons cover the course's exercises: :func:`same_tensor` (a tensor,
within ``torch.testing.assert_close``'s tolerance), :func:`same_number` (an int
exactly, a float within the tolerance rule of :mod:`~coursekit.check.verdict`)
and :func:`same_module` (a module built by the learner's function behaves like
the reference's on a random input).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import nn

from ..inspect import count_params
from .verdict import Verdict, close, describe

Comparison = Callable[[Any, Any, tuple], Optional[str]]
"""``compare(got, expected, args)``: ``None`` when ``got`` (the learner's result
for ``args``) is right, else what differs, e.g. ``"the output has shape (2, 3),
not (3, 3)"``. It may raise on a malformed ``got``: the engine reports it."""


@dataclass(frozen=True)
class Attempt:
    """One call of the learner's code, for the :class:`Mistake` detectors.

    ``got`` is what the learner's code returned for ``args`` (``None`` if the
    call raised), ``expected`` what the reference returned, and ``error`` the
    exception raised by the call or while comparing (running a returned module,
    say), else ``None``.
    """

    args: tuple
    got: Any
    expected: Any
    error: Exception | None


@dataclass(frozen=True)
class Mistake:
    """A typical slip in code, and the hint it deserves.

    ``match(attempt)`` is true when the :class:`Attempt` shows this slip, e.g.
    ``lambda a: a.got.shape[-1] == a.expected.shape[-1] - 2`` for a forgotten
    padding. A detector that raises counts as not matching, so it may assume a
    well-formed ``got``.
    """

    match: Callable[[Attempt], bool]
    hint: str


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _shows(mistake: Mistake, attempt: Attempt) -> bool:
    try:
        return bool(mistake.match(attempt))
    except Exception:  # a detector looks for one slip; any other malformed result is simply not that slip
        return False


def _say(correct: bool | None, message: str) -> Verdict:
    verdict = Verdict(correct, message)
    print(verdict.line)
    return verdict


def _arguments(args: tuple) -> str:
    return ", ".join(f"a tensor of shape {tuple(a.shape)}" if isinstance(a, torch.Tensor) else repr(a) for a in args)


def judge_code(answer: Any, reference: Callable[..., Any], trials: Sequence[tuple], *, what: str, right: str,
               otherwise: str, compare: Comparison, mistakes: Sequence[Mistake] = ()) -> Verdict:
    """Print the verdict on the learner's code ``answer`` and return it; never raises because of it.

    Args:
        answer: the learner's function (or class); ``None`` means not answered yet.
        reference: the right implementation, called the same way.
        trials: the argument tuples to call both with, in order; seeded, so the verdict is reproducible.
        what: what ``answer`` should be, e.g. ``"your function corr2d(X, K)"``.
        right: the explanation after "Right: ".
        otherwise: how to find the error, after "Not quite: ...".
        compare: see :data:`Comparison`.
        mistakes: typical slips, tried in order on the first trial that goes wrong.
    """
    if answer is None:
        return _say(None, f"not answered yet: replace None with {what} and run the cell again.")
    if not callable(answer):
        return _say(False, f"Give {what}; you gave {describe(answer)}, which cannot be called.")
    for args in trials:
        expected = reference(*args)
        got, error = None, None
        try:
            got = answer(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
            if got is None:
                return _say(None, f"not answered yet: {what} returns None; write its body and run the cell again.")
            difference = compare(got, expected, args)
        except NotImplementedError:
            return _say(None, f"not answered yet: {what} still raises NotImplementedError; write its body and "
                              "run the cell again.")
        except Exception as raised:  # the learner's code failed: say how, never show a traceback
            error, difference = raised, f"it raised {_first_line(raised)}"
        if difference is None:
            continue
        attempt = Attempt(args, got, expected, error)
        for mistake in mistakes:
            if _shows(mistake, attempt):
                return _say(False, mistake.hint)
        return _say(False, f"Not quite: called with {_arguments(args)}, {difference}. {otherwise}")
    return _say(True, f"Right: {right}")


def same_tensor(got: Any, expected: torch.Tensor, args: tuple) -> str | None:
    """``got`` is a tensor of ``expected``'s shape and values (``torch.testing.assert_close``'s tolerance)."""
    if not isinstance(got, torch.Tensor):
        return f"your function returned {describe(got)}, not a tensor"
    if got.shape != expected.shape:
        return f"the result has shape {tuple(got.shape)}, not {tuple(expected.shape)}"
    try:
        torch.testing.assert_close(got.detach().to(expected.dtype), expected, check_device=False)
    except AssertionError:
        worst = (got.detach().to(expected.dtype) - expected).abs().max().item()
        return f"the shape is right but the values differ (by up to {worst:.3g})"
    return None


def same_number(got: Any, expected: int | float, args: tuple) -> str | None:
    """``got`` is ``expected``: an int exactly, a float within 1% (the tolerance rule of the number checks)."""
    if isinstance(got, (bool, torch.Tensor)) or not isinstance(got, numbers.Real):
        return f"your function returned {describe(got)}, not a number"
    if isinstance(expected, int):
        if not float(got).is_integer():
            return f"your function returned {got!r}, not a whole number (// divides and rounds down)"
        return None if int(got) == expected else f"your function returned {int(got)}, not {expected}"
    if not math.isfinite(got) or not close(float(got), float(expected)):
        return f"your function returned {got:.6g}, not {expected:.6g}"
    return None


def parameter_shapes(module: nn.Module) -> list[tuple[int, ...]]:
    """The shapes of ``module``'s parameters, in registration order."""
    return [tuple(p.shape) for p in module.parameters()]


def same_module(make_input: Callable[[tuple], torch.Tensor]) -> Comparison:
    """A comparison of a module the learner's code built with the reference's, on ``make_input(args)``.

    In order: ``got`` is an ``nn.Module``; both give outputs of the same shape
    (in eval mode); they have the same number of parameters; and, when their
    parameters have the same shapes in the same order, the learner's module with
    the reference's parameter values copied in gives the reference's output.
    That last step catches a missing ReLU or a wrong order of layers; a module
    that registers its layers in another order is judged on the first three.
    """

    def compare(got: Any, expected: nn.Module, args: tuple) -> str | None:
        if not isinstance(got, nn.Module):
            return f"your code returned {describe(got)}, not an nn.Module"
        x = make_input(args)
        got.eval(), expected.eval()
        with torch.no_grad():
            want = expected(x)
            out = got(x)
            if not isinstance(out, torch.Tensor):
                return f"its forward returned {describe(out)}, not a tensor"
            if out.shape != want.shape:
                return (f"on an input of shape {tuple(x.shape)} it gives an output of shape {tuple(out.shape)}, "
                        f"not {tuple(want.shape)}")
            n_got, n_want = count_params(got).total, count_params(expected).total
            if n_got != n_want:
                return f"it has {n_got:,} parameters, not {n_want:,}"
            if parameter_shapes(got) == parameter_shapes(expected):
                for mine, theirs in zip(got.parameters(), expected.parameters()):
                    mine.copy_(theirs)
                if not torch.allclose(got(x), want, rtol=1e-4, atol=1e-5):
                    return ("its shapes and parameters are right, but with the same weights as the reference it "
                            "computes something else")
        return None

    return compare


def output_of(module: Any, make_input: Callable[[tuple], torch.Tensor], args: tuple) -> torch.Tensor:
    """What a module built by the learner's code gives on ``make_input(args)``, in eval mode, for a detector.

    Raises whatever the module raises: a :class:`Mistake` that calls it counts as not matching then.
    """
    module.eval()
    with torch.no_grad():
        return module(make_input(args))
