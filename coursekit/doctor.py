"""``coursekit doctor``: is this environment one the course is tested on?

It lists Python and every package coursekit depends on, with the version
installed, the oldest version coursekit declares (read from its own package
metadata, so it cannot drift from ``pyproject.toml``) and the newest version
the project's CI has run; then the device, the data and the profile. A version
below the declared minimum is a problem (exit status 1); one newer than the
newest tested is only a note: it usually works, and if it does not, that is
worth a report.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

# The newest versions CI ran the whole suite with, and the newest Python of the CI matrix. Raise them when
# CI passes with newer ones; an installed version above them only earns a note.
NEWEST_TESTED = {
    "python": "3.13",
    "torch": "2.14.1",
    "torchvision": "0.29.1",
    "numpy": "2.4.6",
    "matplotlib": "3.11.2",
    "tqdm": "4.70.1",
    "torchinfo": "1.8.0",
    "packaging": "26.4",
}


@dataclass(frozen=True)
class Check:
    """One line of the report: what, which version, the tested range, and the verdict."""

    name: str
    installed: str | None
    minimum: str | None
    newest_tested: str | None

    @property
    def status(self) -> str:
        if self.installed is None:
            return "missing"
        if self.minimum is not None and Version(self.installed) < Version(self.minimum):
            return "too old"
        if self.newest_tested is not None and _release(self.installed) > _release(self.newest_tested):
            return "newer than tested"
        return "ok"

    def line(self) -> str:
        tested = f"{self.minimum or '?'} to {self.newest_tested or '?'}"
        return f"{self.name:<12} {self.installed or '-':<16} tested {tested:<18} {self.status}"


def _release(version: str) -> tuple[int, ...]:
    """``2.14.1+cu130`` -> ``(2, 14, 1)``; ``3.13`` and ``3.13.0`` compare alike."""
    release = list(Version(version).release)
    return tuple(release + [0] * (3 - len(release)))


def requirements() -> dict[str, str | None]:
    """Each dependency of coursekit (extras left out) and the oldest version it declares."""
    minimums: dict[str, str | None] = {}
    try:
        declared = metadata.requires("coursekit") or []
    except metadata.PackageNotFoundError:
        raise RuntimeError("coursekit is not installed as a package, so its requirements are unknown: run "
                           "pip install -e \".[course]\" in the repository's root.") from None
    for text in declared:
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        lower = [s.version for s in requirement.specifier if s.operator in (">=", "==", "~=")]
        minimums[requirement.name] = min(lower, key=Version) if lower else None
    return minimums


def checks() -> list[Check]:
    """Python first, then every dependency."""
    python_min = metadata.metadata("coursekit").get("Requires-Python", "").replace(">=", "").strip() or None
    python = platform.python_version()
    rows = [Check("python", python, python_min, NEWEST_TESTED["python"])]
    for name, minimum in requirements().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        rows.append(Check(name, installed, minimum, NEWEST_TESTED.get(name)))
    return rows


def report() -> tuple[str, bool]:
    """The report as text, and whether every version is at least the declared minimum."""
    import torch

    from . import allocator
    from .config import describe_profile, try_gpu
    from .data import DatasetNotFoundError, find_fashion_mnist
    from .fast_path import device_name

    rows = checks()
    lines = ["coursekit doctor: versions (installed, the range CI tests)"]
    lines += ["  " + row.line() for row in rows]
    device = try_gpu()
    lines.append(f"device:      {device} ({device_name(device)}); CUDA {'yes' if torch.cuda.is_available() else 'no'}, "
                 f"Apple MPS {'yes' if torch.backends.mps.is_available() else 'no'}")
    try:
        lines.append(f"data:        Fashion-MNIST in {find_fashion_mnist(download=False)}")
    except DatasetNotFoundError:
        lines.append("data:        Fashion-MNIST not found here; the first notebook downloads it (about 30 MB), or see "
                     "README, 'Where the data comes from'")
    lines.append(f"memory:      {allocator.describe()}")
    lines.append(describe_profile())
    ok = all(row.status in ("ok", "newer than tested") for row in rows)
    newer = [row.name for row in rows if row.status == "newer than tested"]
    if not ok:
        bad = ", ".join(f"{row.name} ({row.status})" for row in rows if row.status in ("missing", "too old"))
        lines.append(f"problem: {bad}. Reinstall with: pip install -e \".[course]\" (from the repository's root).")
    elif newer:
        lines.append(f"note: {', '.join(newer)} newer than CI has tested; it usually works, and if it does not, "
                     "please report it.")
    else:
        lines.append("everything is within the tested range.")
    return "\n".join(lines), ok


def main() -> int:
    text, ok = report()
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
