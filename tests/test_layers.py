"""Imports flow one way: scim (HTTP) -> service -> storage; model is shared and pure."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "scimgate"

# layer -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "model": (
        "scimgate.scim",
        "scimgate.service",
        "scimgate.storage",
        "scimgate.app",
        "scimgate.cli",
        "starlette",
        "sqlalchemy",
    ),
    "storage": (
        "scimgate.scim",
        "scimgate.api",
        "scimgate.service",
        "scimgate.events",
        "scimgate.app",
        "scimgate.cli",
        "starlette",
    ),
    "service": (
        "scimgate.scim",
        "scimgate.api",
        "scimgate.events",
        "scimgate.app",
        "scimgate.cli",
        "starlette",
        "sqlalchemy",
    ),
    # Webhook delivery sits beside service: it may use service, storage and model.
    "events": (
        "scimgate.scim",
        "scimgate.api",
        "scimgate.admin",
        "scimgate.app",
        "scimgate.cli",
        "starlette",
        "sqlalchemy",
    ),
    # The HTTP layer may hold the Database handle (to pass to services), nothing deeper.
    "scim": (
        "scimgate.cli",
        "sqlalchemy",
        "scimgate.storage.tables",
        "scimgate.storage.repository",
        "scimgate.storage.directory",
        "scimgate.storage.engine",
        "scimgate.storage.filters",
    ),
    # The host API, like scim, reaches storage only through the Database handle and services.
    "api": (
        "scimgate.scim",
        "scimgate.cli",
        "scimgate.app",
        "sqlalchemy",
        "scimgate.storage.tables",
        "scimgate.storage.repository",
        "scimgate.storage.directory",
        "scimgate.storage.engine",
        "scimgate.storage.filters",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    offences = []
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no modules found in {layer}"
    for path in files:
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []
