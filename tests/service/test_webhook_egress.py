"""Webhook hosts must be public: every non-public range is refused when a webhook is added."""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import ip_address, ip_network

import pytest
from pydantic import ValidationError

from scimgate.config import Settings
from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.egress import EgressPolicy, HostRefused, forbidden_kind
from scimgate.storage.database import Database
from tests.egress import PUBLIC_ADDRESS, FakeDns
from tests.keyring import WEBHOOK_KEYRING

# Names a test resolves; every other name fails to resolve.
DNS = {
    "rebind.test": ["10.0.0.5"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": [PUBLIC_ADDRESS, "192.168.0.10"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "public.test": [PUBLIC_ADDRESS, "2606:4700::1"],
}
# A default policy whose DNS answers from the table above.
STRICT = EgressPolicy(resolve=FakeDns(DNS))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hooks", "is a loopback address 127.0.0.1"),
        ("http://127.1.2.3:8080/hooks", "a loopback address"),
        ("http://[::1]/hooks", "is a loopback address ::1"),
        ("http://0.0.0.0/hooks", "an unspecified address"),
        ("http://[::]/hooks", "an unspecified address"),
        ("http://10.0.0.5/hooks", "a private address 10.0.0.5"),
        ("http://172.16.0.1/hooks", "a private address"),
        ("http://172.31.255.254/hooks", "a private address"),
        ("http://192.168.1.1/hooks", "a private address"),
        ("http://100.64.0.1/hooks", "a carrier-grade NAT address"),
        ("http://100.127.255.254/hooks", "a carrier-grade NAT address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://169.254.1.1/hooks", "a link-local address"),
        ("http://[fe80::1]/hooks", "a link-local address"),
        ("http://[fc00::1]/hooks", "a private address"),
        ("http://[fd12:3456::1]/hooks", "a private address"),
        ("http://224.0.0.1/hooks", "a multicast address"),
        ("http://[ff02::1]/hooks", "a multicast address"),
        ("http://240.0.0.1/hooks", "a reserved address"),
        ("http://255.255.255.255/hooks", "a reserved address"),
        ("http://198.18.0.1/hooks", "a private address"),  # benchmarking, not global
        ("http://[::ffff:127.0.0.1]/hooks", "a loopback address"),
        ("http://[::ffff:10.0.0.5]/hooks", "a private address"),
        ("http://[::ffff:169.254.169.254]/hooks", "a link-local address"),
        ("http://[64:ff9b::a00:5]/hooks", "a private address"),  # NAT64 of 10.0.0.5
        ("http://[2002:7f00:1::1]/hooks", "a loopback address"),  # 6to4 of 127.0.0.1
        ("http://localhost:8000/hooks", "a local name"),
        ("http://LOCALHOST./hooks", "a local name"),
        ("https://app.localhost/hooks", "a local name"),
        ("https://rebind.test/hooks", "rebind.test resolves to a private address 10.0.0.5"),
        ("https://metadata.test/hooks", "resolves to a link-local address 169.254.169.254"),
        ("https://mixed.test/hooks", "resolves to a private address 192.168.0.10"),
        ("https://mapped.test/hooks", "resolves to a loopback address"),
        ("https://nowhere.test/hooks", "does not resolve"),
    ],
)
def test_a_host_that_is_not_public_is_refused_when_the_webhook_is_added(
    db: Database, make_tenant: Callable[..., Tenant], url: str, reason: str
) -> None:
    acme = make_tenant("acme")
    with pytest.raises(InvalidValue, match=re.escape(reason)):
        webhook_service.create_webhook(db, acme, url, keyring=WEBHOOK_KEYRING, egress=STRICT)
    assert webhook_service.list_webhooks(db, acme) == []


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001"])
def test_numeric_spellings_of_loopback_are_refused_by_what_they_resolve_to(host: str) -> None:
    """The system resolver reads these as 127.0.0.1 without asking DNS."""
    with pytest.raises(HostRefused, match=re.escape("resolves to a loopback address 127.0.0.1")):
        EgressPolicy().check_host(host, 80)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC_ADDRESS}/hooks",
        "https://[2606:4700::1]:8443/hooks",
        f"https://[::ffff:{PUBLIC_ADDRESS}]/hooks",
        "https://[64:ff9b::5db8:d822]/hooks",  # NAT64 of the public address
        "https://public.test/hooks",
    ],
)
def test_a_public_host_is_accepted(
    db: Database, make_tenant: Callable[..., Tenant], url: str
) -> None:
    acme = make_tenant("acme")
    created = webhook_service.create_webhook(db, acme, url, keyring=WEBHOOK_KEYRING, egress=STRICT)
    assert created.webhook.url == url


def test_a_name_the_resolver_cannot_encode_is_refused_as_unresolvable() -> None:
    with pytest.raises(InvalidValue, match="does not resolve"):
        EgressPolicy().check_host("a" * 70 + ".test", 443)


def test_a_literal_address_is_not_looked_up() -> None:
    dns = FakeDns({})
    EgressPolicy(resolve=dns).check_host(PUBLIC_ADDRESS, 443)
    assert dns.asked == []


def test_allow_private_lets_every_host_through_without_resolving_it(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    dns = FakeDns({})
    policy = EgressPolicy(allow_private=True, resolve=dns)
    for url in ("http://10.0.0.5/hooks", "http://localhost:9000/hooks", "http://unknown.test/"):
        webhook_service.create_webhook(
            db, make_tenant(), url, keyring=WEBHOOK_KEYRING, egress=policy
        )
    assert dns.asked == []


def test_allowed_networks_let_only_their_addresses_through(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    policy = EgressPolicy(allowed_networks=(ip_network("10.0.0.0/8"),), resolve=FakeDns(DNS))
    acme = make_tenant("acme")
    for url in ("http://10.1.2.3/", "http://[::ffff:10.0.0.5]/", "https://rebind.test/"):
        webhook_service.create_webhook(db, acme, url, keyring=WEBHOOK_KEYRING, egress=policy)
    for url in ("http://192.168.1.1/", "http://127.0.0.1/", "https://metadata.test/"):
        with pytest.raises(HostRefused):
            webhook_service.create_webhook(db, acme, url, keyring=WEBHOOK_KEYRING, egress=policy)
    assert len(webhook_service.list_webhooks(db, acme)) == 3


def test_the_default_policy_refuses_loopback() -> None:
    """A service caller that passes no policy gets the strict one."""
    assert EgressPolicy().refusal(ip_address("127.0.0.1")) == "a loopback address"
    assert forbidden_kind(ip_address(PUBLIC_ADDRESS)) is None


def test_the_settings_build_the_policy() -> None:
    settings = Settings(
        webhook_allowed_cidrs="10.20.0.0/16, fd12:3456::/48,192.0.2.7",
        _env_file=None,  # type: ignore[call-arg]
    )
    policy = EgressPolicy.from_settings(settings)
    assert not policy.allow_private
    assert policy.allowed_networks == (
        ip_network("10.20.0.0/16"),
        ip_network("fd12:3456::/48"),
        ip_network("192.0.2.7/32"),
    )
    assert EgressPolicy.from_settings(Settings(_env_file=None)) == EgressPolicy()  # type: ignore[call-arg]
    allowing = Settings(webhook_allow_private=True, _env_file=None)  # type: ignore[call-arg]
    assert EgressPolicy.from_settings(allowing).allow_private


def test_a_malformed_network_in_the_settings_is_refused() -> None:
    with pytest.raises(ValidationError, match=re.escape("10.0.0.0/33")):
        Settings(webhook_allowed_cidrs="10.0.0.0/33", _env_file=None)  # type: ignore[call-arg]
