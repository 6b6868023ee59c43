"""One exercise of a chapter: its check, a hint and a solution, asked for when the learner wants them.

In a notebook::

    ex = ck.exercise("04.1")   # shows the title, what kind of answer it takes, how to get help
    ex.check(answer)           # one line: ✔ right, ✘ what is probably wrong, or … not answered yet
    ex.hint()                  # a nudge that does not give the answer away
    ex.solution()              # the model answer, computed now by the package

Each chapter's check module (``ch04_nin`` ...) declares its exercises as
module-level :class:`Exercise` objects and lists them in ``EXERCISES``;
:mod:`coursekit.exercises` finds them by key and prints the progress table.
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import Callable
from typing import Any, Literal

from .verdict import Verdict

Kind = Literal["number", "shape", "code", "open question"]

_ASKS_FOR = {
    "number": "a number",
    "shape": "a shape",
    "code": "your code",
    "open question": "an open question, no check",
}


def _written(answer: Any) -> str:
    if isinstance(answer, int):
        return f"{answer:,}"
    if isinstance(answer, float):
        return f"{answer:.4g}"
    return str(tuple(answer))


class Exercise:
    """An exercise: ``check(answer)``, ``hint()`` and ``solution()``, and whether it was passed in this kernel.

    Args:
        key: ``"NN.k"``, the chapter's two digits and the exercise's number in the notebook's list.
        title: a few words, shown in the progress table.
        kind: ``"number"``, ``"shape"``, ``"code"`` (the answer is a function or class the
            learner wrote) or ``"open question"`` (no check).
        hint: a nudge towards the method; never the answer.
        check: ``check(answer) -> Verdict``, which prints one line (a function of
            :mod:`~coursekit.check.verdict` or :mod:`~coursekit.check.code`); ``None`` for an open question.
        answer: returns the right answer, what a learner would pass to ``check``: a value computed
            from the networks for a number or a shape, the reference implementation for code.
            ``None`` for an open question.
        outcome: what the learner should see or conclude; required for an open question, where
            the notebook shows it when the exercise is displayed.
        discussion: the model answer's prose: the whole solution of an open question, or what
            follows the computed answer or the reference code. A callable is called at
            ``solution()`` time, for prose with numbers in it: those are computed, never typed.

    The solution of a number or a shape is the check's own explanation of the
    right answer; that of code is the reference's source. Both are computed
    when asked for, so they follow the package's models.
    """

    def __init__(self, key: str, title: str, kind: Kind, hint: str, *,
                 check: Callable[[Any], Verdict] | None = None, answer: Callable[[], Any] | None = None,
                 outcome: str = "", discussion: str | Callable[[], str] = "") -> None:
        if kind not in _ASKS_FOR:
            raise ValueError(f"Exercise {key}: kind must be one of {sorted(_ASKS_FOR)}, got {kind!r}.")
        is_open = kind == "open question"
        if is_open and (check is not None or answer is not None or not outcome or not discussion):
            raise ValueError(f"Exercise {key}: an open question has an outcome and a discussion, and no check "
                             "or answer.")
        if not is_open and (check is None or answer is None):
            raise ValueError(f"Exercise {key}: a {kind} exercise needs a check and an answer (the reference).")
        self.key, self.title, self.kind = key, title, kind
        self.outcome, self.hint_text, self.discussion = outcome, hint, discussion
        self._check, self._answer = check, answer
        self.passed: bool | None = None
        """True or False after the last check that got an answer in this kernel; None before."""

    def check(self, answer: Any) -> Verdict:
        """Print the verdict on ``answer`` and return it; an open question says it has no check."""
        if self._check is None:
            verdict = Verdict(None, f"Exercise {self.key} is an open question, without a check: compare what you "
                                    "find with the expected outcome, then with .solution().")
            print(verdict.line)
            return verdict
        verdict = self._check(answer)
        if verdict.correct is not None:  # "not answered yet" leaves the record as it was
            self.passed = verdict.correct
        return verdict

    def hint(self) -> None:
        """Print a nudge towards the answer."""
        print(f"Hint for {self.key}: {self.hint_text}")

    def solution(self) -> None:
        """Print the model answer, computed now."""
        print(f"Solution of {self.key}:")
        print(self.solution_text())

    def right_answer(self) -> Any:
        """The right answer, computed now: a number, a shape, or the reference implementation of code."""
        if self._answer is None:
            raise ValueError(f"Exercise {self.key} is an open question: it has a model answer, .solution(), "
                             "and no single right answer.")
        return self._answer()

    def solution_text(self) -> str:
        """The model answer that :meth:`solution` prints."""
        discussion = self.discussion() if callable(self.discussion) else self.discussion
        if self._answer is None:
            return discussion
        answer = self.right_answer()
        if self.kind == "code":
            body = inspect.getsource(answer).rstrip()
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # the check's line, without printing it
                verdict = self._check(answer)
            body = f"Answer: {_written(answer)}\n{verdict.message.removeprefix('Right: ')}"
        return f"{body}\n{discussion}" if discussion else body

    def __repr__(self) -> str:
        lines = [f"Exercise {self.key}: {self.title} ({_ASKS_FOR[self.kind]})"]
        if self.outcome:
            lines.append(f"Expected outcome: {self.outcome}")
        ask = "" if self.kind == "open question" else ".check(answer) to check it, "
        lines.append(f"Use {ask}.hint() for a nudge, .solution() for the model answer.")
        return "\n".join(lines)
