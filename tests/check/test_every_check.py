"""Every public check: the names the notebooks call, and one verdict line whatever the answer.

The exercise objects' checks get the same test in test_exercises.py."""

import inspect

import numpy as np
import pytest
import torch

from coursekit import check
from coursekit.check import Verdict
from tests.helpers import MARKS

# The checks' parameters, as the notebooks and older lessons call them: they must not change. Empty since every
# notebook of chapters 00-11 reaches its checks through ck.exercise objects (test_exercises.py covers those).
SIGNATURES: dict[str, list[str]] = {}
ODD_ANSWERS = [None, "abc", "12", [1, 2], (1,), {}, 3.5, -1, float("nan"), True, np.int64(3), torch.tensor(2.0),
               torch.ones(3), np.array([1, 2])]


def test_the_public_names_are_the_checks_and_the_verdict():
    assert check.__all__ == sorted(check.__all__)
    assert set(check.__all__) == set(SIGNATURES) | {"Verdict"}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_a_check_keeps_its_parameters(name):
    assert list(inspect.signature(getattr(check, name)).parameters) == SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_any_answer_gets_exactly_one_verdict_line(capsys, name):
    for answer in ODD_ANSWERS:
        result = getattr(check, name)(answer)
        out = capsys.readouterr().out
        assert isinstance(result, Verdict), (name, answer)
        assert out.count("\n") == 1 and out.startswith(MARKS[result.correct]), (name, answer, out)
