"""The course's exercises by chapter: look one up, and see which ones pass in this kernel.

::

    ex = ck.exercise("04.1")         # the exercise object: ex.check(answer), ex.hint(), ex.solution()
    ck.exercises.progress("04")      # a table of chapter 04's exercises: passed, tried, not tried
    ck.exercises.progress()          # the same for every chapter with a checked exercise in this kernel

Each chapter's exercises live in its check module (:mod:`coursekit.check.ch04_nin` ...)
as the tuple ``EXERCISES``; :data:`CHAPTERS` lists those tuples by chapter.
"""

from __future__ import annotations

from .check import ch00_building_blocks, ch01_lenet, ch02_alexnet, ch03_vgg, ch04_nin, ch05_googlenet
from .check import ch06_batch_norm, ch07_resnet, ch08_densenet, ch09_receptive_fields, ch10_cost_of_architectures
from .check import ch11_design_and_training
from .check import ch12_what_the_network_sees, ch13_overfitting_and_recipe
from .check.exercise import Exercise
from .homework import ASSIGNMENTS

CHAPTERS: dict[str, tuple[Exercise, ...]] = {
    "00": ch00_building_blocks.EXERCISES,
    "01": ch01_lenet.EXERCISES,
    "02": ch02_alexnet.EXERCISES,
    "03": ch03_vgg.EXERCISES,
    "04": ch04_nin.EXERCISES,
    "05": ch05_googlenet.EXERCISES,
    "06": ch06_batch_norm.EXERCISES,
    "07": ch07_resnet.EXERCISES,
    "08": ch08_densenet.EXERCISES,
    "09": ch09_receptive_fields.EXERCISES,
    "10": ch10_cost_of_architectures.EXERCISES,
    "11": ch11_design_and_training.EXERCISES,
    "12": ch12_what_the_network_sees.EXERCISES,
    "13": ch13_overfitting_and_recipe.EXERCISES,
    **ASSIGNMENTS,  # the homework's auto-checked questions, "hw1".."hw4" (coursekit.homework)
}
"""Every chapter's exercises, in the order of the notebook's list, then the homework's questions."""


def all_exercises() -> list[Exercise]:
    """Every exercise of the course, chapter by chapter."""
    return [ex for exercises in CHAPTERS.values() for ex in exercises]


def exercise(key: str) -> Exercise:
    """The exercise ``key``, ``"NN.k"``: exercise k of chapter NN (e.g. ``"04.1"``)."""
    chapter, _, number = str(key).partition(".")
    if chapter not in CHAPTERS:
        raise KeyError(f"No chapter {chapter!r} has exercises: give a key like '04.1' (chapters "
                       f"{', '.join(CHAPTERS)}).")
    for ex in CHAPTERS[chapter]:
        if ex.key == key:
            return ex
    raise KeyError(f"Chapter {chapter} has no exercise {key!r}: its exercises are "
                   f"{', '.join(ex.key for ex in CHAPTERS[chapter])}.")


def _status(ex: Exercise) -> str:
    if ex.kind == "open question":
        return "open question"
    return {True: "✔ passed", False: "✘ tried, not yet right", None: "… not tried"}[ex.passed]


def progress(chapter: str | None = None) -> None:
    """Print which exercises of ``chapter`` ("04") pass, from the checks run in this kernel.

    Without a chapter, prints every chapter that has at least one checked exercise.
    An exercise counts as passed when its last checked answer was right; an
    answer of ``None`` (or a stub) is not an attempt.
    """
    if chapter is not None and chapter not in CHAPTERS:
        raise KeyError(f"No chapter {chapter!r} has exercises: give one of {', '.join(CHAPTERS)}.")
    chapters = [chapter] if chapter is not None else [
        c for c, exercises in CHAPTERS.items() if any(ex.passed is not None for ex in exercises)]
    if not chapters:
        print("No exercise checked yet in this kernel.")
        return
    for c in chapters:
        exercises = CHAPTERS[c]
        checked = [ex for ex in exercises if ex.kind != "open question"]
        passed = sum(ex.passed is True for ex in checked)
        print(f"Chapter {c}: {passed} of {len(checked)} checked exercises passed")
        for ex in exercises:
            print(f"  {ex.key:<6} {_status(ex):<24} {ex.title}")
