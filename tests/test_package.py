"""The package's shape: a small sorted public API, no private imports across modules, no cycles, short modules."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import coursekit as ck

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "coursekit"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")  # __main__ runs the CLI


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_public_api_is_sorted_and_complete():
    assert ck.__all__ == sorted(ck.__all__)
    for name in ck.__all__:
        assert hasattr(ck, name), name
    # Every function and class on the package is listed; submodules are namespaces, imported on the way.
    public = {name for name, value in vars(ck).items() if not name.startswith("_") and not inspect.ismodule(value)}
    assert public <= set(ck.__all__)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_every_module_imports_on_its_own(path):
    importlib.import_module(module_name(path))


def imports(path: Path):
    """(module it imports from, names) for every `from X import ...` in the file, X made absolute."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + (node.module.split(".") if node.module else []))
            yield source, [alias.name for alias in node.names]


FILES = SOURCES + sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_another_modules_private_names(path):
    for source, names in imports(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.relative_to(ROOT)} imports {private} from {source}"


def test_no_import_cycles_between_modules():
    modules = {module_name(p): p for p in SOURCES}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for source, names in imports(path):
            submodules = [f"{source}.{n}" for n in names if f"{source}.{n}" in modules]
            targets.update(submodules or ([source] if source in modules else []))
        # A module sees its own package's __init__ on the way in: not a dependency of its own.
        graph[name] = {t for t in targets if t != name and not (name.startswith(t + ".") or t == "coursekit")}

    def visit(node, path):
        assert node not in path, "import cycle: " + " -> ".join(path[path.index(node):] + [node])
        for target in graph.get(node, ()):
            visit(target, path + [node])

    for name in graph:
        visit(name, [])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_module_grows_past_about_500_lines(path):
    assert len(path.read_text().splitlines()) <= 520
