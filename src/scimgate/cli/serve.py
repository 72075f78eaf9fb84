"""``scimgate serve`` and ``scimgate demo``: run the HTTP server."""

from __future__ import annotations

import os
from typing import Any

import click

from scimgate.cli._context import current_settings, database, fail
from scimgate.config import InsecureSettings, Settings
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.storage.migrate import upgrade


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
        "limit_concurrency": settings.limit_concurrency or None,
    }
    with shared_metrics(workers):
        if workers > 1:
            # Each worker process builds its own app from the same environment.
            uvicorn.run(
                "scimgate.app:app_from_environment", factory=True, workers=workers, **common
            )
        else:
            uvicorn.run(create_app(settings), **common)


@click.command()
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


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Migrate, ensure tenant `demo`, print its SCIM URL and a new token, serve (dev mode)."""
    settings = current_settings().model_copy(update={"dev_mode": True})
    upgrade(settings.database_url)
    with database(settings) as db:
        tenant = tenant_service.ensure_tenant(db, "demo", "Demo Company")
        issued = token_service.create_token(db, tenant, "Demo token")
    click.echo("scimgate demo (dev mode: do not expose this to a network)")
    click.echo(f"  SCIM base URL: {settings.scim_base_url(tenant.slug)}")
    click.echo(f"  Bearer token:  {issued.secret}")
    click.echo("  (the token is shown once; `scimgate token create demo` makes another)")
    _serve(settings, host, port, 1)
