"""Egress policies for tests, and a DNS that answers from a table.

Tests reach only their own receiver on 127.0.0.1, so they let exactly that
address through rather than turn the rule off. ``FakeDns`` stands in for
``socket.getaddrinfo`` at the edge of the world: names resolve to whatever
a test says, and nothing is looked up for real.
"""

from __future__ import annotations

import socket
from ipaddress import ip_address, ip_network
from typing import Any

from scimgate.service.egress import EgressPolicy

LOOPBACK = EgressPolicy(allowed_networks=(ip_network("127.0.0.1/32"),))
# example.com's long-standing address: public, and never connected to.
PUBLIC_ADDRESS = "93.184.216.34"


class FakeDns:
    """``socket.getaddrinfo`` over a table of name -> addresses; an unknown name fails."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        found: list[tuple[Any, ...]] = []
        for address in self.table[host]:
            if ip_address(address).version == 6:
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return found


def public_dns(*names: str) -> EgressPolicy:
    """The default policy, with ``names`` resolving to a public address."""
    return EgressPolicy(resolve=FakeDns({name: [PUBLIC_ADDRESS] for name in names}))
