"""Command groups that live outside cli.py, each in a module of its own.

A module adds its click group to COMMANDS; ``scimgate.cli`` registers them all.
"""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []

# Each import below appends its groups to COMMANDS (so it must come after it).
from scimgate import (  # noqa: E402
    cli_admin,  # noqa: F401
    cli_host,  # noqa: F401
    cli_webhooks,  # noqa: F401
)
