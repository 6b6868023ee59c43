"""Grade a class's homework in one command, on nbgrader's autograder.

    coursekit grade submissions/*.ipynb --assignment hw2 --out grading/hw2

Each submitted notebook goes through ``nbgrader autograde`` (the same
preprocessors, in the same order): the locked cells and hidden tests are put
back from the source notebook in ``notebooks/homework/source/<assignment>/``,
then the notebook runs in its own kernel process (nbclient, through nbgrader's
``Execute``) under a time limit for the whole notebook, and every test cell
that runs without an error earns its points. Student code never runs in the
grader's process; it does run with the grader's rights (see README,
"Grading").

``--out`` becomes an nbgrader course directory (``gradebook.db``,
``submitted/``, ``autograded/``), so the written questions can be graded by
hand in JupyterLab's Formgrader afterwards, and holds what this module adds:

* ``grades.csv`` and ``grades.md``: one row per student, the points of every
  graded cell, the automatic total, and a status that says when a notebook
  raised, ran out of time, was not a notebook or lacked a question;
* ``feedback/<student>.md``: every question's points and what its checks printed.

A bad notebook gets a row that says what was wrong; the batch goes on.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from sqlalchemy.exc import SAWarning
from traitlets import Integer
from traitlets.config import Config

COURSE_ID = "coursekit"
TIME_LIMIT_ENAME = "NotebookTimeLimit"
HOMEWORK = Path(__file__).resolve().parent.parent / "notebooks" / "homework"
"""The course's nbgrader folder in a source checkout: ``source/<assignment>/<assignment>.ipynb``."""


class TimeLimitedExecute(Execute):
    """nbgrader's ``Execute`` with one time limit for the whole notebook instead of one per cell.

    The cell running when the limit is reached is interrupted (nbclient's
    ``timeout_func`` gives each cell what is left); the cells after it are not
    run and get an error output named ``NotebookTimeLimit``, so their tests
    score nothing and the status can say why.
    """

    time_limit = Integer(120, help="Seconds for the whole notebook, kernel start included.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.time_limit
        self.timeout_func = self._time_left
        return super().preprocess(nb, resources, km=km)

    def _time_left(self, cell) -> int:
        return max(1, math.ceil(self._deadline - time.monotonic()))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and time.monotonic() >= self._deadline:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename=TIME_LIMIT_ENAME, evalue=f"not run: the notebook's {self.time_limit} s were used up",
                traceback=[f"{TIME_LIMIT_ENAME}: not run: the notebook's {self.time_limit} s were used up"])]
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


@dataclass
class Part:
    """One graded cell of one student's notebook."""

    grade_id: str
    max_score: float
    score: float | None  # None: graded by hand and not graded yet, or not graded at all
    manual: bool
    lines: list[str] = field(default_factory=list)  # what the cell printed, and its error if it raised


@dataclass
class StudentResult:
    """A student's row: the graded parts and what went wrong, if anything."""

    student: str
    source: Path
    parts: list[Part] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def auto_score(self) -> float:
        return sum(p.score or 0 for p in self.parts if not p.manual)

    @property
    def status(self) -> str:
        return "; ".join(self.problems) or "ok"


def student_id(path: Path, assignment: str) -> str:
    """``alice.ipynb`` -> ``alice``; ``alice/hw2.ipynb`` and ``alice/hw2/hw2.ipynb`` (nbgrader's layout) -> ``alice``."""
    if path.stem != assignment:
        return path.stem
    for folder in path.resolve().parents:
        if folder.name != assignment:
            return folder.name
    raise ValueError(f"cannot tell whose submission {path} is: name it <student>.ipynb.")


def source_notebook(assignment: str, course: Path = HOMEWORK) -> Path:
    """The solved source of ``assignment``: ``<course>/source/<assignment>/<assignment>.ipynb``."""
    path = course / "source" / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        known = sorted(p.name for p in (course / "source").glob("*") if p.is_dir()) if (course / "source").is_dir() else []
        raise ValueError(f"no source notebook {path} for assignment {assignment!r}"
                         + (f"; assignments: {', '.join(known)}" if known else "; pass --course, the folder that "
                            "holds source/<assignment>/") + ".")
    return path


def _put_alembic_on_path() -> None:
    """nbgrader checks the gradebook's schema by running the ``alembic`` command, found on PATH only.

    Called as ``.venv/bin/coursekit`` without activating the environment, PATH lacks the
    environment's ``bin``: add it, where ``alembic`` was installed with nbgrader.
    """
    scripts = Path(sys.executable).parent
    if shutil.which("alembic") is None and (scripts / "alembic").exists():
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"


def _config(root: Path, time_limit: int) -> Config:
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.TimeLimitedExecute.time_limit = time_limit
    # The installed nbgrader's own autograde pipeline, with the time-limited Execute in place of its own.
    pipeline = Autograde.class_traits()["autograde_preprocessors"].default()
    config.Autograde.autograde_preprocessors = [TimeLimitedExecute if p is Execute else p for p in pipeline]
    return config


def _cell_lines(cell) -> list[str]:
    """What a graded cell printed, and the last line of its error."""
    lines = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            lines += [line for line in output.text.splitlines() if line.strip()]
        elif output.output_type == "error":
            lines.append(f"{output.ename}: {output.evalue}".rstrip(": ") or output.ename)
    return lines


def _problems(notebook, missing: list[str], time_limit: int) -> list[str]:
    """What went wrong in an autograded notebook: time limit, errors outside test cells, missing questions."""
    problems = []
    errors = [(i, o) for i, c in enumerate(notebook.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    if any(o.ename in ("CellTimeoutError", TIME_LIMIT_ENAME) for _, o in errors):
        problems.append(f"timed out: the notebook ran past its {time_limit} s limit")
    raised = [(i, o) for i, o in errors if o.ename not in ("CellTimeoutError", TIME_LIMIT_ENAME, "KeyboardInterrupt")
              and not notebook.cells[i].metadata.get("nbgrader", {}).get("grade")]
    if raised:
        i, o = raised[0]
        where = notebook.cells[i].metadata.get("nbgrader", {}).get("grade_id") or f"cell {i}"
        more = f" (and {len(raised) - 1} more cell{'s' if len(raised) > 2 else ''})" if len(raised) > 1 else ""
        problems.append(f"raised {o.ename} in {where}{more}")
    if missing:
        problems.append(f"lacks question(s) {', '.join(missing)}")
    return problems


def graded_cells(source: Path) -> list[tuple[str, float, bool]]:
    """``(grade_id, points, by_hand)`` of every graded cell of a source notebook, in order.

    A cell that is both a solution and graded (a written answer) is graded by hand.
    """
    cells = []
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cells.append((meta["grade_id"], float(meta.get("points", 0)), bool(meta.get("solution"))))
    return cells


def _read_result(gb: Gradebook, root: Path, assignment: str, result: StudentResult, time_limit: int,
                 cells: list[tuple[str, float, bool]]) -> None:
    autograded = root / "autograded" / result.student / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(autograded, as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    missing = []
    for grade_id, points, by_hand in cells:
        cell = by_id.get(grade_id)
        if cell is None:
            missing.append(grade_id)
            result.parts.append(Part(grade_id, points, 0.0, by_hand, ["missing from the submission"]))
            continue
        try:
            grade = gb.find_grade(grade_id, assignment, assignment, result.student)
            # nbgrader's score reads 0 while a written answer waits for a person: say so instead.
            score = None if grade.needs_manual_grade and grade.manual_score is None else grade.score
        except MissingEntry:
            score = 0.0
        result.parts.append(Part(grade_id, points, score, by_hand, _cell_lines(cell)))
    result.problems += _problems(notebook, missing, time_limit)


def course_api(root: Path, time_limit: int = 900) -> NbGraderAPI:
    """nbgrader's API on the course directory ``root`` (created if need be)."""
    root.mkdir(parents=True, exist_ok=True)
    _put_alembic_on_path()
    config = _config(root.resolve(), time_limit)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def generate_release(api: NbGraderAPI, assignment: str, source: Path) -> Path:
    """``nbgrader generate_assignment``: the student version of ``source``, in the API's course directory.

    Returns the released notebook's path. The course's own release is made the same way, with the
    command ``nbgrader generate_assignment <assignment> --force`` run in ``notebooks/homework``.
    """
    root = Path(api.coursedir.root)
    (root / "source" / assignment).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, root / "source" / assignment / source.name)
    released = api.generate_assignment(assignment, force=True, create=True)
    if not released["success"]:
        raise RuntimeError(f"nbgrader could not release {source}:\n{released['error']}\n{released['log']}")
    return root / "release" / assignment / source.name


def grade(submissions: list[Path], assignment: str, out: Path, *, course: Path = HOMEWORK,
          time_limit: int = 900) -> list[StudentResult]:
    """Autograde every submission of ``assignment`` into ``out``; write the tables and feedback; return the rows.

    Args:
        submissions: the students' notebooks, named ``<student>.ipynb`` (or
            nbgrader's ``<student>/<assignment>/<assignment>.ipynb``).
        assignment: e.g. ``"hw2"``; its solved source is
            ``<course>/source/<assignment>/<assignment>.ipynb``.
        out: the nbgrader course directory to grade in; written tables go
            here. Running again regrades and keeps grades given by hand.
        time_limit: seconds each notebook may run, kernel start included.
    """
    source = source_notebook(assignment, course)
    students = [student_id(Path(p), assignment) for p in submissions]
    duplicates = sorted({s for s in students if students.count(s) > 1})
    if duplicates:
        raise ValueError(f"two submissions for {', '.join(duplicates)}: give each student one notebook.")
    api = course_api(out, time_limit)
    generate_release(api, assignment, source)  # records the graded cells in the gradebook
    cells = graded_cells(source)
    results = []
    for path, student in zip(submissions, students):
        result = StudentResult(student, Path(path))
        results.append(result)
        target = out / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        try:
            nbformat.read(target, as_version=4)
        except (nbformat.reader.NotJSONError, json.JSONDecodeError, UnicodeDecodeError) as error:
            result.problems.append(f"not a notebook: not valid JSON ({type(error).__name__})")
            continue
        except Exception as error:  # nbformat's validation errors have several types
            result.problems.append(f"not a valid notebook: {str(error).splitlines()[0][:80]}")
            continue
        with warnings.catch_warnings():
            # nbgrader's gradebook code trips SQLAlchemy 2's "not in session" warning; the grades are stored.
            warnings.simplefilter("ignore", SAWarning)
            graded = api.autograde(assignment, student, force=True, create=True)
        if not graded["success"]:
            last = (graded.get("error") or graded.get("log") or "").strip().splitlines()
            result.problems.append(f"nbgrader could not grade it: {last[-1] if last else 'no message'}")
            continue
        with Gradebook(api.coursedir.db_url, COURSE_ID) as gb:
            _read_result(gb, out, assignment, result, time_limit, cells)
    write_tables(results, cells, out, assignment)
    return results


def _score(part: Part | None) -> str:
    if part is None:
        return "-"
    if part.score is None:
        return "by hand"
    return f"{part.score:g}"


def write_tables(results: list[StudentResult], header: list[tuple[str, float, bool]], out: Path,
                 assignment: str) -> None:
    """``grades.csv``, ``grades.md`` and ``feedback/<student>.md`` from the graded rows (``header``: :func:`graded_cells`)."""
    auto_max = sum(m for _, m, manual in header if not manual)
    columns = ["student", *[f"{gid} ({m:g}{', by hand' if manual else ''})" for gid, m, manual in header],
               f"auto total ({auto_max:g})", "status"]
    rows = []
    for result in results:
        parts = {p.grade_id: p for p in result.parts}
        total = f"{result.auto_score:g}" if result.parts else "0"
        rows.append([result.student, *[_score(parts.get(gid)) for gid, _, _ in header], total, result.status])
    with open(out / "grades.csv", "w", newline="") as file:
        csv.writer(file).writerows([columns, *rows])
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    (out / "grades.md").write_text(f"# {assignment}: grades\n\n" + "\n".join(table) + "\n")
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for result in results:
        (feedback / f"{result.student}.md").write_text(feedback_text(result, assignment, auto_max))


def feedback_text(result: StudentResult, assignment: str, auto_max: float) -> str:
    """One student's feedback: the status, then every graded part with its points and what its checks said."""
    lines = [f"# {assignment}: feedback for {result.student}", "",
             f"Automatic points: {result.auto_score:g} of {auto_max:g}. Status: {result.status}.", ""]
    for part in result.parts:
        points = "graded by hand" if part.score is None else f"{part.score:g} of {part.max_score:g}"
        lines.append(f"## {part.grade_id}: {points}")
        lines += [f"    {line}" for line in part.lines if not part.manual] or [""]
        lines.append("")
    return "\n".join(lines)
