"""``scimgate apikey``: keys for the host-app API (/api)."""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.service import api_keys as key_service
from scimgate.service.api_keys import ApiKeyRow
from scimgate.service.tenants import get_tenant


def _key_json(key: ApiKeyRow) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "tenant": key.tenant_slug,
        "createdAt": iso(key.created_at),
        "lastUsedAt": iso(key.last_used_at),
        "revokedAt": iso(key.revoked_at),
    }


@click.group()
def apikey() -> None:
    """Host-app API keys (for /api)."""


@apikey.command("create")
@click.option("--tenant", "slug", help="Bind the key to this tenant (default: operator key).")
@click.option("--name", help='A name such as "Billing backend".')
@json_option
def apikey_create(slug: str | None, name: str | None, as_json: bool) -> None:
    """Create an API key. The key is printed once and never stored."""
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug) if slug is not None else None
        issued = key_service.create_api_key(db, tenant, name)
    if as_json:
        emit_json({**_key_json(issued.key), "key": issued.secret})
        return
    scope = f"tenant {slug}" if slug else "every tenant (operator key)"
    click.echo(f"API key {issued.key.id} ({issued.key.name}) for {scope}")
    click.echo(f"  Key: {issued.secret}")
    click.echo("  Copy it now: it cannot be shown again.")


@apikey.command("list")
@json_option
def apikey_list(as_json: bool) -> None:
    """List API keys (never their secrets)."""
    with database(current_settings()) as db:
        found = key_service.list_api_keys(db)
    if as_json:
        emit_json([_key_json(k) for k in found])
        return
    for k in found:
        state = "revoked" if k.revoked_at else "active"
        scope = k.tenant_slug or "*"
        click.echo(f"{k.id}\t{k.prefix}…\t{state}\t{scope}\t{k.name}")


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key: the next request with it gets 401."""
    with database(current_settings()) as db:
        key_service.revoke_api_key(db, key_id)
    click.echo(f"API key {key_id} revoked")
