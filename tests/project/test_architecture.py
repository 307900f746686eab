"""The layering of panns_core, written down as import-linter contracts (pyproject.toml) and kept true.

Every import runs down: cli -> features (archive, own_labels) -> inference/training -> evaluation/weights
-> models -> audio/labels -> the base (config, errors, device). docs/architecture.md draws it.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "panns_core"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` in `root` (its pyproject.toml, its panns_core), no cache left behind."""
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_contracts_hold_on_the_real_package():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_planted_upward_import_breaks_the_layers_contract(tmp_path):
    """models sits below inference: a model importing the Tagger must fail the suite, naming the contract."""
    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "panns_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    base = copy / "panns_core" / "models" / "base.py"
    base.write_text(base.read_text() + "\n\ndef _upward():\n    import panns_core.inference.tagger  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "panns_core imports run one way" in result.stdout and "BROKEN" in result.stdout
    assert "panns_core.models.base -> panns_core.inference.tagger" in result.stdout


def test_at_most_seven_layers_each_with_a_real_folder():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    assert len(layers) <= 7
    named = {m.strip().removeprefix("panns_core.") for layer in layers for m in layer.replace(":", "|").split("|")}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert folders | modules == named  # a new folder or module must be given its place in the layers


@pytest.mark.parametrize("folder", sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()))
def test_each_folder_says_in_one_line_what_it_is_for(folder):
    doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
    assert doc and "\n" not in doc.strip() and len(doc) > 20, f"panns_core/{folder}/__init__.py: {doc!r}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict:
    """{module: modules of panns_core it imports}, from the source: imports inside functions and under
    TYPE_CHECKING count too (a reader meets them all the same)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:  # `from pkg import module` imports the module
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def find_circle(graph: dict) -> list | None:
    """One circle of the graph (a list of nodes, first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (circle := visit(node)):
            return circle
    return None


def folder_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_circles_between_modules_or_folders():
    graph = import_graph()
    assert "panns_core.weights.sources" in graph["panns_core.weights.checkpoints"]  # the graph sees real imports
    assert find_circle(graph) is None, " -> ".join(find_circle(graph))
    folders = {}
    for module, targets in graph.items():
        if module != "panns_core":  # the lazy public surface names everything, and nothing imports it
            folders.setdefault(folder_of(module), set()).update(folder_of(t) for t in targets)
    for folder, targets in folders.items():
        targets.discard(folder)
    circle = find_circle(folders)
    assert circle is None, " -> ".join(circle)


def test_the_circle_finder_finds_a_lazy_circle():
    """The finder itself: a lazy import back up (as `weights.catalogue` once did to `checkpoints`) is a circle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circle(graph) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None
