"""Homework: four assignments that import coursekit, and the checks they are graded with.

The assignments are notebooks in ``notebooks/homework/`` (nbgrader's layout:
``source/`` holds the solved versions, ``release/`` what students get). In an
assignment, a learner checks each question as they go and sees their progress::

    ck.exercise("hw1.2").check(pool2d)  # one line: ✔ right, ✘ what is probably wrong, … not answered yet
    ck.exercise("hw1.2").hint()         # a nudge; solution() stays with the staff (Question)
    ck.exercises.progress("hw1")        # which questions pass in this kernel

The questions are registered beside the chapters' exercises
(:data:`coursekit.exercises.CHAPTERS`). Where a chapter has the same
write-it-yourself exercise, the question is graded with that exercise's check
(hw1.1 is 00.6, hw2.2 is 05.6, hw3.1 is 06.6, hw3.2 is 07.6, hw4.1 is 09.6).
The graded test cells call the same checks (with more seeds, or a "from
scratch" test, in the hidden ones); ``coursekit grade`` (:mod:`coursekit.grade`)
runs them on a whole class.

* :mod:`~coursekit.homework.hw1`: chapters 00-02, convolution and pooling from scratch, a LeNet on a budget;
* :mod:`~coursekit.homework.hw2`: chapters 03-05, a multi-branch block, its receptive field and FLOPs;
* :mod:`~coursekit.homework.hw3`: chapters 06-08, batch norm from scratch, residual against plain gradients;
* :mod:`~coursekit.homework.hw4`: chapters 09-11, receptive fields, FLOPs, a network under a FLOPs budget.
"""

from __future__ import annotations

from . import hw1, hw2, hw3, hw4
from .budget import Budget
from .question import Question, written_from_scratch

ASSIGNMENTS: dict[str, tuple[Question, ...]] = {
    "hw1": hw1.QUESTIONS,
    "hw2": hw2.QUESTIONS,
    "hw3": hw3.QUESTIONS,
    "hw4": hw4.QUESTIONS,
}
"""Every assignment's auto-checked questions, in the notebook's order."""


__all__ = ["ASSIGNMENTS", "Budget", "Question", "hw1", "hw2", "hw3", "hw4", "written_from_scratch"]
