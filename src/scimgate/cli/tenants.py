"""``scimgate tenant``: the customer companies scimgate serves."""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import tenants as tenant_service


def _tenant_json(tenant: Tenant, settings: Settings) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "createdAt": iso(tenant.created_at),
        "disabled": tenant.disabled,
        "scimBaseUrl": settings.scim_base_url(tenant.slug),
    }


@click.group()
def tenant() -> None:
    """Tenants (customer companies)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@json_option
def tenant_create(slug: str, name: str | None, as_json: bool) -> None:
    """Create a tenant with the URL-safe SLUG."""
    settings = current_settings()
    with database(settings) as db:
        created = tenant_service.create_tenant(db, slug, name)
    if as_json:
        emit_json(_tenant_json(created, settings))
    else:
        click.echo(f"created tenant {created.slug}: {settings.scim_base_url(created.slug)}")


@tenant.command("list")
@json_option
def tenant_list(as_json: bool) -> None:
    """List tenants."""
    settings = current_settings()
    with database(settings) as db:
        found = tenant_service.list_tenants(db)
    if as_json:
        emit_json([_tenant_json(t, settings) for t in found])
        return
    for t in found:
        state = "disabled" if t.disabled else "active"
        click.echo(f"{t.slug}\t{state}\t{t.name}\t{settings.scim_base_url(t.slug)}")


@tenant.command("disable")
@click.argument("slug")
def tenant_disable(slug: str) -> None:
    """Disable a tenant: its SCIM tokens stop working at once."""
    with database(current_settings()) as db:
        tenant_service.set_tenant_disabled(db, slug, True)
    click.echo(f"tenant {slug} disabled")


@tenant.command("enable")
@click.argument("slug")
def tenant_enable(slug: str) -> None:
    """Enable a disabled tenant again."""
    with database(current_settings()) as db:
        tenant_service.set_tenant_disabled(db, slug, False)
    click.echo(f"tenant {slug} enabled")
