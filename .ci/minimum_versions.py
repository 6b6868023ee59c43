"""Print a pip constraints file that pins every dependency of pyproject.toml to the oldest version it allows.

    python .ci/minimum_versions.py > constraints.txt
    pip install -c constraints.txt -e ".[course,test,grading]"
    python .ci/minimum_versions.py --python       # the oldest Python allowed, e.g. 3.10

The file is made from pyproject.toml each time, so the versions tested and the
versions declared cannot drift apart. Only `>=` bounds are pinned (`pkg>=1.2`
becomes `pkg==1.2`); a dependency without a lower bound is left free.
"""

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 has no tomllib; pip carries the same parser
    from pip._vendor import tomli as tomllib

EXTRAS = ("course", "test", "grading")  # what CI installs


def lower_bounds(pyproject: Path) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?", requirement)
        if match:
            name, version = match.group(1).lower(), match.group(2)
            pins[name] = max(pins.get(name, version), version, key=lambda v: [int(x) for x in re.findall(r"\d+", v)])
    return pins


if __name__ == "__main__":
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if sys.argv[1:] == ["--python"]:
        print(tomllib.loads(pyproject.read_text())["project"]["requires-python"].lstrip(">="))
    else:
        for name, version in sorted(lower_bounds(pyproject).items()):
            print(f"{name}=={version}")
