"""``scimgate setup-link``: links that walk a customer's IT admin through connecting the IdP."""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.model.entities import SetupLink
from scimgate.service import setup_links as link_service
from scimgate.service.clock import utcnow
from scimgate.service.tenants import get_tenant


def _link_json(link: SetupLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "prefix": link.prefix,
        "scopes": list(link.scopes),
        "state": link.state(utcnow()),
        "createdAt": iso(link.created_at),
        "expiresAt": iso(link.expires_at),
        "revokedAt": iso(link.revoked_at),
        "completedAt": iso(link.completed_at),
        "lastUsedAt": iso(link.last_used_at),
    }


@click.group("setup-link")
def setup_link() -> None:
    """Setup links for a tenant's IT admin (SCIM and SSO wizard)."""


@setup_link.command("create")
@click.argument("slug")
@click.option(
    "--scope",
    default="scim,sso",
    show_default=True,
    help="What the link may configure: scim, sso, or scim,sso.",
)
@click.option(
    "--expires-in-hours",
    type=int,
    default=link_service.DEFAULT_EXPIRY_HOURS,
    show_default=True,
    help=f"Expire after N hours (at most {link_service.MAX_EXPIRY_HOURS}).",
)
@json_option
def setup_link_create(slug: str, scope: str, expires_in_hours: int, as_json: bool) -> None:
    """Create a link for tenant SLUG. The URL is printed once and never stored."""
    settings = current_settings()
    with database(settings) as db:
        issued = link_service.create_link(db, get_tenant(db, slug), scope, expires_in_hours)
    url = link_service.link_url(settings.public_base, issued.secret)
    if as_json:
        emit_json({**_link_json(issued.link), "url": url})
        return
    click.echo(f"setup link {issued.link.id} ({','.join(issued.link.scopes)}) for {slug}")
    click.echo(f"  URL:     {url}")
    click.echo(f"  Expires: {iso(issued.link.expires_at)}")
    click.echo("  Send it to the IT admin now: it cannot be shown again.")


@setup_link.command("list")
@click.argument("slug")
@json_option
def setup_link_list(slug: str, as_json: bool) -> None:
    """List tenant SLUG's setup links (never their secrets)."""
    with database(current_settings()) as db:
        found = link_service.list_links(db, get_tenant(db, slug))
    if as_json:
        emit_json([_link_json(link) for link in found])
        return
    now = utcnow()
    for link in found:
        click.echo(
            f"{link.id}\t{link.prefix}…\t{link.state(now)}\t{','.join(link.scopes)}"
            f"\texpires {iso(link.expires_at)}"
        )


@setup_link.command("revoke")
@click.argument("slug")
@click.argument("link_id")
def setup_link_revoke(slug: str, link_id: str) -> None:
    """Revoke a link: opening it, and its open sessions, are refused from now on."""
    with database(current_settings()) as db:
        link_service.revoke_link(db, get_tenant(db, slug), link_id)
    click.echo(f"setup link {link_id} revoked")


@setup_link.command("uses")
@click.argument("slug")
@click.argument("link_id")
@json_option
def setup_link_uses(slug: str, link_id: str, as_json: bool) -> None:
    """Each use of a link, oldest first, with the visitor's address and User-Agent."""
    with database(current_settings()) as db:
        found = link_service.link_uses(db, get_tenant(db, slug), link_id)
    if as_json:
        emit_json(
            [
                {
                    "occurredAt": iso(u.occurred_at),
                    "action": u.action,
                    "clientIp": u.client_ip,
                    "userAgent": u.user_agent,
                }
                for u in found
            ]
        )
        return
    for u in found:
        click.echo(f"{iso(u.occurred_at)}\t{u.action}\t{u.client_ip}\t{u.user_agent}")
