"""``scimgate db``: the database schema."""

from __future__ import annotations

import click

from scimgate.cli._context import current_settings
from scimgate.storage.migrate import upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade(current_settings().database_url)
    click.echo("database is up to date")
