"""The code's layout as docs/architecture.md §2 describes it: which folder may import which,
and no import cycles, at module level or inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "digilocker_gateway"
PREFIX = "digilocker_gateway."
# The composition root may import everything.
ROOT = {"app", "cli", "runtime", "runtime_build", "jobs", "devclient", "__main__", "__init__"}
_DOMAINS = {
    "config",
    "db",
    "errors",
    "error_mapping",
    "identity",
    "kit",
    "runtime",
    "storage",
    "tenants",
    # The quota check of the routes each kind of call counts against (docs/operations.md §3).
    "ops.quota_deps",
}
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "errors": set(),
    "error_mapping": {"errors", "upstream.errors"},
    "kit": {"errors", "db"},
    "db": {"config", "requests.status"},
    "upstream": {"kit"},
    "storage": {"db", "kit", "runtime"},
    "tenants": {"db", "errors", "kit", "storage", "runtime"},
    "audit": {"config", "db", "errors", "kit", "runtime", "storage", "tenants"},
    "webhooks": {"audit", "config", "db", "errors", "kit", "runtime", "storage", "tenants"},
    "requests": _DOMAINS | {"upstream", "audit", "webhooks"},
    "identity": set(),
    "documents": _DOMAINS | {"upstream", "requests", "aadhaar", "audit", "webhooks"},
    "aadhaar": _DOMAINS | {"upstream", "requests", "audit", "webhooks"},
    "simulator": {"kit"},
    # The SDK imports nothing else of ours: it must install without the server (docs/sdk.md).
    "client": set(),
    "demo": {"client", "config", "kit", "tenants", "runtime"},
    "accounts": _DOMAINS | {"upstream", "requests"},
    "ops": {"config", "db", "errors", "kit", "requests.status", "runtime", "tenants", "upstream"},
}
# The one module that wires the simulator into the gateway (simulator/embedded.py).
EXCEPTIONS = {"simulator.embedded": {"config", "upstream.in_process"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """Every module of the package `path` imports, wherever the import is, except under
    `if TYPE_CHECKING:` (annotations only)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            found.add(node.module.removeprefix(PREFIX))
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.removeprefix(PREFIX)
                for alias in node.names
                if alias.name.startswith(PREFIX)
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def within(target: str, allowed: set[str]) -> bool:
    return any(target == rule or target.startswith(rule + ".") for rule in allowed)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_module_imports_only_what_its_folder_may(module: str) -> None:
    folder = module.split(".")[0]
    if folder in ROOT:
        return
    assert folder in ALLOWED, f"{folder}/ is not described in docs/architecture.md §2"
    allowed = ALLOWED[folder] | EXCEPTIONS.get(module, set())
    outside = {
        target
        for target in GRAPH[module]
        if target.split(".")[0] != folder and not within(target, allowed)
    }
    assert outside == set(), f"{module} imports {sorted(outside)}"


def test_there_are_no_import_cycles() -> None:
    modules = set(GRAPH)
    edges = {
        module: {target for target in targets if target in modules and target != module}
        for module, targets in GRAPH.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def walk(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " -> ".join(
            [*visiting[visiting.index(module) :], module]
        )
        visiting.append(module)
        for target in sorted(edges[module]):
            walk(target)
        visiting.pop()
        done.add(module)

    for module in sorted(modules):
        walk(module)
