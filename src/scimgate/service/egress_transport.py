"""An httpx transport that connects only where the egress rule allows.

Webhook deliveries and the OIDC relying party's calls to an IdP both reach
URLs a tenant admin chose. The name is resolved once per connection, every
address it resolves to is checked against ``EgressPolicy``, and the socket is
opened to a checked address. The URL, the ``Host`` header and TLS (SNI and the
certificate check against the name) stay as they are, so a name re-pointed at
an internal address after it was checked (DNS rebinding) is refused rather
than reached. A refused host raises ``HostRefused``; a name that does not
resolve, ``httpcore.ConnectError`` (httpx's ``ConnectError``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import httpcore
import httpx

from scimgate.service.egress import EgressPolicy

__all__ = ["CheckedBackend", "CheckedTransport"]


class CheckedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the egress policy allows."""

    def __init__(self, egress: EgressPolicy) -> None:
        self._egress = egress
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._egress.allow_private:
            return self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = self._egress.addresses(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # addresses is never empty
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound connections go over TCP only")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting through ``CheckedBackend``."""

    def __init__(self, egress: EgressPolicy, *, keepalive: int = 20) -> None:
        super().__init__()
        # httpx takes no network backend, but its connection pool does; the
        # pool is rebuilt with httpx's defaults plus the checking backend.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=keepalive)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(egress),
        )
