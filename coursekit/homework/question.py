"""A homework question: a chapter exercise whose model answer stays with the teaching staff.

Homework questions are :class:`~coursekit.check.exercise.Exercise` objects with
keys ``"hw1.1"``...: ``check(answer)`` and ``hint()`` work as in the chapters,
on the same engines (:mod:`coursekit.check.verdict` for numbers,
:mod:`coursekit.check.code` for code), but ``solution()`` only says where the
solution will come from. The graded tests of an assignment call the same checks
(with more seeds in the hidden ones), so a question that passes as the learner
works is very likely to pass when graded.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..check.exercise import Exercise
from ..check.verdict import Verdict


class Question(Exercise):
    """An exercise of an assignment: checked as the learner goes, solved only after grading."""

    def solution_text(self) -> str:
        """What :meth:`solution` prints for homework: where the solution will come from, not the solution."""
        return (f"{self.key} is homework: its solution is not shown here. Use .hint(), run the check as you go, "
                "and ask your teaching assistant; the solutions come with the graded feedback.")


def written_from_scratch(answer: Callable[..., Any], forbidden: Sequence[str], *, what: str) -> Verdict:
    """Right when the source of ``answer`` calls none of the ``forbidden`` names (e.g. ``"conv2d"``).

    An exercise that asks for an operation "from scratch" is checked against the
    library's version; this says whether the learner's code just called it.
    """
    try:
        source = inspect.getsource(answer)
    except (TypeError, OSError):
        verdict = Verdict(False, f"the source of {what} cannot be read: define it in a notebook cell with def.")
        print(verdict.line)
        return verdict
    used = [name for name in forbidden if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", source)]
    verdict = Verdict(not used, f"{what} is written from scratch." if not used else
                      f"{what} calls {', '.join(used)}: the exercise asks you to write it from tensor operations "
                      "(indexing, slicing, sum, max), without the library's version.")
    print(verdict.line)
    return verdict
