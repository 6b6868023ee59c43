"""coursekit doctor: versions against the declared minimum and the newest tested, device and data."""

import pytest

from coursekit import doctor
from coursekit.cli import main
from coursekit.doctor import Check


def test_the_minimums_come_from_the_package_metadata():
    minimums = doctor.requirements()
    assert minimums["torch"] == "2.4" and minimums["matplotlib"] == "3.9" and minimums["numpy"] == "1.24"
    assert "pytest" not in minimums  # extras are not the package's own requirements


@pytest.mark.parametrize("installed, status", [
    ("2.4.0", "ok"), ("2.14.1+cu130", "ok"), ("2.3.1", "too old"), ("2.15.0", "newer than tested"), (None, "missing"),
])
def test_a_version_against_its_range(installed, status):
    check = Check("torch", installed, "2.4", "2.14.1")
    assert check.status == status
    assert check.line().endswith(status)


def test_python_is_checked_like_a_package():
    python = doctor.checks()[0]
    assert python.name == "python" and python.minimum == "3.10" and python.status in ("ok", "newer than tested")


def test_the_report_says_what_and_exits_by_the_minimums(capsys, monkeypatch):
    assert main(["doctor"]) == 0  # this environment is within the declared minimums
    out = capsys.readouterr().out
    for name in ("python", "torch", "torchvision", "numpy", "matplotlib", "device:", "data:", "coursekit profile"):
        assert name in out
    monkeypatch.setattr(doctor, "requirements", lambda: {"torch": "99.0"})
    assert main(["doctor"]) == 1
    assert "problem: torch (too old)" in capsys.readouterr().out
