"""The ``scimgate`` command line. Its JSON shapes are a contract other tools rely on."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson
from pydantic import ValidationError

from scimgate.config import InsecureSettings, Settings
from scimgate.errors import ScimgateError
from scimgate.model.entities import ScimToken, Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade

F = TypeVar("F", bound=Callable[..., Any])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _emit_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    db = Database.from_url(settings.database_url, pool_size=2)
    try:
        yield db
    except ScimgateError as exc:
        _fail(exc.detail)
    finally:
        db.dispose()


def _tenant_json(tenant: Tenant, settings: Settings) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "created_at": _iso(tenant.created_at),
        "disabled": tenant.disabled,
        "scim_base_url": settings.scim_base_url(tenant.slug),
    }


def _token_json(token: ScimToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": _iso(token.created_at),
        "last_used_at": _iso(token.last_used_at),
        "expires_at": _iso(token.expires_at),
        "revoked_at": _iso(token.revoked_at),
    }


def _load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")
        raise  # unreachable: _fail exits


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """scimgate: multi-tenant SCIM 2.0 provisioning service."""
    ctx.obj = _load_settings()


def _settings() -> Settings:
    settings = click.get_current_context().obj
    assert isinstance(settings, Settings)
    return settings


# -- serving ---------------------------------------------------------------


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from scimgate.app import create_app

    try:
        settings.check_secret_key()
    except InsecureSettings as exc:
        _fail(str(exc))
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "proxy_headers": True,
        "server_header": False,
        "timeout_keep_alive": 75,
    }
    if workers > 1:
        # Each worker process builds its own app from the same environment.
        uvicorn.run("scimgate.app:app_from_environment", factory=True, workers=workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the SCIM endpoints and the health checks."""
    _serve(_settings(), host, port, workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Migrate, ensure tenant `demo`, print its SCIM URL and a new token, serve (dev mode)."""
    settings = _settings().model_copy(update={"dev_mode": True})
    upgrade(settings.database_url)
    with _database(settings) as db:
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
    upgrade(_settings().database_url)
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
    settings = _settings()
    with _database(settings) as dbase:
        created = tenant_service.create_tenant(dbase, slug, name)
    if as_json:
        _emit_json(_tenant_json(created, settings))
    else:
        click.echo(f"created tenant {created.slug}: {settings.scim_base_url(created.slug)}")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tenant_list(as_json: bool) -> None:
    """List tenants."""
    settings = _settings()
    with _database(settings) as dbase:
        found = tenant_service.list_tenants(dbase)
    if as_json:
        _emit_json([_tenant_json(t, settings) for t in found])
        return
    for t in found:
        state = "disabled" if t.disabled else "active"
        click.echo(f"{t.slug}\t{state}\t{t.name}\t{settings.scim_base_url(t.slug)}")


@tenant.command("disable")
@click.argument("slug")
def tenant_disable(slug: str) -> None:
    """Disable a tenant: its SCIM tokens stop working at once."""
    with _database(_settings()) as dbase:
        tenant_service.set_tenant_disabled(dbase, slug, True)
    click.echo(f"tenant {slug} disabled")


@tenant.command("enable")
@click.argument("slug")
def tenant_enable(slug: str) -> None:
    """Enable a disabled tenant again."""
    with _database(_settings()) as dbase:
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
    settings = _settings()
    with _database(settings) as dbase:
        issued = token_service.create_token(dbase, slug, name, expires_in_days)
    if as_json:
        _emit_json(
            {
                "id": issued.token.id,
                "name": issued.token.name,
                "prefix": issued.token.prefix,
                "token": issued.secret,
                "scim_base_url": settings.scim_base_url(slug),
                "created_at": _iso(issued.token.created_at),
                "expires_at": _iso(issued.token.expires_at),
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
    with _database(_settings()) as dbase:
        found = token_service.list_tokens(dbase, slug)
    if as_json:
        _emit_json([_token_json(t) for t in found])
        return
    for t in found:
        state = "revoked" if t.revoked_at else "active"
        click.echo(f"{t.id}\t{t.prefix}…\t{state}\t{t.name}\tlast used {_iso(t.last_used_at)}")


@token.command("revoke")
@click.argument("slug")
@click.argument("token_id")
def token_revoke(slug: str, token_id: str) -> None:
    """Revoke a token: the next request with it is refused."""
    with _database(_settings()) as dbase:
        token_service.revoke_token(dbase, slug, token_id)
    click.echo(f"token {token_id} revoked")
