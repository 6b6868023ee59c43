"""The code-check engine: learner code that raises, returns the wrong kind or shape, returns None or is a stub."""

import pytest
import torch
from torch import nn

from coursekit.check.code import Mistake, judge_code, same_module, same_number, same_tensor
from tests.helpers import assert_verdict


def double(x: torch.Tensor) -> torch.Tensor:
    return 2 * x


TRIALS = [(torch.arange(6.0).reshape(2, 3),), (torch.ones(4, 1),)]
SHAPE_SLIP = Mistake(lambda a: a.got.shape == a.expected.shape[::-1], "Transposed: swap the axes back.")
RAISING_DETECTOR = Mistake(lambda a: a.got.no_such_attribute, "never shown")


def judge_double(answer, mistakes=(RAISING_DETECTOR, SHAPE_SLIP)):
    return judge_code(answer, double, TRIALS, what="your function double", right="twice the input.",
                      otherwise="Multiply by 2.", compare=same_tensor, mistakes=mistakes)


def stub(x):
    raise NotImplementedError


def cell_stub(x):
    """The notebook's stub: a body that was never written."""


@pytest.mark.parametrize("answer, verdict, piece", [
    (double, True, "Right: twice the input."),
    (lambda x: x + x, True, "Right"),
    (None, None, "replace None with your function double"),
    (stub, None, "still raises NotImplementedError"),
    (cell_stub, None, "returns None"),
    (lambda x: x.T, False, "Transposed: swap the axes back."),  # the raising detector is skipped
    (lambda x: 3 * x, False, "Not quite: called with a tensor of shape (2, 3), the shape is right but the values "
                             "differ (by up to 5)"),
    (lambda x: x[:1], False, "the result has shape (1, 3), not (2, 3). Multiply by 2."),
    (lambda x: [1, 2], False, "returned a list [1, 2], not a tensor"),
    (lambda x: 1 / 0, False, "it raised ZeroDivisionError: division by zero"),
    (lambda x: torch.cat([x, x], dim=5), False, "it raised IndexError"),
    (lambda: 2, False, "it raised TypeError"),
    (42, False, "Give your function double; you gave 42, which cannot be called."),
    ("def double(x): return 2 * x", False, "you gave the text"),
    (lambda x: 2 * x if x.shape[0] == 2 else x, False, "called with a tensor of shape (4, 1)"),  # every trial runs
])
def test_judge_code(capsys, answer, verdict, piece):
    assert_verdict(capsys, judge_double(answer), verdict, piece)


def test_a_keyboard_interrupt_is_not_swallowed():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        judge_double(interrupted)


def test_a_detector_sees_the_error_the_learners_code_raised(capsys):
    said_zero = Mistake(lambda a: isinstance(a.error, ZeroDivisionError) and a.got is None, "Do not divide by 0.")
    assert_verdict(capsys, judge_double(lambda x: 1 / 0, [said_zero]), False,
                   "Do not divide by 0.")


@pytest.mark.parametrize("got, expected, difference", [
    (3, 3, None),
    (3.0, 3, None),
    (3.5, 3, "not a whole number"),
    (4, 3, "returned 4, not 3"),
    (True, 1, "a bool"),
    ("3", 3, "not a number"),
    (torch.tensor(3), 3, "not a number"),
    (0.2502, 0.25, None),
    (0.3, 0.25, "returned 0.3, not 0.25"),
    (float("nan"), 0.25, "returned nan"),
])
def test_same_number(got, expected, difference):
    said = same_number(got, expected, ())
    assert said == difference if difference is None else difference in said


def block(c_in: int, c_out: int, relu: bool = True) -> nn.Module:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU() if relu else nn.Identity())


COMPARE = same_module(lambda args: torch.randn(2, args[0], 5, 5, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("got, difference", [
    (block(3, 4), None),
    (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True)), None),
    (block(3, 4, relu=False), "computes something else"),
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), "output of shape (2, 4, 3, 3), not (2, 4, 5, 5)"),
    (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU()), "it has 108 parameters, not 112"),
    (nn.Conv2d, "returned <class"),
    (lambda x: x, "not an nn.Module"),
])
def test_same_module(got, difference):
    said = COMPARE(got, block(3, 4), (3, 4))
    assert said == difference if difference is None else difference in said


def test_same_module_leaves_a_module_in_another_order_to_its_shapes():
    class Reordered(nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(4))
            self.weight = nn.Parameter(torch.randn(4, 3, 3, 3))

        def forward(self, x):
            return torch.relu(nn.functional.conv2d(x, self.weight, self.bias, padding=1))

    assert COMPARE(Reordered(), block(3, 4), (3, 4)) is None


def test_the_learners_code_gets_copies_of_the_inputs(capsys):
    def doubles_in_place(x):
        return x.mul_(2)

    assert_verdict(capsys, judge_double(doubles_in_place), True, "Right")
    assert torch.equal(TRIALS[0][0], torch.arange(6.0).reshape(2, 3))
