"""``scimgate user``: users as the host app sees them; ``--json`` prints the host API's User."""

from __future__ import annotations

import click

from scimgate.api.models import UserOut
from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, json_option
from scimgate.service import app_view
from scimgate.service.tenants import get_tenant


@click.group()
def user() -> None:
    """Users as the host app sees them."""


@user.command("list")
@click.argument("slug")
@click.option("--active/--inactive", default=None, help="Only enabled (or disabled) users.")
@click.option("--role", "role_key", help="Only users holding this role.")
@click.option("--updated-since", help="ISO-8601; only users changed at or after it.")
@json_option
def user_list(
    slug: str,
    active: bool | None,
    role_key: str | None,
    updated_since: str | None,
    as_json: bool,
) -> None:
    """Every (not deleted) user of tenant SLUG, in the host API's shape."""
    found: list[UserOut] = []
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug)
        since = app_view.parse_timestamp(updated_since) if updated_since else None
        cursor: str | None = None
        while True:
            page = app_view.list_users(
                db,
                tenant,
                cursor=cursor,
                limit=app_view.MAX_PAGE,
                active=active,
                role=role_key,
                updated_since=since,
            )
            found += [UserOut.of(u) for u in page.items]
            if page.next is None:
                break
            cursor = page.next
    if as_json:
        emit_json([u.as_json() for u in found])
        return
    for u in found:
        state = "active" if u.active else f"inactive ({u.deactivation_reason})"
        click.echo(f"{u.id}\t{u.user_name}\t{state}\t{','.join(u.roles) or '-'}")
