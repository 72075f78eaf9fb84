"""``scimgate webhook``: where a host app receives signed events, and what was sent there.

A webhook belongs to a tenant (``SLUG``) or, with ``--global``, receives every
tenant's events; commands that name a webhook then take just its id
(``webhook remove --global WEBHOOK_ID``).
"""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database, fail
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.egress import EgressPolicy
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring
from scimgate.service.tenants import get_tenant
from scimgate.service.webhooks import Delivery, Webhook
from scimgate.storage.database import Database

_GLOBAL = click.option(
    "--global", "is_global", is_flag=True, help="A global webhook (every tenant's events)."
)


def _webhook_json(webhook: Webhook, slug: str | None) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "tenant": slug,
        "url": webhook.url,
        "eventTypes": list(webhook.event_types),
        "enabled": webhook.enabled,
        "createdAt": iso(webhook.created_at),
        "cursorSeq": webhook.cursor_seq,
        "attempts": webhook.attempts,
        "nextAttemptAt": iso(webhook.next_attempt_at),
        "lastError": webhook.last_error,
    }


def _delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhookId": delivery.webhook_id,
        "eventId": delivery.event_id,
        "eventSeq": delivery.event_seq,
        "eventType": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "updatedAt": iso(delivery.updated_at),
    }


def _scope(
    args: tuple[str, ...], is_global: bool, names: tuple[str, ...]
) -> tuple[str | None, list[str]]:
    """``SLUG NAME...`` or, with --global, ``NAME...``: the slug (None if global), the rest."""
    wanted = len(names) + (0 if is_global else 1)
    if len(args) != wanted:
        usage = "".join(f" {name}" for name in names)
        fail(f"expected SLUG{usage}, or --global{usage}")
    return (None, list(args)) if is_global else (args[0], list(args[1:]))


def _tenant(db: Database, slug: str | None) -> Tenant | None:
    """The tenant called ``slug``, or None for the global scope."""
    return get_tenant(db, slug) if slug is not None else None


@click.group()
def webhook() -> None:
    """Webhooks: where the host app receives signed events."""


@webhook.command("add")
@click.argument("slug", required=False)
@click.option("--url", required=True, help="Where to POST events (http:// or https://).")
@click.option("--events", "event_types", help="Comma-separated event types (default: all).")
@_GLOBAL
@json_option
def webhook_add(
    slug: str | None, url: str, event_types: str | None, is_global: bool, as_json: bool
) -> None:
    """Add a webhook to tenant SLUG (or --global). Its secret is printed once."""
    scope, _ = _scope((slug,) if slug else (), is_global, ())
    settings = current_settings()
    keyring = Keyring.from_settings(settings, WEBHOOK_SECRET)
    with database(settings) as db:
        created = webhook_service.create_webhook(
            db,
            _tenant(db, scope),
            url,
            event_types,
            keyring=keyring,
            egress=EgressPolicy.from_settings(settings),
        )
    if as_json:
        emit_json({**_webhook_json(created.webhook, scope), "secret": created.secret})
        return
    types = ", ".join(created.webhook.event_types) or "every event type"
    click.echo(f"webhook {created.webhook.id} for {scope or 'every tenant'}: {url} ({types})")
    click.echo(f"  Signing secret: {created.secret}")
    click.echo("  Copy it now: it cannot be shown again.")


@webhook.command("list")
@click.argument("slug", required=False)
@_GLOBAL
@json_option
def webhook_list(slug: str | None, is_global: bool, as_json: bool) -> None:
    """List tenant SLUG's webhooks (or the --global ones), never their secrets."""
    scope, _ = _scope((slug,) if slug else (), is_global, ())
    with database(current_settings()) as db:
        found = webhook_service.list_webhooks(db, _tenant(db, scope))
    if as_json:
        emit_json([_webhook_json(w, scope) for w in found])
        return
    for w in found:
        state = "enabled" if w.enabled else "disabled"
        if w.attempts:
            state = f"retrying ({w.attempts} failed: {w.last_error})"
        types = ",".join(w.event_types) or "*"
        click.echo(f"{w.id}\t{w.url}\t{types}\t{state}")


@webhook.command("remove")
@click.argument("args", nargs=-1, metavar="[SLUG] WEBHOOK_ID")
@_GLOBAL
def webhook_remove(args: tuple[str, ...], is_global: bool) -> None:
    """Remove a webhook; events not yet delivered to it are dropped for it."""
    scope, (webhook_id,) = _scope(args, is_global, ("WEBHOOK_ID",))
    with database(current_settings()) as db:
        webhook_service.remove_webhook(db, _tenant(db, scope), webhook_id)
    click.echo(f"webhook {webhook_id} removed")


@webhook.command("deliveries")
@click.argument("args", nargs=-1, metavar="[SLUG] WEBHOOK_ID")
@click.option(
    "--status", type=click.Choice(["delivered", "failed", "pending"]), help="Only this status."
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@_GLOBAL
@json_option
def webhook_deliveries(
    args: tuple[str, ...], status: str | None, limit: int, is_global: bool, as_json: bool
) -> None:
    """A webhook's delivery records, newest first."""
    scope, (webhook_id,) = _scope(args, is_global, ("WEBHOOK_ID",))
    with database(current_settings()) as db:
        found = webhook_service.list_deliveries(
            db, _tenant(db, scope), webhook_id, status=status, limit=limit
        )
    if as_json:
        emit_json([_delivery_json(d) for d in found])
        return
    for d in found:
        outcome = d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else "")
        click.echo(
            f"{d.id}\t{d.status}\t{d.event_type}\t{d.event_id}\t"
            f"{d.attempts} attempt(s)\t{outcome}\t{iso(d.updated_at)}"
        )


@webhook.command("redeliver")
@click.argument("args", nargs=-1, metavar="[SLUG] WEBHOOK_ID EVENT_ID")
@_GLOBAL
@json_option
def webhook_redeliver(args: tuple[str, ...], is_global: bool, as_json: bool) -> None:
    """Queue an event to be sent to the webhook again (the worker sends it)."""
    scope, (webhook_id, event_id) = _scope(args, is_global, ("WEBHOOK_ID", "EVENT_ID"))
    with database(current_settings()) as db:
        queued = webhook_service.redeliver(db, _tenant(db, scope), webhook_id, event_id)
    if as_json:
        emit_json(_delivery_json(queued))
        return
    click.echo(f"event {event_id} queued for redelivery to webhook {webhook_id} ({queued.id})")
