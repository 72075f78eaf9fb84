"""Imports flow one way, checked as an allow list for every package and root module.

    cli ─┐
    app ─┼─> scim, api, admin ─> service ─> storage ─> model ─> errors
         └─> events ──────────────┘ (beside service)

``config``, ``errors`` and ``model`` are leaves every layer may use. The HTTP
layers (``scim``, ``api``, ``admin``) and ``observability`` hold the
``Database`` handle to pass it to services, and reach nothing else in storage.
A new package, or a new root module, fails here until it is given its allow
list: that is the point of listing what is allowed rather than what is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "scimgate"

_LEAVES = {"scimgate.errors", "scimgate.config", "scimgate.model"}
_HANDLE = {"scimgate.storage.database"}

# part of scimgate -> the parts of scimgate it may import (a name allows its submodules)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": set(),
    "model": {"scimgate.errors"},
    "storage": {"scimgate.errors", "scimgate.model"},
    "service": _LEAVES | {"scimgate.storage"},
    "events": _LEAVES | {"scimgate.service", "scimgate.storage"},
    "observability": _LEAVES | {"scimgate.service"} | _HANDLE,
    "scim": _LEAVES | {"scimgate.service", "scimgate.observability"} | _HANDLE,
    "api": _LEAVES | {"scimgate.service"} | _HANDLE,
    "admin": _LEAVES | {"scimgate.service"} | _HANDLE,
    # Single sign-on's browser routes: an HTTP layer beside admin.
    "sso": _LEAVES | {"scimgate.service"} | _HANDLE,
    "app": _LEAVES
    | {"scimgate.scim", "scimgate.api", "scimgate.admin", "scimgate.events", "scimgate.sso"}
    | {"scimgate.observability", "scimgate.service"}
    | _HANDLE,
    "cli": _LEAVES
    | {"scimgate.app", "scimgate.service", "scimgate.events", "scimgate.observability"}
    | _HANDLE
    # Migrations are run from the command line; the CLI prints the host API's shapes.
    | {"scimgate.storage.migrate", "scimgate.api.models"},
    "__main__": {"scimgate.cli"},
    "__init__": set(),
}

# Frameworks each part may not import: the database toolkit stays in storage, the
# web frameworks stay in the HTTP layers.
FORBIDDEN_LIBRARIES: dict[str, set[str]] = {
    "model": {"sqlalchemy", "starlette", "fastapi", "click"},
    "storage": {"starlette", "fastapi", "click"},
    "service": {"sqlalchemy", "starlette", "fastapi", "click"},
    "events": {"sqlalchemy", "starlette", "fastapi", "click"},
    "scim": {"sqlalchemy", "fastapi", "click"},
    "api": {"sqlalchemy", "click"},
    "admin": {"sqlalchemy", "fastapi", "click"},
    "sso": {"sqlalchemy", "fastapi", "click"},
    "cli": {"sqlalchemy"},
}


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "scimgate":
                names.update(f"scimgate.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return names


def _allowed(name: str, allowed: set[str]) -> bool:
    return any(name == ok or name.startswith(ok + ".") for ok in allowed)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_a_part_imports_only_what_it_is_allowed(part: str) -> None:
    offences = []
    files = [path for path in _modules() if _part(path) == part]
    assert files, f"no modules found for {part}"
    for path in files:
        for name in _imports(path):
            if not name.startswith("scimgate"):
                continue
            if _part_of_name(name) == part:
                continue
            if not _allowed(name, ALLOWED[part]):
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []


@pytest.mark.parametrize("part", sorted(FORBIDDEN_LIBRARIES))
def test_a_part_keeps_out_the_frameworks_of_other_layers(part: str) -> None:
    offences = []
    for path in (p for p in _modules() if _part(p) == part):
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN_LIBRARIES[part]:
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []


def test_every_part_of_the_package_has_an_allow_list() -> None:
    parts = {_part(path) for path in _modules()} - {"py.typed"}
    assert parts - set(ALLOWED) == set()


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The walker sees ``from scimgate.scim ... import`` inside a service module."""
    module = tmp_path / "bad.py"
    module.write_text("from scimgate.scim.routes import routes\nimport scimgate.api\n")
    found = {name for name in _imports(module) if name.startswith("scimgate")}
    assert {"scimgate.scim.routes", "scimgate.api"} <= found
    assert not any(_allowed(name, ALLOWED["service"]) for name in found)


def _part_of_name(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package imported when ``path`` is imported (not in functions or
    ``TYPE_CHECKING`` blocks): the edges an import cycle is made of."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)

    visit(ast.parse(path.read_text()).body)
    return found & modules


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                walk(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    return cycles


def test_no_module_imports_itself_back() -> None:
    paths = {_module_name(path): path for path in _modules()}
    graph = {name: _import_time_imports(path, set(paths)) - {name} for name, path in paths.items()}
    assert [" -> ".join(cycle) for cycle in import_cycles(graph)] == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
