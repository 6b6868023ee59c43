"""House rules every chapter notebook follows (nbval checks that they run; this checks their shape)."""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found in notebooks/"


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_opens_with_a_title_and_what_the_learner_will_do(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "you will be able to" in first.source.lower()


def test_opens_with_the_lesson_prologue(notebook):
    first = code_cells(notebook)[0].source
    assert "ck.lesson.prologue()" in first and "NBVAL_IGNORE_OUTPUT" in first


def test_ends_with_exercises(notebook):
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert any("## Exercises" in text for text in markdown[-2:])


def test_committed_with_outputs_from_a_clean_run(notebook):
    cells = code_cells(notebook)
    counts = [c.execution_count for c in cells]
    assert all(counts), "every code cell has been executed"
    assert counts == sorted(counts) and counts[0] == 1, "executed top to bottom in a fresh kernel"
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", f"a committed error in:\n{cell.source}"
            if output.output_type == "stream":
                assert output.name != "stderr" or "NBVAL_IGNORE_OUTPUT" in cell.source, (
                    f"stderr in a strictly compared cell:\n{cell.source}\n{output.text}"
                )


def test_training_cells_are_not_compared_strictly(notebook):
    for cell in code_cells(notebook):
        if any(call in cell.source for call in ("ck.fit(", "compare_models(", "lesson.report(")):
            assert cell.source.startswith("# NBVAL_IGNORE_OUTPUT"), cell.source


HELPERS_THE_PACKAGE_HAS = ("sum(p.numel()", "def count(", "def params_by_kind(", "def params_of(",
                           "ck.inspect.count_params", "ck.inspect.flops", "ck.inspect.layer_shapes",
                           "ck.inspect.memory", "ck.inspect.receptive_field(", "ck.inspect.summary")


def test_no_helper_that_the_package_has(notebook):
    for cell in code_cells(notebook):
        for pattern in HELPERS_THE_PACKAGE_HAS:
            assert pattern not in cell.source, f"{pattern!r} in:\n{cell.source}"


def test_predictions_are_shown_by_the_package(notebook):
    # Pairing images from one iteration with predictions from another is right only for a loader that never
    # shuffles; ck.lesson.show_predictions and ck.lesson.report take both from one batch.
    for cell in code_cells(notebook):
        assert "guesses = " not in cell.source, cell.source


# The chapters that train a network d2l published a run of: each sets its run beside d2l's.
TRAINING_CHAPTERS = ("01", "02", "03", "04", "05", "06", "07", "08")


def markdown_cells(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def test_markdown_has_no_control_characters(notebook):
    for text in markdown_cells(notebook):
        bad = sorted({f"{ord(ch):#04x}" for ch in text if ord(ch) < 32 and ch not in "\n\t"})
        assert not bad, f"control characters {bad} (a backslash escape gone wrong?) in:\n{text[:300]}"


def test_no_reference_to_notes_the_learner_does_not_have(notebook):
    for cell in notebook.cells:
        assert "lecture note" not in cell.source.lower(), f"cite a paper or a d2l section instead:\n{cell.source[:300]}"


def test_ends_with_references_to_papers_and_d2l(notebook):
    last = [c for c in notebook.cells if c.cell_type == "markdown"][-1].source
    assert last.startswith("## References"), "the last markdown cell is the chapter's references"
    items = [line for line in last.splitlines() if line.startswith("* ")]
    assert any(re.search(r"\((19|20)\d\d\)", item) for item in items), "a paper, with its year: " + last
    assert "Dive into Deep Learning" in last


def test_training_chapters_compare_their_run_with_d2l(notebook, request):
    chapter = Path(request.node.callspec.params["notebook"]).name[:2]
    calls = [c for c in code_cells(notebook) if "ck.lesson.versus_d2l(" in c.source]
    if chapter in TRAINING_CHAPTERS:
        assert calls, "a training chapter ends its training section with ck.lesson.versus_d2l(recipe, history)"
        assert all(c.outputs for c in calls), "the comparison is stored with the notebook"


EXERCISE_ITEM = re.compile(r"^(\d+)\. ", re.MULTILINE)
EXERCISE_OBJECT = re.compile(r"""ck\.exercise\(["'](\d\d\.\d+)["']\)""")


def test_every_numbered_exercise_has_an_exercise_object(notebook, request):
    # Each numbered item of "## Exercises" has a cell with ck.exercise("NN.k") behind it (which checks it, or
    # states the expected outcome of an open question), no cell names an exercise the list lacks, every object
    # exists in the package, and the section ends with the chapter's progress table.
    import coursekit as ck

    chapter = Path(request.node.callspec.params["notebook"]).name[:2]
    start = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and "## Exercises" in c.source)
    listed = [f"{chapter}.{n}" for n in EXERCISE_ITEM.findall(notebook.cells[start].source.split("## Exercises")[1])]
    section = [c for c in notebook.cells[start + 1:] if c.cell_type == "code"]
    used = [key for c in section for key in EXERCISE_OBJECT.findall(c.source)]
    assert listed == [f"{chapter}.{i}" for i in range(1, len(listed) + 1)], f"numbered 1, 2, ...: {listed}"
    assert sorted(set(used)) == sorted(listed), f"exercises listed {listed}, exercise objects {used}"
    assert [ex.key for ex in ck.exercises.CHAPTERS.get(chapter, ())] == listed, "the package has these exercises"
    assert f'ck.exercises.progress("{chapter}")' in section[-1].source, "the section ends with its progress table"
    for cell in section:
        for output in cell.outputs:
            shown = output.get("data", {}).get("text/plain", "")
            assert shown not in ("True", "False"), f"a check echoes {shown}:\n{cell.source}"
