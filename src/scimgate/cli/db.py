"""``scimgate db``: the database schema and its health."""

from __future__ import annotations

import sys

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, json_option
from scimgate.service.database_check import DatabaseCheck, check_database
from scimgate.storage.migrate import upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade(current_settings().database_url)
    click.echo("database is up to date")


@db.command("check")
@json_option
def db_check(as_json: bool) -> None:
    """Schema version, integrity and counts per tenant; exit 1 when a check fails."""
    with database(current_settings()) as handle:
        found = check_database(handle)
    if as_json:
        emit_json(_shape(found))
    else:
        _print(found)
    if not found.ok:
        sys.exit(1)


def _shape(found: DatabaseCheck) -> dict[str, object]:
    return {
        "ok": found.ok,
        "schema": {
            "current": found.current_revision,
            "head": found.head_revision,
            "upgradeDue": found.upgrade_due,
        },
        "problems": found.problems,
        "tenants": [
            {
                "slug": counts.slug,
                "users": counts.users,
                "groups": counts.groups,
                "liveTokens": counts.live_tokens,
                "events": counts.events,
                "webhooks": counts.webhooks,
            }
            for counts in found.tenants
        ],
        "globalWebhooks": found.global_webhooks,
    }


_ROW = "{:<24} {:>8} {:>8} {:>7} {:>9} {:>9}"


_ROW = "{:<24} {:>8} {:>8} {:>7} {:>9} {:>9}"


def _print(found: DatabaseCheck) -> None:
    current = found.current_revision or "none (never migrated)"
    if found.upgrade_due:
        click.echo(f"schema: {current}, head is {found.head_revision}: run `scimgate db upgrade`")
    else:
        click.echo(f"schema: {current} (head)")
    click.echo(
        f"integrity: {len(found.problems)} problem(s)" if found.problems else "integrity: ok"
    )
    for problem in found.problems:
        click.echo(f"  {problem}")
    click.echo(_ROW.format("tenant", "users", "groups", "tokens", "events", "webhooks"))
    for c in found.tenants:
        click.echo(_ROW.format(c.slug, c.users, c.groups, c.live_tokens, c.events, c.webhooks))
    click.echo(f"global webhooks: {found.global_webhooks}")
