"""Where webhooks may be sent: public addresses only, unless the operator says otherwise.

A tenant admin chooses a webhook's URL, and scimgate then POSTs to it from
inside the operator's network (server-side request forgery). So a host that
is, or resolves to, a loopback, private, carrier-grade NAT, link-local (cloud
metadata at 169.254.169.254), unique-local, multicast, unspecified or reserved
address is refused, and so are ``localhost`` names. IPv6 forms that carry an
IPv4 address (``::ffff:10.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``)
are judged by the IPv4 address inside.

The rule is applied when a webhook is created (every address the name
resolves to) and again when a delivery connects (``scimgate.events.delivery``
checks the addresses it is about to connect to), so a name that resolves to a
public address at creation and to an internal one later (DNS rebinding)
still reaches nothing internal.

``SCIMGATE_WEBHOOK_ALLOW_PRIVATE`` turns the rule off;
``SCIMGATE_WEBHOOK_ALLOWED_CIDRS`` lets chosen networks through.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from scimgate.config import Settings
from scimgate.errors import InvalidValue

__all__ = [
    "EgressPolicy",
    "HostRefused",
    "Resolve",
    "forbidden_kind",
    "parse_networks",
]

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
# socket.getaddrinfo's shape, so a test can answer for DNS.
Resolve = Callable[..., Sequence[tuple[Any, ...]]]

_CGNAT = IPv4Network("100.64.0.0/10")
_NAT64 = IPv6Network("64:ff9b::/96")
_SETTINGS_HINT = (
    "set SCIMGATE_WEBHOOK_ALLOW_PRIVATE=1 or SCIMGATE_WEBHOOK_ALLOWED_CIDRS"
    " for an internal receiver"
)


class HostRefused(InvalidValue):
    """The webhook host is, or resolves to, an address webhooks may not reach."""

    default_detail = "The webhook host is not a public address"


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def forbidden_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is (``"a private address"``), or None if public."""
    if isinstance(address, IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return forbidden_kind(inner)
    # The order picks the most telling name: 127.0.0.1 is also "private".
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (isinstance(address, IPv4Address) and address in _CGNAT, "a carrier-grade NAT address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "a non-public address"),
    )
    for matched, kind in checks:
        if matched:
            return kind
    return None


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (``10.1.0.0/16, fd00::/8``); a bare address is a /32 or /128."""
    found: list[Network] = []
    for item in text.split(","):
        item = item.strip()
        if item:
            found.append(ip_network(item, strict=False))
    return tuple(found)


def _is_local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which addresses webhooks may reach, and how names are resolved."""

    allow_private: bool = False
    allowed_networks: tuple[Network, ...] = ()
    resolve: Resolve = field(default=socket.getaddrinfo, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls(
            allow_private=settings.webhook_allow_private,
            allowed_networks=parse_networks(settings.webhook_allowed_cidrs),
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or None if it may."""
        if self.allow_private:
            return None
        candidates = [address]
        if isinstance(address, IPv6Address) and (inner := _embedded_ipv4(address)) is not None:
            candidates.append(inner)
        for network in self.allowed_networks:
            if any(candidate in network for candidate in candidates):
                return None
        return forbidden_kind(address)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to, each one checked; raises HostRefused.

        Every address must pass, not just the first: the connection may use any
        of them. ``socket.gaierror`` (the name does not resolve) is the caller's.
        """
        if _is_local_name(host) and not self.allow_private:
            raise HostRefused(f"webhook host {host} is a local name; {_SETTINGS_HINT}")
        try:
            found, where = [ip_address(host)], "is"
        except ValueError:
            infos = self.resolve(host, port, type=socket.SOCK_STREAM)
            found = [ip_address(str(info[4][0]).split("%")[0]) for info in infos]
            where = "resolves to"
        if not found:
            raise socket.gaierror(f"{host} has no address")
        for address in found:
            kind = self.refusal(address)
            if kind is not None:
                raise HostRefused(f"webhook host {host} {where} {kind} {address}; {_SETTINGS_HINT}")
        return [str(address) for address in found]

    def check_host(self, host: str, port: int) -> None:
        """Refuse a webhook host at creation: not public, or not resolvable (InvalidValue)."""
        if self.allow_private:
            return  # nothing would be refused, so there is no need to ask DNS
        try:
            self.addresses(host, port)
        except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a label IDNA refuses
            raise InvalidValue(f"webhook host {host} does not resolve: {exc}") from exc
