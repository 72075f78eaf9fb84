"""The connection doctor's single sign-on rules, fed connections and recorded refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.service.clock import utcnow
from scimgate.service.doctor import ERROR, WARNING, Finding, diagnose
from scimgate.service.sign_in import ClientInfo
from scimgate.storage.database import Database
from tests.idps.keys import make_key_pair

BROWSER = ClientInfo(ip="203.0.113.7", user_agent="Mozilla/5.0")
EXPECTED = "https://scim.example.test/sso/acme/saml/metadata"


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme", "Acme Corp")


def _saml(
    db: Database, tenant: Tenant, name: str = "Okta", days: int = 365, **config: object
) -> sso.Connection:
    fields = {
        "name": name,
        "protocol": "saml",
        "config": {
            "idp_entity_id": "https://idp.example.test/saml",
            "idp_sso_url": "https://idp.example.test/sso",
            "idp_certificates": [make_key_pair("idp.example.test", days=days).cert_pem],
            **config,
        },
    }
    return sso.create_connection(db, tenant, fields)


def _rules(db: Database, tenant: Tenant, settings: Settings, days: float = 0) -> list[Finding]:
    found = diagnose(db, tenant, now=utcnow() + timedelta(days=days), settings=settings)
    return [f for f in found if f.rule.startswith("sso_")]


def test_a_healthy_connection_gives_no_finding(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    _saml(db, acme)
    assert _rules(db, acme, settings) == []


def test_an_idp_certificate_expiring_within_30_days_is_a_warning_then_an_error(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    _saml(db, acme, days=20)
    [soon] = _rules(db, acme, settings)
    assert (soon.rule, soon.severity) == ("sso_certificate_expiring", WARNING)
    assert "expires in 20 days" in soon.title or "expires in 21 days" in soon.title
    assert "new signing certificate" in soon.fix
    [gone] = _rules(db, acme, settings, days=25)
    assert gone.severity == ERROR
    assert "has expired" in gone.title
    assert "every sign-in through it is refused" in gone.explanation


def test_a_newer_certificate_beside_the_expiring_one_is_enough(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    old = make_key_pair("old.idp.example.test", days=10).cert_pem
    new = make_key_pair("new.idp.example.test", days=400).cert_pem
    _saml(db, acme, idp_certificates=[old, new])
    assert _rules(db, acme, settings) == []


def test_a_failing_metadata_refresh_is_explained(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    url = "https://idp.example.test/metadata"
    _saml(db, acme, idp_metadata_url=url, idp_metadata_error=f"the IdP metadata URL {url} 503")
    [finding] = _rules(db, acme, settings)
    assert (finding.rule, finding.severity) == ("sso_metadata_refresh_failing", WARNING)
    assert "503" in finding.explanation
    assert "metadata fetched before" in finding.explanation
    assert "SCIMGATE_WEBHOOK_ALLOWED_CIDRS" in finding.fix
    assert finding.evidence["url"] == url


def test_repeated_audience_refusals_say_what_to_change_in_the_idp(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    connection = _saml(db, acme)
    words = f"the assertion's Audience is https://wrong.example.test, this connection expects {EXPECTED}"  # noqa: E501
    for _ in range(3):
        sso.record_refusal(db, acme, connection, SsoRejected("audience", words), client=BROWSER)
    sso.record_refusal(db, acme, connection, SsoRejected("replay", "seen before"), client=BROWSER)
    [finding] = _rules(db, acme, settings)
    assert finding.rule == "sso_repeated_refusals"
    assert "refused 3 times for the same reason (audience)" in finding.title
    assert EXPECTED in finding.explanation
    assert "set the Audience" in finding.fix
    assert finding.evidence["count"] == 3
    assert finding.evidence["connection"] == "Okta"


def test_refusals_below_the_threshold_or_of_different_checks_are_not_reported(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    connection = _saml(db, acme)
    for check in ("audience", "destination", "audience", "signature"):
        sso.record_refusal(db, acme, connection, SsoRejected(check, check), client=BROWSER)
    assert _rules(db, acme, settings) == []
