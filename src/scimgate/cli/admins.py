"""``scimgate admin``: accounts for the admin console (/admin)."""

from __future__ import annotations

import click

from scimgate.cli._context import current_settings, database
from scimgate.service import admins as admin_service
from scimgate.service.tenants import get_tenant


@click.group()
def admin() -> None:
    """Admin console accounts (/admin)."""


@admin.command("create")
@click.argument("email")
@click.option("--tenant", "slug", help="Limit the account to this tenant (default: operator).")
@click.password_option(help="Prompted for when not given.")
def admin_create(email: str, slug: str | None, password: str) -> None:
    """Create a console login; operators (no --tenant) see every tenant."""
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug) if slug else None
        account = admin_service.create_admin(db, email, password, tenant)
    scope = f"tenant {slug}" if slug else "every tenant (operator)"
    click.echo(f"created admin {account.email} for {scope}")
