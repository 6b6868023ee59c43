"""Homework: four assignments that import coursekit, and the checks they are graded with.

The assignments are notebooks in ``notebooks/homework/`` (nbgrader's layout:
``source/`` holds the solved versions, ``release/`` what students get). In an
assignment, a learner checks each question as they go and sees their progress::

    from coursekit import homework
    q = homework.question("hw1.1")     # a Question: q.check(corr2d), q.hint()
    q.check(corr2d)                    # one line: ✔ right, ✘ what is probably wrong, … not answered yet
    homework.progress("hw1")           # which questions pass in this kernel

The graded test cells call the same checks (with more seeds in the hidden
ones); ``coursekit grade`` (:mod:`coursekit.grade`) runs them on a whole class.

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


def question(key: str) -> Question:
    """The question ``key``, ``"hwN.k"``: question k of assignment N (e.g. ``"hw1.1"``)."""
    assignment, _, _ = str(key).partition(".")
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"No assignment {assignment!r}: give a key like 'hw1.1' (assignments "
                       f"{', '.join(ASSIGNMENTS)}).")
    for q in ASSIGNMENTS[assignment]:
        if q.key == key:
            return q
    raise KeyError(f"Assignment {assignment} has no question {key!r}: its questions are "
                   f"{', '.join(q.key for q in ASSIGNMENTS[assignment])}.")


def progress(assignment: str) -> None:
    """Print which checked questions of ``assignment`` ("hw1") pass, from the checks run in this kernel."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"No assignment {assignment!r}: give one of {', '.join(ASSIGNMENTS)}.")
    questions = ASSIGNMENTS[assignment]
    passed = sum(q.passed is True for q in questions)
    print(f"{assignment}: {passed} of {len(questions)} checked questions pass in this kernel "
          "(the budget task and the written answer are graded apart)")
    for q in questions:
        status = {True: "✔ passes", False: "✘ tried, not yet right", None: "… not checked yet"}[q.passed]
        print(f"  {q.key:<7} {status:<24} {q.title}")


__all__ = ["ASSIGNMENTS", "Budget", "Question", "hw1", "hw2", "hw3", "hw4", "progress", "question", "written_from_scratch"]
