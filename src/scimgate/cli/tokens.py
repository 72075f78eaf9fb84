"""``scimgate token``: the bearer tokens an IdP presents to the SCIM endpoints."""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.model.entities import ScimToken
from scimgate.service import tokens as token_service
from scimgate.service.tenants import get_tenant


def _token_json(token: ScimToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "createdAt": iso(token.created_at),
        "lastUsedAt": iso(token.last_used_at),
        "expiresAt": iso(token.expires_at),
        "revokedAt": iso(token.revoked_at),
    }


@click.group()
def token() -> None:
    """SCIM bearer tokens."""


@token.command("create")
@click.argument("slug")
@click.option("--name", help='A name such as "Okta SCIM".')
@click.option("--expires-in-days", type=int, help="Expire after N days (default: never).")
@json_option
def token_create(slug: str, name: str | None, expires_in_days: int | None, as_json: bool) -> None:
    """Create a token for tenant SLUG. The secret is printed once and never stored."""
    settings = current_settings()
    with database(settings) as db:
        issued = token_service.create_token(db, get_tenant(db, slug), name, expires_in_days)
    if as_json:
        emit_json(
            {
                "id": issued.token.id,
                "name": issued.token.name,
                "prefix": issued.token.prefix,
                "token": issued.secret,
                "scimBaseUrl": settings.scim_base_url(slug),
                "createdAt": iso(issued.token.created_at),
                "expiresAt": iso(issued.token.expires_at),
            }
        )
        return
    click.echo(f"token {issued.token.id} ({issued.token.name}) for {slug}")
    click.echo(f"  SCIM base URL: {settings.scim_base_url(slug)}")
    click.echo(f"  Bearer token:  {issued.secret}")
    click.echo("  Copy it now: it cannot be shown again.")


@token.command("list")
@click.argument("slug")
@json_option
def token_list(slug: str, as_json: bool) -> None:
    """List tenant SLUG's tokens (never their secrets)."""
    with database(current_settings()) as db:
        found = token_service.list_tokens(db, get_tenant(db, slug))
    if as_json:
        emit_json([_token_json(t) for t in found])
        return
    for t in found:
        state = "revoked" if t.revoked_at else "active"
        click.echo(f"{t.id}\t{t.prefix}…\t{state}\t{t.name}\tlast used {iso(t.last_used_at)}")


@token.command("revoke")
@click.argument("slug")
@click.argument("token_id")
def token_revoke(slug: str, token_id: str) -> None:
    """Revoke a token: the next request with it is refused."""
    with database(current_settings()) as db:
        token_service.revoke_token(db, get_tenant(db, slug), token_id)
    click.echo(f"token {token_id} revoked")
