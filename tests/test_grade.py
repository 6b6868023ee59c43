"""Homework, kept honest: released without solutions, solved versions graded in full, bad submissions reported.

Grading runs every notebook in a kernel of its own (nbgrader's autograder through
``coursekit.grade``), so these tests share their runs: one batch of hw1 submissions
(solved, broken, missing questions, not JSON), one looping submission with a short
time limit, and the solved versions of hw2-hw4. They run in the ``smoke`` profile.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

pytest.importorskip("nbgrader", reason="coursekit grade needs the grading extra: pip install -e '.[grading]'")

from coursekit import grade as grading  # noqa: E402
from coursekit.history import History  # noqa: E402
from coursekit.homework import Budget  # noqa: E402
from coursekit.cli import main  # noqa: E402

HOMEWORK = grading.HOMEWORK
FIXTURES = grading.HOMEWORK.parent.parent / "tests" / "fixtures" / "homework"
ASSIGNMENTS = sorted(p.name for p in (HOMEWORK / "source").iterdir() if p.is_dir())
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Model answer",
           "Rubric for the grader")


def released(assignment: str):
    return nbformat.read(HOMEWORK / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_lines(assignment: str) -> set[str]:
    """Lines of the source's solution and hidden-test regions that appear nowhere else in it."""
    inside, outside = set(), set()
    for cell in nbformat.read(grading.source_notebook(assignment), as_version=4).cells:
        hidden = False
        for line in cell.source.splitlines():
            text = line.strip()
            if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", text):
                hidden = True
            (inside if hidden else outside).add(text)
            if re.search(r"END (SOLUTION|HIDDEN TESTS)", text):
                hidden = False
    return {line for line in inside - outside if len(line) >= 12 and not line.startswith("#")}


def test_there_are_four_assignments():
    assert ASSIGNMENTS == ["hw1", "hw2", "hw3", "hw4"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_contains_no_solution_text(assignment):
    text = "\n".join(cell.source for cell in released(assignment).cells)
    for marker in MARKERS:
        assert marker not in text, f"{assignment}'s release contains {marker!r}"
    lines = solution_lines(assignment)
    assert len(lines) >= 5, "the source should mark its solutions"  # the grep below must have something to find
    leaked = [line for line in lines if line in text]
    assert not leaked, f"{assignment}'s release contains solution lines: {leaked[:3]}"
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_is_what_nbgrader_generates_now(assignment, tmp_path):
    """The committed release follows its source: regenerate it with nbgrader and compare the cells."""
    api = grading.course_api(tmp_path)
    fresh = nbformat.read(grading.generate_release(api, assignment, grading.source_notebook(assignment)),
                          as_version=4)
    assert [c.source for c in fresh.cells] == [c.source for c in released(assignment).cells], (
        f"run `nbgrader generate_assignment {assignment} --force` in notebooks/homework and commit the release")


@pytest.fixture(scope="module")
def hw1_batch(tmp_path_factory):
    """One class of hw1: the solved source, a broken submission, one without two questions, one not JSON."""
    folder = tmp_path_factory.mktemp("hw1-submissions")
    (folder / "solved.ipynb").write_text(grading.source_notebook("hw1").read_text())
    for name in ("broken", "missing", "truncated"):
        (folder / f"{name}.ipynb").write_bytes((FIXTURES / f"{name}.ipynb").read_bytes())
    out = tmp_path_factory.mktemp("hw1-grading")
    submissions = [folder / f"{name}.ipynb" for name in ("solved", "broken", "missing", "truncated")]
    results = grading.grade(submissions, "hw1", out, time_limit=120)
    return {r.student: r for r in results}, out


def scores(result) -> dict[str, float | None]:
    return {p.grade_id: p.score for p in result.parts}


def test_solved_hw1_gets_every_automatic_point(hw1_batch):
    results, _ = hw1_batch
    solved = results["solved"]
    assert solved.status == "ok"
    auto = [p for p in solved.parts if not p.manual]
    assert len(auto) == 6 and all(p.score == p.max_score for p in auto)
    assert [p.score for p in solved.parts if p.manual] == [None]  # the written answer waits for a person


def test_broken_submission_gets_its_partial_score_and_feedback(hw1_batch):
    results, out = hw1_batch
    broken = results["broken"]
    assert scores(broken) == {"hw1_1": 0, "hw1_2": 2, "hw1_3": 0, "hw1_4": 0, "hw1_5": 1, "hw1_6": 0, "hw1_7": None}
    assert broken.auto_score == 3
    assert "raised NotImplementedError in hw1_3_answer" in broken.status
    feedback = (out / "feedback" / "broken.md").read_text()
    assert "Automatic points: 3 of 16" in feedback
    assert "flipped the kernel" in feedback  # the chapter check's targeted line, under hw1_1
    assert "add the biases" in feedback
    assert "not answered yet" in feedback and "NameError: name 'net' is not defined" in feedback


def test_missing_questions_and_invalid_json_get_rows_that_say_so(hw1_batch):
    results, out = hw1_batch
    assert "lacks question(s) hw1_4, hw1_5" in results["missing"].status
    assert scores(results["missing"])["hw1_4"] == 0
    assert "not valid JSON" in results["truncated"].status and not results["truncated"].parts
    with open(out / "grades.csv") as file:
        rows = list(csv.DictReader(file))
    assert [r["student"] for r in rows] == ["solved", "broken", "missing", "truncated"]  # the batch went on
    assert rows[1]["hw1_2 (2)"] == "2" and rows[1]["auto total (16)"] == "3"
    assert rows[0]["hw1_7 (4, by hand)"] == "by hand"
    table = (out / "grades.md").read_text()
    assert "| truncated |" in table and "not valid JSON" in table
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        "broken.md", "missing.md", "solved.md", "truncated.md"]


def test_a_notebook_that_loops_forever_is_stopped_by_the_time_limit(tmp_path):
    results = grading.grade([FIXTURES / "looping.ipynb"], "hw1", tmp_path / "out", time_limit=10)
    looping = results[0]
    assert "timed out" in looping.status and "10 s" in looping.status
    assert looping.auto_score == 0
    assert "NotebookTimeLimit" in (tmp_path / "out" / "feedback" / "looping.md").read_text()


@pytest.mark.parametrize("assignment", ["hw2", "hw3", "hw4"])
def test_solved_source_runs_in_smoke_and_gets_every_automatic_point(assignment, tmp_path):
    source = tmp_path / "solved.ipynb"
    source.write_text(grading.source_notebook(assignment).read_text())
    result = grading.grade([source], assignment, tmp_path / "out", time_limit=150)[0]
    assert result.status == "ok", result.status
    auto = [p for p in result.parts if not p.manual]
    assert auto and all(p.score == p.max_score for p in auto), [(p.grade_id, p.score, p.lines) for p in auto]


@pytest.mark.parametrize("path, student", [
    ("alice.ipynb", "alice"), ("class/alice/hw2.ipynb", "alice"), ("submitted/bob/hw2/hw2.ipynb", "bob")])
def test_student_ids_come_from_file_or_folder_names(path, student):
    assert grading.student_id(Path(path), "hw2") == student


def test_cli_refuses_an_unknown_assignment_and_missing_files(tmp_path, capsys):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text(json.dumps({"cells": []}))
    assert main(["grade", str(notebook), "--assignment", "hw9", "--out", str(tmp_path / "out")]) == 2
    assert "no source notebook" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "nobody.ipynb"), "--assignment", "hw1", "--out", str(tmp_path)]) == 2
    assert "no such submission" in capsys.readouterr().err
    twice = tmp_path / "x" / "alice.ipynb"
    twice.parent.mkdir()
    twice.write_text("{}")
    assert main(["grade", str(notebook), str(twice), "--assignment", "hw1", "--out", str(tmp_path / "o")]) == 2
    assert "two submissions for alice" in capsys.readouterr().err


def _constant_net(label: int) -> nn.Module:
    """A network of 7,850 parameters that always predicts ``label``."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        net[1].weight.zero_()
        net[1].bias.copy_(torch.nn.functional.one_hot(torch.tensor(label), 10).float())
    return net


def test_budget_passes_only_when_every_threshold_is_met(capsys):
    test_iter = [(torch.zeros(4, 1, 28, 28), torch.tensor([3, 3, 3, 1]))]  # a constant 3 is 75% right
    fast = History(train_seconds=[10.0, 20.0])
    assert Budget(min_accuracy=0.7, max_params=8_000, max_flops=20_000, max_seconds=60).check(
        _constant_net(3), fast, test_iter)
    out = capsys.readouterr().out
    assert "test accuracy: 75.0%" in out and "parameters: 7,850" in out and "training seconds: 30.0" in out
    verdict = Budget(min_accuracy=0.8, max_params=7_000, max_seconds=25).check(_constant_net(3), fast, test_iter)
    assert not verdict and verdict.correct is False
    assert "test accuracy, parameters, training seconds" in verdict.message
    assert Budget(min_accuracy=0.1).check(None, None, test_iter).correct is None  # not answered yet
    assert Budget(min_accuracy=0.1).check(nn.Conv2d(3, 1, 1), fast, test_iter).correct is False  # says why
    assert "could not be measured" in capsys.readouterr().out
