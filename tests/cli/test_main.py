"""The ``main`` group: every command registered once, and no module importing it back."""

from __future__ import annotations

import ast
from pathlib import Path

import scimgate.cli
from scimgate.cli import main

PACKAGE = Path(scimgate.cli.__file__).parent


def test_main_holds_every_command() -> None:
    assert sorted(main.commands) == [
        "admin",
        "apikey",
        "db",
        "demo",
        "role",
        "role-mapping",
        "secrets",
        "serve",
        "settings",
        "sso",
        "status",
        "tenant",
        "token",
        "user",
        "webhook",
        "worker",
    ]


def test_no_command_module_imports_the_package_that_registers_it() -> None:
    """Only __init__ registers commands, so nothing imports scimgate.cli itself back."""
    offences = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if "scimgate.cli" in names:
                offences.append(path.name)
    assert offences == []
