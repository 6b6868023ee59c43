"""The verdict engine: coercion of every kind of answer, the tolerance rule, slips, None, and the Verdict."""

import math

import numpy as np
import pytest
import torch

from coursekit.check.verdict import REL_TOL, NotAnAnswer, Slip, Verdict, close, coerce, judge
from tests.helpers import assert_verdict

# --- coercion ----------------------------------------------------------------------


@pytest.mark.parametrize("answer, kind, value", [
    (123, "int", 123),
    (123.0, "int", 123),
    (12.5, "int", 12.5),  # kept as it is: judge looks for slips first, then asks for a whole number
    ("123", "int", 123),
    (" 61,706 ", "int", 61706),
    ("1_000", "int", 1000),
    ("1e3", "int", 1000),
    ("-4", "int", -4),
    (np.int64(3), "int", 3),
    (np.float32(3.0), "int", 3),
    (torch.tensor(2), "int", 2),
    (torch.tensor(2.0), "int", 2),
    (torch.tensor([7]), "int", 7),
    (np.array(7), "int", 7),
    (np.array([[7]]), "int", 7),
    (0.5, "float", 0.5),
    (2, "float", 2.0),
    ("0.5", "float", 0.5),
    ("1,234.5", "float", 1234.5),
    (np.float64(0.25), "float", 0.25),
    (torch.tensor(0.5), "fraction", 0.5),
    (np.array([0.5]), "fraction", 0.5),
    ((1, 64, 28, 28), "shape", (1, 64, 28, 28)),
    ([1, 64, 28, 28], "shape", (1, 64, 28, 28)),
    (torch.Size([1, 64, 28, 28]), "shape", (1, 64, 28, 28)),
    (torch.tensor([1, 64, 28, 28]), "shape", (1, 64, 28, 28)),
    (np.array([1, 64]), "shape", (1, 64)),
    ((np.int64(1), 2.0, "3"), "shape", (1, 2, 3)),
    ("(1, 64, 28, 28)", "shape", (1, 64, 28, 28)),
    ("[1, 64]", "shape", (1, 64)),
    ("torch.Size([1, 64, 28, 28])", "shape", (1, 64, 28, 28)),
    ("(5,)", "shape", (5,)),
])
def test_coerce_accepts(answer, kind, value):
    coerced = coerce(answer, kind)
    assert coerced == value and type(coerced) is type(value)


@pytest.mark.parametrize("answer, kind, said", [
    (True, "int", "a bool"),
    (np.bool_(False), "int", "a bool"),
    (torch.tensor(True), "int", "a bool"),
    ("abc", "int", "the text 'abc'"),
    ("0,5", "float", "the text '0,5'"),  # a decimal comma is not silently 5
    ("", "int", "the text ''"),
    ([1, 2], "int", "a list [1, 2]"),
    ((1,), "float", "a tuple (1,)"),
    ({}, "int", "a dict {}"),
    (torch.ones(3), "int", "a tensor of shape (3,)"),
    (np.array([1, 2]), "fraction", "an array of shape (2,)"),
    (float("nan"), "float", "nan"),
    (float("inf"), "int", "inf"),
    ("nan", "float", "not a finite number"),
    (1j, "float", "1j"),
    (object(), "int", "(a object)"),
    (None, "int", "None"),
    ("hello", "shape", "the text 'hello'"),
    ("()", "shape", "the text '()'"),
    (7, "shape", "7"),
    (torch.tensor(3), "shape", "a tensor of shape ()"),
    ((1, 2.5), "shape", "a tuple (1, 2.5)"),
    ((True, 2), "shape", "a tuple (True, 2)"),
    ([[1, 2]], "shape", "a list [[1, 2]]"),
    ({"h": 1}, "shape", "a dict"),
    (torch.empty(1, device="meta"), "int", "cannot be read"),
    (torch.empty(4, device="meta"), "shape", "a tensor of shape (4,)"),
])
def test_coerce_rejects_with_a_reason(answer, kind, said):
    with pytest.raises(NotAnAnswer, match="you gave") as error:
        coerce(answer, kind)
    assert said in str(error.value)


# --- the tolerance rule ------------------------------------------------------------


def test_close_is_one_percent_with_a_floor_at_zero():
    assert REL_TOL == 0.01
    assert close(0.995, 1.0) and close(1.0099, 1.0) and not close(1.011, 1.0)
    assert close(-3.02, -3.0) and not close(3.0, -3.0)
    assert close(1e-17, 0.0) and not close(1e-6, 0.0)


@pytest.mark.parametrize("answer, verdict, hint", [
    (100, True, "Right: a hundred"),
    (100.0, True, "Right"),
    (101, False, "Not quite (you said 101)"),  # ints compare exactly, 1% does not apply
    (99, False, "off by one"),
    (12.5, False, "not a whole number"),
    (1_000_000, False, "Not quite (you said 1,000,000)"),
])
def test_ints_compare_exactly(capsys, answer, verdict, hint):
    result = judge(answer, "int", 100, what="an int, the count", right="a hundred",
                   slips=[Slip(99, "off by one")], otherwise="Count again.")
    assert_verdict(capsys, result, verdict, hint)


@pytest.mark.parametrize("answer, verdict, hint", [
    (0.5, True, "Right"),
    (0.504, True, "Right"),  # within 1%
    (0.497, True, "Right"),
    (0.51, False, "Not quite (you said 0.51)"),
    (0.25, False, "a quarter"),
    (0.2525, False, "a quarter"),  # slips match by the same rule
    (50, False, "That is a percentage; give a fraction between 0 and 1 (0.5)"),
    (50.4, False, "percentage"),
    (1, False, "Not quite"),  # 1 is a fraction, not a percentage
    (25, False, "Not quite (you said 25)"),  # a percentage, but of the wrong value
])
def test_fractions_match_within_one_percent_and_a_percentage_gets_a_hint(capsys, answer, verdict, hint):
    result = judge(answer, "fraction", 0.5, what="a float between 0 and 1, the share", right="half",
                   slips=[Slip(0.25, "a quarter")], otherwise="Divide.")
    assert_verdict(capsys, result, verdict, hint)


def test_a_percentage_is_only_a_slip_for_fractions(capsys):
    result = judge(50, "float", 0.5, what="a float, the value", right="", otherwise="Compute it.")
    assert_verdict(capsys, result, False, "Not quite (you said 50)")


def test_zero_is_matched_with_the_absolute_floor(capsys):
    assert_verdict(capsys, judge(1e-12, "float", 0.0, what="a float", right="zero", otherwise=""), True, "zero")
    assert_verdict(capsys, judge(0.001, "float", 0.0, what="a float", right="zero", otherwise=""), False, "Not")


# --- slips -------------------------------------------------------------------------


def test_the_right_answer_wins_over_a_slip_and_the_first_slip_wins(capsys):
    slips = [Slip(7, "first"), Slip(lambda a: a > 5, "second"), Slip(7, "third")]
    assert_verdict(capsys, judge(7, "int", 7, what="an int", right="seven", slips=slips, otherwise=""), True, "seven")
    assert_verdict(capsys, judge(7, "int", 3, what="an int", right="", slips=slips, otherwise=""), False, "first")
    assert_verdict(capsys, judge(9, "int", 3, what="an int", right="", slips=slips, otherwise=""), False, "second")


def test_an_int_slip_predicate_sees_a_non_integral_number(capsys):
    slips = [Slip(lambda a: close(a * 1e6, 12_845_056), "megabytes")]
    result = judge(12.85, "int", 12_845_056, what="an int, bytes", right="", slips=slips, otherwise="")
    assert_verdict(capsys, result, False, "megabytes")


def test_a_predicate_can_accept_a_range(capsys):
    result = judge("1,010", "int", lambda a: 1000 <= a <= 1016, what="an int", right="in range", otherwise="")
    assert_verdict(capsys, result, True, "in range")


@pytest.mark.parametrize("answer, verdict, hint", [
    ((2, 3, 4, 5), True, "Right: (2, 3, 4, 5)"),
    ([2, 3, 4, 5], True, "Right"),
    ("2, 3, 4, 5", True, "Right"),
    ((2, 3, 5, 4), False, "swapped"),
    ((2, 3, 4, 6), False, "Not quite (you said (2, 3, 4, 6))"),
    ((4, 5), False, "Give all four dimensions (N, C, H, W); you gave 2."),
    ("(4,)", False, "you gave 1"),
    ("hello", False, "Give a tuple (N, C, H, W), the output (a tuple of ints, like (2, 3, 8, 8)); you gave the text"),
])
def test_shapes_compare_exactly_and_need_every_dimension(capsys, answer, verdict, hint):
    result = judge(answer, "shape", (2, 3, 4, 5), what="a tuple (N, C, H, W), the output", right="(2, 3, 4, 5)",
                   slips=[Slip((2, 3, 5, 4), "swapped")], otherwise="", example="(2, 3, 8, 8)")
    assert_verdict(capsys, result, verdict, hint)


def test_other_shape_lengths_are_counted(capsys):
    result = judge((1, 2), "shape", (1, 2, 3), what="a tuple", right="", otherwise="")
    assert_verdict(capsys, result, False, "Give all 3 dimensions; you gave 2.")


# --- None, the message and the returned Verdict -------------------------------------


def test_none_is_not_answered_yet(capsys):
    result = judge(None, "int", 3, what="an int, the count", right="", otherwise="")
    assert_verdict(capsys, result, None, "… not answered yet: replace None with an int, the count and run the cell "
                   "again.")
    assert result.message.startswith("not answered yet")


@pytest.mark.parametrize("answer, hint", [
    ("abc", "Give an int, the count (a single whole number, like 1234); you gave the text 'abc'."),
    ([1, 2], "you gave a list [1, 2]."),
    (True, "you gave True (a bool, not a number)."),
    (float("nan"), "you gave nan, which is not a finite number."),
    (torch.ones(3), "you gave a tensor of shape (3,), not a single number."),
])
def test_an_answer_of_the_wrong_kind_is_told_what_was_expected(capsys, answer, hint):
    assert_verdict(capsys, judge(answer, "int", 3, what="an int, the count", right="", otherwise=""), False, hint)


def test_verdict_is_true_only_when_right():
    assert bool(Verdict(True, "")) is True
    assert bool(Verdict(False, "")) is False
    assert bool(Verdict(None, "")) is False
    assert repr(Verdict(False, "x")) == "Verdict(correct=False)"
    assert repr(Verdict(None, "x")) == "Verdict(correct=None)"
    assert Verdict(True, "fine").line == "✔ fine"


def test_a_verdict_displays_nothing_more_in_jupyter(capsys):
    verdict = judge(1, "int", 1, what="an int", right="one", otherwise="")
    capsys.readouterr()
    assert verdict._ipython_display_() is None
    assert capsys.readouterr().out == ""
    formatters = pytest.importorskip("IPython.core.formatters")
    assert formatters.DisplayFormatter().format(verdict) == ({}, {})  # so no "Out[n]:" in a notebook


def test_messages_are_single_lines(capsys):
    for answer in (None, 1, 2, "x", [1], math.pi):
        judge(answer, "int", 1, what="an int", right="one", slips=[Slip(2, "two")], otherwise="Count.")
        assert capsys.readouterr().out.count("\n") == 1
