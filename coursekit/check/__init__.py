"""Checks for the exercises: one module per notebook, and the engines they share.

Learners reach an exercise through its object, ``ex = ck.exercise("04.1")``
(see :mod:`coursekit.exercises`): ``ex.check(answer)`` prints one line,
``✔ Right: ...`` with why it is right, ``✘ ...`` with what is probably wrong and
where to look, or, while the answer is still ``None``, ``… not answered yet``.
A number may be given as an int, a float, a numpy number, a one-element tensor
or a string such as ``"1,234"``; a shape as a tuple, a list, a ``torch.Size`` or
a string such as ``"(1, 64, 28, 28)"``; code as the learner's function or class.
Whatever the answer, a check never raises because of it.

Each check returns a :class:`~coursekit.check.verdict.Verdict`, true only for
a right answer, which shows nothing more when it ends a cell. Expected values
are computed from the networks and formulas themselves, never typed in, so a
check stays right if a model changes. One module per notebook (``ch01_lenet``
holds the checks and the :class:`~coursekit.check.exercise.Exercise` objects of
``01_lenet.ipynb``); numbers and shapes are judged by
:mod:`coursekit.check.verdict`, which documents the tolerance rule, and code by
:mod:`coursekit.check.code`. Only :class:`~coursekit.check.verdict.Verdict` is
re-exported here: every notebook reaches its checks through the exercise objects.
"""

from .verdict import Verdict

__all__ = ["Verdict"]
