"""A SAML connection's IdP side, read from the IdP's metadata: an upload or its URL.

The metadata gives the IdP's entity id, its redirect SSO URL and its signing
certificates; they are stored in the connection's ``config`` (with each
certificate's expiry date, which the console warns about) so that a sign-in
never waits on the IdP's web server. ``refresh_idp_metadata`` fetches
``idp_metadata_url`` again: on demand, when a connection has a URL but no IdP
values yet, and whenever the operator asks; ``refresh_due`` is the worker's
schedule (at most ``limit`` connections a pass, each at most every
``SCIMGATE_SSO_METADATA_REFRESH_HOURS``). A failed fetch keeps the last good
IdP values and records why in ``idp_metadata_error``, which the API, the
console and the doctor show; the next good fetch clears it.

The URL is the tenant admin's to choose and is fetched from inside the
operator's network, so the fetch follows the egress rule webhooks follow
(``service.egress``: public addresses only unless the operator allows more)
through ``CheckedTransport``, so a name re-pointed at a private address after
the check is not connected to, does not follow redirects and stops reading
past ``MAX_METADATA_BYTES``.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import httpx

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import Connection
from scimgate.service import saml, sso
from scimgate.service.clock import utcnow
from scimgate.service.egress import EgressPolicy, HostRefused
from scimgate.service.egress_transport import CheckedTransport
from scimgate.service.sso_config import config_from_metadata
from scimgate.storage.database import Database

__all__ = [
    "MAX_METADATA_BYTES",
    "apply_idp_metadata",
    "config_from_metadata",
    "fetch_idp_metadata",
    "needs_metadata",
    "refresh_due",
    "refresh_idp_metadata",
]

logger = logging.getLogger("scimgate.sso")

# Federation-wide metadata can be large; one IdP's entity is a few kilobytes.
MAX_METADATA_BYTES = 1024 * 1024


def fetch_idp_metadata(
    url: str,
    egress: EgressPolicy,
    *,
    entity_id: str | None = None,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> saml.IdpMetadata:
    """GET the metadata at ``url`` within the egress rule and read it."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SsoRejected("metadata", f"the IdP metadata URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # The metadata carries the certificate every sign-in is verified with.
        raise SsoRejected(
            "metadata",
            f"the IdP metadata URL {url} must be an https URL: over plain http anyone on "
            "the way could replace the IdP's signing certificate",
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        egress.addresses(parts.hostname, port)
    except HostRefused as exc:
        raise SsoRejected("metadata", f"the IdP metadata URL is refused: {exc.detail}") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise SsoRejected(
            "metadata", f"the IdP metadata host {parts.hostname} does not resolve"
        ) from exc
    try:
        body = _get(url, timeout, transport or CheckedTransport(egress, keepalive=0))
    except HostRefused as exc:  # the name now resolves somewhere it may not go
        raise SsoRejected("metadata", f"the IdP metadata URL is refused: {exc.detail}") from exc
    except httpx.HTTPError as exc:
        raise SsoRejected(
            "metadata", f"the IdP metadata could not be fetched from {url}: {exc}"
        ) from exc
    return saml.parse_idp_metadata(body, entity_id=entity_id)


def _is_loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _get(url: str, timeout: float, transport: httpx.BaseTransport) -> bytes:
    with (
        httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as client,
        client.stream(
            "GET", url, headers={"Accept": "application/samlmetadata+xml, */*"}
        ) as response,
    ):
        if response.status_code != 200:
            raise SsoRejected(
                "metadata", f"the IdP metadata URL {url} answered HTTP {response.status_code}"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_METADATA_BYTES:
                raise SsoRejected(
                    "metadata",
                    f"the IdP metadata at {url} is larger than {MAX_METADATA_BYTES} bytes",
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _updated(
    db: Database, tenant: Tenant, connection: Connection, values: Mapping[str, Any]
) -> Connection:
    return sso.update_connection(
        db, tenant, connection.id, {"config": {**connection.config, **values}}
    )


def apply_idp_metadata(
    db: Database, tenant: Tenant, connection: Connection, xml: str | bytes
) -> Connection:
    """Store the IdP values of an uploaded metadata document in the connection."""
    metadata = saml.parse_idp_metadata(xml)
    return _updated(db, tenant, connection, config_from_metadata(metadata))


def refresh_idp_metadata(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    settings: Settings,
    *,
    egress: EgressPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Connection:
    """Fetch the connection's ``idp_metadata_url`` and store what it says.

    A failure is recorded on the connection (``idp_metadata_error``), the last
    good IdP values stay, and the ``SsoRejected`` is raised again.
    """
    return _refresh(
        db,
        tenant,
        connection,
        egress or EgressPolicy.from_settings(settings),
        settings.webhook_timeout_seconds,
        transport,
    )


def _refresh(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    egress: EgressPolicy,
    timeout: float,
    transport: httpx.BaseTransport | None,
) -> Connection:
    url = connection.config.get("idp_metadata_url")
    if not isinstance(url, str) or not url.strip():
        raise SsoRejected("metadata", f"the connection {connection.name!r} has no IdP metadata URL")
    now = utcnow()
    try:
        metadata = fetch_idp_metadata(url.strip(), egress, timeout=timeout, transport=transport)
    except SsoRejected as exc:
        failed = {"idp_metadata_checked_at": now.isoformat(), "idp_metadata_error": exc.detail}
        _updated(db, tenant, connection, failed)
        raise
    values = {
        **config_from_metadata(metadata, fetched_at=now),
        "idp_metadata_checked_at": now.isoformat(),
    }
    config = {k: v for k, v in connection.config.items() if k != "idp_metadata_error"}
    return sso.update_connection(db, tenant, connection.id, {"config": {**config, **values}})


def _last_checked(connection: Connection) -> datetime | None:
    raw = connection.config.get("idp_metadata_checked_at") or connection.config.get(
        "idp_metadata_fetched_at"
    )
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _due(db: Database, now: datetime, every: timedelta) -> list[tuple[Tenant, Connection]]:
    """Every SAML connection with a metadata URL not checked within ``every``, oldest first."""
    with db.directory() as directory:
        tenants = directory.list_tenants()
    due: list[tuple[datetime | None, Tenant, Connection]] = []
    for tenant in tenants:
        for connection in sso.list_connections(db, tenant):
            if connection.protocol != "saml" or not connection.config.get("idp_metadata_url"):
                continue
            checked = _last_checked(connection)
            if checked is None or checked <= now - every:
                due.append((checked, tenant, connection))
    due.sort(key=lambda item: (item[0] is not None, item[0] or now))
    return [(tenant, connection) for _, tenant, connection in due]


def refresh_due(
    db: Database,
    now: datetime,
    *,
    every: timedelta,
    limit: int,
    egress: EgressPolicy,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> tuple[int, int]:
    """Refresh at most ``limit`` connections whose metadata is older than ``every``.

    Returns (refreshed, failed). A failure never stops the pass.
    """
    refreshed = failed = 0
    for tenant, connection in _due(db, now, every)[: max(limit, 0)]:
        try:
            _refresh(db, tenant, connection, egress, timeout, transport)
            refreshed += 1
        except SsoRejected as exc:
            failed += 1
            logger.warning(
                "IdP metadata of connection %s of tenant %s: %s",
                connection.id,
                tenant.slug,
                exc.detail,
            )
    return refreshed, failed


def needs_metadata(connection: Connection) -> bool:
    """A connection given only a metadata URL, not fetched yet."""
    config = connection.config
    return bool(config.get("idp_metadata_url")) and not (
        config.get("idp_entity_id") and config.get("idp_certificates")
    )
