"""The ``scimgate`` command line. Its JSON shapes are a contract other tools rely on."""

from __future__ import annotations

import os
from typing import Any

import click

from scimgate.cli_support import (
    current_settings,
    database,
    emit_json,
    fail,
    iso,
    load_settings,
)
from scimgate.config import InsecureSettings, Settings
from scimgate.model.entities import ScimToken, Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.storage.migrate import upgrade


def _tenant_json(tenant: Tenant, settings: Settings) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "created_at": iso(tenant.created_at),
        "disabled": tenant.disabled,
        "scim_base_url": settings.scim_base_url(tenant.slug),
    }


def _token_json(token: ScimToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """scimgate: multi-tenant SCIM 2.0 provisioning service."""
    ctx.obj = load_settings()


# -- serving ---------------------------------------------------------------


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from scimgate.app import create_app
    from scimgate.observability import configure_logging, shared_metrics

    try:
        settings.check_secret_key()
    except InsecureSettings as exc:
        fail(str(exc))
    configure_logging(settings.log_level)
    common: dict[str, Any] = {
        "log_config": None,  # JSON lines from observability.configure_logging instead
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "proxy_headers": True,
        "server_header": False,
        "timeout_keep_alive": 75,
    }
    with shared_metrics(workers):
        if workers > 1:
            # Each worker process builds its own app from the same environment.
            uvicorn.run(
                "scimgate.app:app_from_environment", factory=True, workers=workers, **common
            )
        else:
            uvicorn.run(create_app(settings), **common)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--with-worker", is_flag=True, help="Also deliver webhooks (SCIMGATE_RUN_WORKER=1).")
def serve(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Serve the SCIM endpoints and the health checks."""
    settings = current_settings()
    if with_worker:
        settings = settings.model_copy(update={"run_worker": True})
        # Processes started by --workers N read their settings from the environment.
        os.environ["SCIMGATE_RUN_WORKER"] = "1"
    _serve(settings, host, port, workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Migrate, ensure tenant `demo`, print its SCIM URL and a new token, serve (dev mode)."""
    settings = current_settings().model_copy(update={"dev_mode": True})
    upgrade(settings.database_url)
    with database(settings) as db:
        tenant = tenant_service.ensure_tenant(db, "demo", "Demo Company")
        issued = token_service.create_token(db, tenant.slug, "Demo token")
    click.echo("scimgate demo (dev mode: do not expose this to a network)")
    click.echo(f"  SCIM base URL: {settings.scim_base_url(tenant.slug)}")
    click.echo(f"  Bearer token:  {issued.secret}")
    click.echo("  (the token is shown once; `scimgate token create demo` makes another)")
    _serve(settings, host, port, 1)


# -- database ----------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade(current_settings().database_url)
    click.echo("database is up to date")


# -- tenants -------------------------------------------------------------------


@main.group()
def tenant() -> None:
    """Tenants (customer companies)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tenant_create(slug: str, name: str | None, as_json: bool) -> None:
    """Create a tenant with the URL-safe SLUG."""
    settings = current_settings()
    with database(settings) as dbase:
        created = tenant_service.create_tenant(dbase, slug, name)
    if as_json:
        emit_json(_tenant_json(created, settings))
    else:
        click.echo(f"created tenant {created.slug}: {settings.scim_base_url(created.slug)}")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tenant_list(as_json: bool) -> None:
    """List tenants."""
    settings = current_settings()
    with database(settings) as dbase:
        found = tenant_service.list_tenants(dbase)
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
    with database(current_settings()) as dbase:
        tenant_service.set_tenant_disabled(dbase, slug, True)
    click.echo(f"tenant {slug} disabled")


@tenant.command("enable")
@click.argument("slug")
def tenant_enable(slug: str) -> None:
    """Enable a disabled tenant again."""
    with database(current_settings()) as dbase:
        tenant_service.set_tenant_disabled(dbase, slug, False)
    click.echo(f"tenant {slug} enabled")


# -- tokens --------------------------------------------------------------------


@main.group()
def token() -> None:
    """SCIM bearer tokens."""


@token.command("create")
@click.argument("slug")
@click.option("--name", help='A name such as "Okta SCIM".')
@click.option("--expires-in-days", type=int, help="Expire after N days (default: never).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_create(slug: str, name: str | None, expires_in_days: int | None, as_json: bool) -> None:
    """Create a token for tenant SLUG. The secret is printed once and never stored."""
    settings = current_settings()
    with database(settings) as dbase:
        issued = token_service.create_token(dbase, slug, name, expires_in_days)
    if as_json:
        emit_json(
            {
                "id": issued.token.id,
                "name": issued.token.name,
                "prefix": issued.token.prefix,
                "token": issued.secret,
                "scim_base_url": settings.scim_base_url(slug),
                "created_at": iso(issued.token.created_at),
                "expires_at": iso(issued.token.expires_at),
            }
        )
        return
    click.echo(f"token {issued.token.id} ({issued.token.name}) for {slug}")
    click.echo(f"  SCIM base URL: {settings.scim_base_url(slug)}")
    click.echo(f"  Bearer token:  {issued.secret}")
    click.echo("  Copy it now: it cannot be shown again.")


@token.command("list")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_list(slug: str, as_json: bool) -> None:
    """List tenant SLUG's tokens (never their secrets)."""
    with database(current_settings()) as dbase:
        found = token_service.list_tokens(dbase, slug)
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
    with database(current_settings()) as dbase:
        token_service.revoke_token(dbase, slug, token_id)
    click.echo(f"token {token_id} revoked")


# Command groups defined in their own modules register themselves here.
def _register_extensions() -> None:
    from scimgate import cli_extensions

    for command in cli_extensions.COMMANDS:
        main.add_command(command)


_register_extensions()
