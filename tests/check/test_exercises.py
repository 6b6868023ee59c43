"""Every registered exercise: its reference passes its own check, a typical wrong answer gets the matching
feedback, hint() and solution() never raise and the hint does not give the answer away; and the progress table.

Chapters add a row per checked exercise to TYPICAL_MISTAKES (a test fails for a checked exercise without one).
"""

from __future__ import annotations

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import coursekit as ck
from coursekit.check.exercise import Exercise
from coursekit.exercises import CHAPTERS, all_exercises
from coursekit.homework import Question
from coursekit.check.helpers import linear_share
from tests.helpers import MARKS, ODD_ANSWERS, conv_params, count, d2l_lenet
from tests.check import wrong_answers_06_11 as wrong

EXERCISES = all_exercises()
KEYS = [ex.key for ex in EXERCISES]
CHECKED = [ex for ex in EXERCISES if ex.kind != "open question"]


def corr2d_flipped(X, K, padding=0, stride=1):
    return F.conv2d(X[None, None], K.flip(0, 1)[None, None], padding=padding, stride=stride)[0, 0]


def corr2d_unpadded(X, K, padding=0, stride=1):
    return F.conv2d(X[None, None], K[None, None], stride=stride)[0, 0]


def corr2d_stride_1(X, K, padding=0, stride=1):
    return F.conv2d(X[None, None], K[None, None], padding=padding)[0, 0]


def flatten_features(size):
    return 16 * (((size - 4 + 4) // 2 - 4) // 2) ** 2


def flatten_without_padding(size):
    return 16 * (((size - 4) // 2 - 4) // 2) ** 2


def dropout_unscaled(X, p):
    return (torch.rand(X.shape) >= p) * X


def dropout_keeps_p(X, p):
    return (torch.rand(X.shape) < p) * X / (1 - p) if p < 1 else X


def dropout_nan_at_1(X, p):
    return (torch.rand(X.shape) >= p) * X / (1 - p)


def share_in_percent(net):
    return 100 * linear_share(net)[1]


def share_of_children(net):
    return sum(count(m) for m in net.children() if isinstance(m, nn.Linear)) / count(net)


def share_of_weights(net):
    linear = sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Linear))
    return linear / sum(m.weight.numel() for m in net.modules() if getattr(m, "weight", None) is not None)


class InceptionWith(nn.Module):
    """d2l's Inception block with one of the typical slips switched on."""

    def __init__(self, in_channels, c1, c2, c3, c4, pad=True, dim=1, relu=True, pool_conv=True):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, 1)
        self.p2_1, self.p2_2 = nn.Conv2d(in_channels, c2[0], 1), nn.Conv2d(c2[0], c2[1], 3, padding=int(pad))
        self.p3_1, self.p3_2 = nn.Conv2d(in_channels, c3[0], 1), nn.Conv2d(c3[0], c3[1], 5, padding=2 * pad)
        self.p4_1 = nn.MaxPool2d(3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, 1) if pool_conv else nn.Identity()
        self.dim, self.act = dim, (F.relu if relu else nn.Identity())

    def forward(self, x):
        act = self.act
        branches = (act(self.p1_1(x)), act(self.p2_2(act(self.p2_1(x)))), act(self.p3_2(act(self.p3_1(x)))),
                    act(self.p4_2(self.p4_1(x))))
        return torch.cat(branches, dim=self.dim)


def inception_with(**slip):
    return lambda *widths: InceptionWith(*widths, **slip)


def nin_block_without_last_relu(c_in, c_out, k, s, p):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, s, p), nn.ReLU(), nn.Conv2d(c_out, c_out, 1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 1))


def nin_block_with_wrong_1x1_inputs(c_in, c_out, k, s, p):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, s, p), nn.ReLU(), nn.Conv2d(c_in, c_out, 1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 1), nn.ReLU())


def nin_block_without_stride(c_in, c_out, k, s, p):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k), nn.ReLU(), nn.Conv2d(c_out, c_out, 1), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 1), nn.ReLU())


# key -> [(a typical wrong answer, a piece of the line it must get)]; the wrong answers are computed from the
# exercise's own reference where they can be, so the rows stay right if a model changes.
TYPICAL_MISTAKES = {
    "12.1": [(lambda ex: (2, 512, 1, 1), "32x32 images"), (lambda ex: (2, 10, 3, 3), "number of classes")],
    "12.2": [(lambda ex: lambda a, g: (g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1), "positive part"),
             (lambda ex: lambda a, g: torch.relu((g * a).sum(dim=1)), "averages the gradient"),
             (lambda ex: lambda a, g: torch.relu((g.sum(dim=(2, 3), keepdim=True) * a).sum(dim=1)), "take the mean")],
    "13.1": [(lambda ex: math.log(10), "ten classes"), (lambda ex: math.log10(5), "natural logarithm")],
    "13.2": [(lambda ex: lambda X, flipped: X.flip(-1), "Every image was flipped"),
             (lambda ex: lambda X, flipped: torch.where(flipped[:, None, None, None], X.flip(-2), X), "dim -1")],
    "00.1": [(lambda ex: (20, 33, (50 - 3 * 2 - 1) // 2 + 1, 100 - 4), "left out the padding"),
             (lambda ex: (20, 16) + ex.right_answer()[2:], "channel count becomes out_channels")],
    "00.2": [(lambda ex: conv_params(3, 64, 64), "ordinary 3x3 convolution"),
             (lambda ex: ex.right_answer() - 2 * 64, "add the biases")],
    "00.3": [(lambda ex: ex.right_answer() - 4 * 20, "two bias vectors"),
             (lambda ex: ex.right_answer() * 3 // 4, "GRU")],
    "00.4": [(lambda ex: ex.right_answer() / 2, "one step"), (lambda ex: 0.4, "still converges")],
    "00.6": [(lambda ex: corr2d_flipped, "flipped the kernel"), (lambda ex: corr2d_unpadded, "without padding"),
             (lambda ex: corr2d_stride_1, "Right for stride 1")],
    "01.2": [(lambda ex: count(d2l_lenet()), "count of the original LeNet")],
    "01.5": [(lambda ex: lambda size: 400, "count for 28x28"),
             (lambda ex: flatten_without_padding, "Right without padding"),
             (lambda ex: lambda size: flatten_features(size) // 16, "second convolution has 16")],
    "02.1": [(lambda ex: 256 * 5 * 5, "count for 224x224"), (lambda ex: ex.right_answer() // 256, "one 6x6 map")],
    "02.2": [(lambda ex: 0.92, "share at 224x224"), (lambda ex: 100 * ex.right_answer(), "percentage")],
    "02.6": [(lambda ex: dropout_unscaled, "not scaled"), (lambda ex: dropout_keeps_p, "probability to *drop*"),
             (lambda ex: dropout_nan_at_1, "With p = 1")],
    "03.1": [(lambda ex: 4 * conv_params(3, 256, 512), "Only the first convolution")],
    "03.2": [(lambda ex: share_in_percent, "percentage"), (lambda ex: share_of_children, "nested blocks"),
             (lambda ex: share_of_weights, "Count the biases too")],
    "03.3": [(lambda ex: conv_params(3, 512, 512), "each of the last three")],
    "03.4": [(lambda ex: 17, "as if no pooling came before")],
    "04.1": [(lambda ex: -ex.right_answer(), "wrong sign")],
    "04.2": [(lambda ex: nin_block_without_last_relu, "followed by a ReLU"),
             (lambda ex: nin_block_with_wrong_1x1_inputs, "wrong number of input channels"),
             (lambda ex: nin_block_without_stride, "stride and padding")],
    "04.5": [(lambda ex: 384 * 5 * 5 * 10 + 10, "Linear layer alone")],
    "05.1": [(lambda ex: 176 + 144 + 304 + 40 + 96 + 80, "reduction channels"),
             (lambda ex: 176 + 304 + 96, "max-pool branch")],
    "05.2": [(lambda ex: 96 * 96 * 7 * 7, "single 7x7"), (lambda ex: 96 * 96 * 9, "need 3 of them")],
    "05.6": [(lambda ex: inception_with(pad=False), "pad the 3x3"), (lambda ex: inception_with(dim=0), "dim=1"),
             (lambda ex: inception_with(relu=False), "ends with a ReLU"),
             (lambda ex: inception_with(pool_conv=False), "pooling branch keeps the input's channels")],
    "06.1": [(lambda ex: 3 * 2 / 4 + 0.5, "divided by the variance")],
    "06.2": [(lambda ex: (ex.right_answer()[0] // 2, ex.right_answer()[1]), "one vector per channel"),
             (lambda ex: (ex.right_answer()[0], ex.right_answer()[1] - 4), "num_batches_tracked")],
    "06.3": [(lambda ex: -2.0, "where the average is heading")],
    "06.6": [(lambda ex: wrong.bn_always_training, "left in training mode at evaluation"),
             (lambda ex: wrong.bn_unbiased_output, "unbiased variance"),
             (lambda ex: wrong.bn_biased_running_var, "running variance is fed the unbiased"),
             (lambda ex: wrong.bn_no_update, "updates bn.running_mean")],
    "07.1": [(lambda ex: ex.right_answer() - wrong.count(ck.models.Bottleneck(256, 128, stride=2).shortcut),
              "shortcut")],
    "07.2": [(lambda ex: (1, 512, 7, 7), "halves the height and width")],
    "07.6": [(lambda ex: wrong.ResidualNoShortcutConv, "no longer has the output's shape"),
             (lambda ex: wrong.ResidualReluBeforeAdd, "ReLU comes after the addition"),
             (lambda ex: wrong.ResidualAlwaysProjects, "shortcut is the identity")],
    "08.1": [(lambda ex: 2 * ex.right_answer(), "halves the channels"),
             (lambda ex: 16 * 12, "only the new channels")],
    "08.2": [(lambda ex: ex.right_answer() - 3 * 8, "biases")],
    "08.6": [(lambda ex: wrong.densenet_channels_without_transitions, "halves them"),
             (lambda ex: wrong.densenet_channels_halving_the_last_block, "No transition follows the last block"),
             (lambda ex: wrong.densenet_channels_float, "whole number")],
    "09.1": [(lambda ex: 1 + sum(k - 1 for k in (7, 3, 3, 3, 3)), "every jump set to 1")],
    "09.2": [(lambda ex: ex.right_answer() - 2 * 4 + 2, "jump")],
    "09.3": [(lambda ex: 1 + 6 * 2, "without dilation")],
    "09.4": [(lambda ex: ex.right_answer() - 16 + 4, "not 4")],
    "09.6": [(lambda ex: wrong.field_without_jump, "product of the strides"),
             (lambda ex: wrong.field_with_padding, "Padding adds zeros"),
             (lambda ex: wrong.field_without_pooling, "Pooling layers")],
    "10.1": [(lambda ex: ex.right_answer() - 128, "add the biases")],
    "10.2": [(lambda ex: 1 / ex.right_answer(), "Upside down"), (lambda ex: 1 / 96 + 1 / 25, "C_out = 192")],
    "10.3": [(lambda ex: 2 * ex.right_answer(), "counts FLOPs")],
    "10.4": [(lambda ex: ex.right_answer() // 4, "number of values")],
    "10.6": [(lambda ex: wrong.grouped_bottleneck_ungrouped, "as if it had no groups"),
             (lambda ex: wrong.grouped_bottleneck_without_biases, "forgot the biases"),
             (lambda ex: wrong.grouped_bottleneck_dividing_biases, "not the biases")],
    "11.1": [(lambda ex: 8 * ex.right_answer(), "in bits")],
    "11.2": [(lambda ex: 0.1, "do not add up"), (lambda ex: 1 - ex.right_answer(), "sparsity")],
    "11.3": [(lambda ex: ex.right_answer() - 5, "biases are trainable")],
    "11.7": [(lambda ex: wrong.prune_the_largest, "pruned the largest"),
             (lambda ex: wrong.prune_per_row, "every row"),
             (lambda ex: wrong.prune_returning_the_weight, "return the mask itself")],
}


# The homework's questions (coursekit.homework): those graded with a chapter's check share its rows.
TYPICAL_MISTAKES.update({
    "hw1.1": TYPICAL_MISTAKES["00.6"], "hw2.2": TYPICAL_MISTAKES["05.6"], "hw3.1": TYPICAL_MISTAKES["06.6"],
    "hw3.2": TYPICAL_MISTAKES["07.6"], "hw4.1": TYPICAL_MISTAKES["09.6"],
    "hw1.2": [(lambda ex: lambda X, size, mode="max": ex.right_answer()(X, size, "avg" if mode == "max" else "max"),
               "swapped the modes")],
    "hw1.3": [(lambda ex: lambda X, dY: X, "gradient with respect to the input"),
              (lambda ex: lambda X, dY: ex.right_answer()(X, dY).flip(0, 1), "flipped")],
    "hw1.4": [(lambda ex: ex.right_answer() - 16, "add the biases")],
    "hw1.5": [(lambda ex: 28 * 28, "number of pixels")],
    "hw2.1": [(lambda ex: lambda n, c_in, c_out: ex.right_answer()(n, c_in, c_out)[:-1], "keeps the size")],
    "hw2.3": [(lambda ex: ex.right_answer() - 2, "1 pixel apart")],
    "hw2.4": [(lambda ex: 2 * ex.right_answer(), "counts FLOPs")],
    "hw3.3": [(lambda ex: lambda net, X, y: torch.ones(1), "one norm per nn.Conv2d")],
    "hw3.4": [(lambda ex: ex.right_answer() - 64, "concatenates its input")],
    "hw4.2": [(lambda ex: lambda *args: 2 * ex.right_answer()(*args), "counts FLOPs"),
              (lambda ex: lambda *args: ex.right_answer()(*args) * args[-1], "divide by groups")],
    "hw4.3": [(lambda ex: 1 / ex.right_answer(), "invert it")],
})


def test_every_chapter_lists_its_exercises_in_order():
    for chapter, exercises in CHAPTERS.items():
        assert [ex.key for ex in exercises] == [f"{chapter}.{i}" for i in range(1, len(exercises) + 1)]
    assert len(set(KEYS)) == len(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_the_exercise_is_found_by_its_key(key):
    assert ck.exercise(key).key == key


@pytest.mark.parametrize("key", ["99.1", "04.99", "4.1", "", "04"])
def test_an_unknown_key_says_which_exist(key):
    with pytest.raises(KeyError, match="give|exercises are"):
        ck.exercise(key)


@pytest.mark.parametrize("ex", CHECKED, ids=[ex.key for ex in CHECKED])
def test_the_reference_passes_its_own_check(capsys, ex):
    verdict = ex.check(ex.right_answer())
    out = capsys.readouterr().out
    assert verdict.correct is True, out
    assert out.startswith(MARKS[True]) and out.count("\n") == 1


@pytest.mark.parametrize("ex", CHECKED, ids=[ex.key for ex in CHECKED])
def test_every_checked_exercise_has_a_typical_mistake_in_the_table(ex):
    assert TYPICAL_MISTAKES.get(ex.key), f"add a typical wrong answer of {ex.key} to TYPICAL_MISTAKES"


MISTAKE_ROWS = [pytest.param(key, wrong, piece, id=f"{key}-{i}")
                for key, rows in TYPICAL_MISTAKES.items() for i, (wrong, piece) in enumerate(rows)]


@pytest.mark.parametrize("key, wrong, piece", MISTAKE_ROWS)
def test_a_typical_wrong_answer_gets_the_matching_feedback(capsys, key, wrong, piece):
    ex = ck.exercise(key)
    verdict = ex.check(wrong(ex))
    line = capsys.readouterr().out
    assert verdict.correct is False and line.startswith(MARKS[False]), line
    assert piece in line, line


@pytest.mark.parametrize("ex", CHECKED, ids=[ex.key for ex in CHECKED])
def test_any_answer_gets_exactly_one_verdict_line(capsys, ex):
    for answer in ODD_ANSWERS:
        verdict = ex.check(answer)
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and out.startswith(MARKS[verdict.correct]), (ex.key, answer, out)


@pytest.mark.parametrize("ex", CHECKED, ids=[ex.key for ex in CHECKED])
def test_none_is_not_answered_yet(capsys, ex):
    assert ex.check(None).correct is None
    assert capsys.readouterr().out.startswith(MARKS[None] + "not answered yet")


def answer_in_words(ex: Exercise) -> list[str]:
    """How the answer would look in a hint: the number or shape as written, or the reference's code lines."""
    answer = ex.right_answer()
    if ex.kind == "code":
        lines = inspect.getsource(answer).splitlines()[1:]  # the body: the signature is the learner's too
        return [line.strip() for line in lines if len(line.strip()) > 25 and not line.strip().startswith('"""')]
    if isinstance(answer, int):
        return [str(answer), f"{answer:,}"]
    if isinstance(answer, float):
        return [f"{answer:.4g}", f"{answer:.1%}", f"{answer:.0%}"]
    return [str(tuple(answer))]


@pytest.mark.parametrize("ex", EXERCISES, ids=KEYS)
def test_hint_and_solution_never_raise_and_the_hint_keeps_the_answer(capsys, ex):
    ex.hint()
    hint = capsys.readouterr().out
    assert hint.startswith(f"Hint for {ex.key}: ") and len(hint) > 40
    ex.solution()
    solution = capsys.readouterr().out
    assert solution.startswith(f"Solution of {ex.key}:\n") and len(solution) > 60
    if ex.kind != "open question":
        for words in answer_in_words(ex):
            assert words not in hint, f"the hint of {ex.key} gives the answer away: {words!r}"
        shown = any(words in solution for words in answer_in_words(ex))
        if isinstance(ex, Question):  # homework: the answer stays with the staff until grading
            assert not shown, f"the solution of homework question {ex.key} gives the answer away"
        else:
            assert shown, f"the solution of {ex.key} hides the answer"


@pytest.mark.parametrize("ex", EXERCISES, ids=KEYS)
def test_the_repr_says_what_it_is_and_how_to_get_help(ex):
    text = repr(ex)
    assert text.startswith(f"Exercise {ex.key}: {ex.title}")
    assert ".hint()" in text and ".solution()" in text
    if ex.kind == "open question":
        assert "Expected outcome: " + ex.outcome in text and ".check(" not in text
    else:
        assert ".check(answer)" in text


@pytest.mark.parametrize("ex", [ex for ex in EXERCISES if ex.kind == "open question"],
                         ids=[ex.key for ex in EXERCISES if ex.kind == "open question"])
def test_an_open_question_has_no_check_and_says_so(capsys, ex):
    verdict = ex.check("my answer")
    assert verdict.correct is None and "open question" in capsys.readouterr().out
    assert ex.passed is None
    with pytest.raises(ValueError, match="open question"):
        ex.right_answer()


def test_solutions_with_numbers_are_computed_not_typed():
    # A typed figure in a solution would go stale when a model changes: every digit group of four or more in the
    # prose the package declares (titles, hints, outcomes, discussions given as text) is a size from the question.
    for ex in EXERCISES:
        for text in (ex.title, ex.outcome, ex.hint_text, ex.discussion if isinstance(ex.discussion, str) else ""):
            without_years = re.sub(r"\((?:[^()]*\s)?(19|20)\d\d\)", "", text)  # citations: "et al. (2018)"
            assert not re.search(r"\d{1,3}(,\d{3})+|\d{4,}", without_years), f"{ex.key}: a typed figure in {text!r}"


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="essay"), "kind must be one of"),
    (dict(kind="open question", outcome="o", discussion="d", check=print), "an open question has"),
    (dict(kind="open question", discussion="d"), "an open question has"),
    (dict(kind="number", check=print), "needs a check and an answer"),
])
def test_a_badly_declared_exercise_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Exercise("99.1", "t", hint="h", **kwargs)


# --- progress ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_record():
    saved = {ex.key: ex.passed for ex in EXERCISES}
    for ex in EXERCISES:
        ex.passed = None
    yield
    for ex in EXERCISES:
        ex.passed = saved[ex.key]


def test_progress_records_the_last_answered_check(capsys, fresh_record):
    ex = ck.exercise("04.1")
    ex.check(ex.right_answer())
    assert ex.passed is True
    ex.check(None)  # not an attempt: the record stays
    assert ex.passed is True
    ex.check(-1)
    assert ex.passed is False
    ex.check(ex.right_answer())
    ck.exercise("04.2").check(nin_block_without_last_relu)
    capsys.readouterr()
    ck.exercises.progress("04")
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "Chapter 04: 1 of 3 checked exercises passed"
    rows = {line.split()[0]: line for line in table[1:]}
    assert "✔ passed" in rows["04.1"] and "✘ tried, not yet right" in rows["04.2"]
    assert "… not tried" in rows["04.5"] and "open question" in rows["04.3"]
    assert len(rows) == len(CHAPTERS["04"])


def test_progress_of_all_chapters_shows_those_tried(capsys, fresh_record):
    ck.exercises.progress()
    assert capsys.readouterr().out == "No exercise checked yet in this kernel.\n"
    ck.exercise("04.1").check(7)
    capsys.readouterr()
    ck.exercises.progress()
    out = capsys.readouterr().out
    assert out.startswith("Chapter 04: 0 of") and out.count("Chapter ") == 1


def test_progress_of_an_unknown_chapter_says_which_exist():
    with pytest.raises(KeyError, match="give one of"):
        ck.exercises.progress("99")


def test_a_check_returns_a_verdict_that_echoes_nothing(capsys):
    verdict = ck.exercise("04.1").check(None)
    assert repr(verdict).startswith("Verdict(") and verdict._ipython_display_() is None
    assert not isinstance(verdict, bool) and not torch.is_tensor(verdict)
