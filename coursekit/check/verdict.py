"""The one verdict engine behind every exercise check.

A check computes the right answer from the networks and formulas themselves,
lists the typical slips with a hint for each, and hands the learner's answer to
:func:`judge`, which

1. says "not answered yet" for ``None``;
2. turns the answer into the expected kind (:func:`coerce`), or explains what
   kind of answer was expected instead of raising;
3. compares it with the right answer, then with the slips in order, using the
   one tolerance rule (:func:`close`);
4. prints one line and returns a :class:`Verdict`.

The tolerance rule: whole numbers (``"int"``) and shapes (``"shape"``) must match
exactly; real numbers (``"float"``, ``"fraction"``) match when within 1% of the
target, ``math.isclose(answer, target, rel_tol=0.01, abs_tol=1e-9)``. The
absolute floor of 1e-9 only matters when the target is 0, where a relative
tolerance alone would demand exact equality: float noise such as 1e-17 still
counts as 0. Slips are matched by the same rule as the right answer.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

Kind = Literal["int", "float", "fraction", "shape"]
"""What a check expects: ``"int"``, a count; ``"float"``, any real number;
``"fraction"``, a real number between 0 and 1 (a percentage gets its own hint);
``"shape"``, a tuple of ints."""

Value = int | float | tuple[int, ...]
Target = Value | Callable[[Any], bool]
"""A right answer or a slip: a value compared by the tolerance rule, or a
predicate on the coerced answer for the few cases a single value cannot say."""

REL_TOL = 0.01
ABS_TOL = 1e-9

# What each kind looks like and an example of it, for the message that explains
# a badly typed answer. The examples are neutral: no exercise has them as answer.
_LOOKS_LIKE: dict[str, tuple[str, str]] = {
    "int": ("a single whole number", "1234"),
    "float": ("a single number", "3.5"),
    "fraction": ("a single number between 0 and 1", "0.25"),
    "shape": ("a tuple of ints", "(1, 64, 28, 28)"),
}


@dataclass(frozen=True)
class Slip:
    """A typical wrong answer and the hint it deserves.

    ``match`` is a value (compared with the tolerance rule) or a predicate on the
    coerced answer. For an ``"int"`` check the predicate may see a non-integral
    number: a slip such as "megabytes instead of bytes" is one.
    """

    match: Target
    hint: str


@dataclass(frozen=True)
class Verdict:
    """What a check said: ``correct`` is True (right), False (wrong) or None (not answered yet).

    ``bool(verdict)`` is True only for a right answer, so ``if ck.check.x(answer):``
    reads naturally. The line was already printed when the check ran, so in
    Jupyter a verdict that ends a cell displays nothing more (no ``Out: False``).
    """

    correct: bool | None
    message: str

    @property
    def line(self) -> str:
        """The printed line: the message behind a mark that says right, wrong or not answered."""
        mark = {True: "✔ ", False: "✘ ", None: "… "}[self.correct]
        return mark + self.message

    def __bool__(self) -> bool:
        return self.correct is True

    def __repr__(self) -> str:
        return f"Verdict(correct={self.correct})"

    def _ipython_display_(self) -> None:
        """Display nothing: the check printed its line already."""


class NotAnAnswer(ValueError):
    """Raised by :func:`coerce` when an answer is not of the expected kind; the message says why."""


def close(answer: float, target: float) -> bool:
    """The tolerance rule for real numbers: within 1% of the target (or 1e-9 of a target of 0)."""
    return math.isclose(answer, target, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def describe(answer: Any) -> str:
    """A short description of any answer, for a message that says what was given."""
    if isinstance(answer, (bool, np.bool_)):
        return f"{answer} (a bool, not a number)"
    if isinstance(answer, str):
        return f"the text {_short(repr(answer))}"
    if isinstance(answer, torch.Tensor):
        return f"a tensor of shape {tuple(answer.shape)}"
    if isinstance(answer, np.ndarray):
        return f"an array of shape {answer.shape}"
    if isinstance(answer, (list, tuple, dict, set)):
        return f"a {type(answer).__name__} {_short(repr(answer))}"
    if isinstance(answer, numbers.Number):
        return _short(repr(answer))
    return f"{_short(repr(answer))} (a {type(answer).__name__})"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Thousands separators are accepted only where they group digits in threes, so
# that "61,706" is a number but "0,5" (a decimal comma) is not silently 5.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _number(answer: Any) -> int | float:
    """A real number from a number, a numeric string, or a one-element tensor or array."""
    if isinstance(answer, (torch.Tensor, np.ndarray)):
        size = answer.numel() if isinstance(answer, torch.Tensor) else answer.size
        if size != 1:
            raise NotAnAnswer(f"you gave {describe(answer)}, not a single number")
        try:
            item = answer.item()  # a Python bool, int or float
        except (RuntimeError, ValueError, NotImplementedError):  # e.g. a tensor on the meta device has no value
            raise NotAnAnswer(f"you gave {describe(answer)}, whose value cannot be read") from None
        return _number(item)
    if isinstance(answer, (bool, np.bool_)):
        raise NotAnAnswer(f"you gave {describe(answer)}")
    if isinstance(answer, str):
        text = answer.strip().replace("_", "")
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        try:
            value: int | float = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise NotAnAnswer(f"you gave {describe(answer)}") from None
    elif isinstance(answer, numbers.Integral):  # numpy integers are registered here too
        value = int(answer)
    elif isinstance(answer, numbers.Real):
        value = float(answer)
    else:
        raise NotAnAnswer(f"you gave {describe(answer)}")
    if not math.isfinite(value):
        raise NotAnAnswer(f"you gave {describe(answer)}, which is not a finite number")
    return value


def _whole(value: int | float) -> int | float:
    """An integral value as an int; anything else unchanged."""
    return int(value) if float(value).is_integer() else value


def _shape(answer: Any) -> tuple[int, ...]:
    """A shape from a tuple, list, torch.Size, 1-d tensor or array, or a string like "(1, 64, 28, 28)"."""
    if isinstance(answer, str):
        text = answer.strip()
        text = text.removeprefix("torch.Size(").strip("()[] ")
        parts = [p for p in text.split(",") if p.strip()]
    elif isinstance(answer, (torch.Tensor, np.ndarray)) and answer.ndim == 1:
        parts = list(answer)  # 0-d tensors or numpy scalars, read one by one below
    elif isinstance(answer, (tuple, list)):  # torch.Size is a tuple
        parts = list(answer)
    else:
        raise NotAnAnswer(f"you gave {describe(answer)}")
    try:
        sides = [_whole(_number(p)) for p in parts]
    except NotAnAnswer:
        raise NotAnAnswer(f"you gave {describe(answer)}") from None
    if not parts or any(not isinstance(s, int) for s in sides):
        raise NotAnAnswer(f"you gave {describe(answer)}")
    return tuple(int(s) for s in sides)


def coerce(answer: Any, kind: Kind) -> Value:
    """``answer`` as the kind a check expects; raises :class:`NotAnAnswer` with the reason if it is not one.

    For ``"int"`` an integral value comes back as an int and a non-integral
    number comes back as it is, so that :func:`judge` can still recognise a
    slip before asking for a whole number.
    """
    if kind == "shape":
        return _shape(answer)
    value = _number(answer)
    return _whole(value) if kind == "int" else float(value)


def _matches(answer: Value, target: Target, kind: Kind) -> bool:
    if callable(target):
        return bool(target(answer))
    if kind in ("float", "fraction"):
        return close(float(answer), float(target))
    return answer == target  # ints and shapes: exactly


def _shown(answer: Value) -> str:
    if isinstance(answer, int):
        return f"{answer:,}"
    if isinstance(answer, float):
        return f"{answer:.6g}"
    return str(answer)


def _dimensions(n: int) -> str:
    return "all four dimensions (N, C, H, W)" if n == 4 else f"all {n} dimensions"


def _say(correct: bool | None, message: str) -> Verdict:
    verdict = Verdict(correct, message)
    print(verdict.line)
    return verdict


def judge(answer: Any, kind: Kind, expected: Target, *, what: str, right: str, otherwise: str,
          slips: Sequence[Slip] = (), example: str | None = None) -> Verdict:
    """Print the verdict on ``answer`` and return it; never raises because of the answer.

    In order: ``None`` is "not answered yet"; an answer that is not of the
    expected kind, or a shape with the wrong number of dimensions, is told what
    was expected; then come the right answer, a percentage given for a
    fraction, the ``slips`` in order, a number that should have been whole, and
    last the general "Not quite" with ``otherwise``.

    Args:
        answer: what the learner gave; ``None`` means not answered yet.
        kind: what is expected, see :data:`Kind`.
        expected: the right answer, computed by the check; or, for the rare
            exercise that accepts a range, a predicate on the coerced answer.
        what: what to put in place of ``None``, e.g. ``"an int, the number of parameters"``.
        right: the explanation after "Right: ".
        otherwise: how to work the answer out, after "Not quite (you said X).".
        slips: typical wrong answers with their hints, tried in order after the right answer.
        example: an example of the expected form, instead of the kind's own.
    """
    if answer is None:
        return _say(None, f"not answered yet: replace None with {what} and run the cell again.")
    noun, default_example = _LOOKS_LIKE[kind]
    looks_like = f"{noun}, like {example or default_example}"
    try:
        value = coerce(answer, kind)
    except NotAnAnswer as reason:
        return _say(False, f"Give {what} ({looks_like}); {reason}.")
    if kind == "shape" and not callable(expected) and len(value) != len(expected):
        return _say(False, f"Give {_dimensions(len(expected))}; you gave {len(value)}.")
    if _matches(value, expected, kind):
        return _say(True, f"Right: {right}")
    if kind == "fraction" and not callable(expected) and 1 < value <= 100 and close(value / 100, expected):
        return _say(False, f"That is a percentage; give a fraction between 0 and 1 ({value / 100:.4g}).")
    for slip in slips:
        if _matches(value, slip.match, kind):
            return _say(False, slip.hint)
    if kind == "int" and not isinstance(value, int):
        return _say(False, f"Give {what} ({looks_like}); you gave {_shown(value)}, which is not a whole number.")
    return _say(False, f"Not quite (you said {_shown(value)}). {otherwise}")
