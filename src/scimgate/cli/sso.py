"""``scimgate sso``: a tenant's single sign-on connections and its SP values.

With ``--json`` the connection commands print the host API's SsoConnection
objects (``config`` holds the protocol settings as stored, so its keys are
the protocol's, e.g. ``idp_entity_id``).
"""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from scimgate.api.models import SpValues, SsoConnectionOut
from scimgate.cli._context import current_settings, database, fail
from scimgate.cli._output import emit_json, json_option
from scimgate.model.sso import MATCH_MODES, PROTOCOLS, Connection
from scimgate.service import sso
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring
from scimgate.service.tenants import get_tenant


@click.group("sso")
def sso_group() -> None:
    """Single sign-on: connections to SAML and OIDC IdPs, and the SP values."""


@sso_group.group("connections")
def connections() -> None:
    """A tenant's SSO connections."""


def _print(connection: Connection, slug: str, as_json: bool) -> None:
    if as_json:
        urls = sso.sp_urls(current_settings(), slug)
        emit_json(SsoConnectionOut.of(connection, urls).as_json())
        return
    state = "enabled" if connection.enabled else "disabled"
    jit = "jit" if connection.jit else "no-jit"
    click.echo(
        f"{connection.id}\t{connection.name}\t{connection.protocol}\t{state}\t{jit}"
        f"\tmatch-by={connection.match_by}"
    )


def _config(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        fail(f"--config is not JSON: {exc}")
    if not isinstance(value, dict):
        fail("--config must be a JSON object")
    return value


def _secret(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    secret = sys.stdin.readline().strip()
    if not secret:
        fail("no client secret on standard input")
    return secret


def _changes(**options: Any) -> dict[str, Any]:
    """The options given on the command line (click leaves the others None)."""
    return {name: value for name, value in options.items() if value is not None}


_COMMON = [
    click.option("--jit/--no-jit", default=None, help="Create unknown users at sign-in."),
    click.option(
        "--jit-requires-scim/--jit-allows-unprovisioned",
        "jit_requires_scim",
        default=None,
        help="Refuse people SCIM has not provisioned, even with --jit.",
    ),
    click.option("--match-by", type=click.Choice(MATCH_MODES), help="How users are matched."),
    click.option(
        "--idp-initiated/--no-idp-initiated",
        "allow_idp_initiated",
        default=None,
        help="Accept sign-ins the IdP starts.",
    ),
    click.option(
        "--groups-to-roles/--no-groups-to-roles",
        default=None,
        help="Feed the IdP's group values to the role mappings.",
    ),
    click.option("--enabled/--disabled", default=None, help="Turn the connection on or off."),
    click.option("--config", "config_json", help="Protocol settings as a JSON object."),
    click.option(
        "--client-secret-stdin",
        is_flag=True,
        help="Read the OIDC client secret from standard input (never from the command line).",
    ),
    json_option,
]


def _common(command: Any) -> Any:
    for option in reversed(_COMMON):
        command = option(command)
    return command


@connections.command("list")
@click.argument("slug")
@json_option
def connections_list(slug: str, as_json: bool) -> None:
    with database(current_settings()) as db:
        found = sso.list_connections(db, get_tenant(db, slug))
    if as_json:
        urls = sso.sp_urls(current_settings(), slug)
        emit_json([SsoConnectionOut.of(c, urls).as_json() for c in found])
        return
    for connection in found:
        _print(connection, slug, False)


@connections.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Unique in the tenant.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), required=True)
@_common
def connections_create(
    slug: str,
    name: str,
    protocol: str,
    config_json: str | None,
    client_secret_stdin: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Add a connection to tenant SLUG."""
    settings = current_settings()
    fields = _changes(name=name, protocol=protocol, config=_config(config_json), **flags)
    with database(settings) as db:
        connection = sso.create_connection(
            db,
            get_tenant(db, slug),
            fields,
            client_secret=_secret(client_secret_stdin),
            keyring=Keyring.from_settings(settings, SSO_CLIENT_SECRET),
            settings=settings,
        )
    _print(connection, slug, as_json)


@connections.command("update")
@click.argument("slug")
@click.argument("connection_id", type=int)
@click.option("--name", help="A new name.")
@_common
def connections_update(
    slug: str,
    connection_id: int,
    name: str | None,
    config_json: str | None,
    client_secret_stdin: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Change connection CONNECTION_ID of tenant SLUG (only the options given)."""
    settings = current_settings()
    changes = _changes(name=name, config=_config(config_json), **flags)
    with database(settings) as db:
        connection = sso.update_connection(
            db,
            get_tenant(db, slug),
            connection_id,
            changes,
            client_secret=_secret(client_secret_stdin),
            keyring=Keyring.from_settings(settings, SSO_CLIENT_SECRET),
            settings=settings,
        )
    _print(connection, slug, as_json)


@connections.command("delete")
@click.argument("slug")
@click.argument("connection_id", type=int)
def connections_delete(slug: str, connection_id: int) -> None:
    """Remove connection CONNECTION_ID of tenant SLUG."""
    with database(current_settings()) as db:
        sso.delete_connection(db, get_tenant(db, slug), connection_id)
    click.echo(f"connection {connection_id} removed from {slug}")


@sso_group.command("sp-metadata")
@click.argument("slug")
@click.option("--rotate", is_flag=True, help="Make a new SP key pair first (the old cert stays).")
@json_option
def sp_metadata(slug: str, rotate: bool, as_json: bool) -> None:
    """The values an IdP needs for tenant SLUG: entity id, ACS URL, callback, certificate."""
    settings = current_settings()
    keyring = Keyring.from_settings(settings, SSO_SP_KEY)
    with database(settings) as db:
        tenant = get_tenant(db, slug)
        keys = (sso.rotate_sp_keys if rotate else sso.sp_keys)(db, tenant, keyring)
    values = SpValues.of(sso.sp_urls(settings, slug)).as_json()
    if as_json:
        emit_json(
            {**values, "certificate": keys.cert_pem, "previousCertificate": keys.previous_cert_pem}
        )
        return
    for key, value in values.items():
        click.echo(f"{key}\t{value}")
    click.echo(keys.cert_pem.rstrip())
    if keys.previous_cert_pem:
        click.echo("previous certificate (still published during the rotation):")
        click.echo(keys.previous_cert_pem.rstrip())


@sso_group.command("rotate-sp-keys")
@click.argument("slug")
@click.option(
    "--finish",
    is_flag=True,
    help="End the rotation: stop publishing the previous certificate.",
)
@json_option
def rotate_sp_keys(slug: str, finish: bool, as_json: bool) -> None:
    """Give tenant SLUG a new SP key pair; both certificates stay in the SP metadata until
    `--finish`, once every IdP has fetched the new metadata."""
    settings = current_settings()
    keyring = Keyring.from_settings(settings, SSO_SP_KEY)
    with database(settings) as db:
        tenant = get_tenant(db, slug)
        keys = (sso.finish_rotation if finish else sso.rotate_sp_keys)(db, tenant, keyring)
    if as_json:
        emit_json(
            {
                "certificate": keys.cert_pem,
                "previousCertificate": keys.previous_cert_pem,
                "rotating": keys.previous_cert_pem is not None,
            }
        )
        return
    if finish:
        click.echo(f"rotation finished: only the current certificate is published for {slug}")
    else:
        click.echo(f"rotation started for {slug}: both certificates are in the SP metadata")
        click.echo(f"run `scimgate sso rotate-sp-keys {slug} --finish` once every IdP has it")
    click.echo(keys.cert_pem.rstrip())
