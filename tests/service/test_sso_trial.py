"""The console's Test sign-in and certificate expiry warnings, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimgate.config import Settings
from scimgate.errors import NotFound, SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import ExternalIdentity
from scimgate.service import roles as role_service
from scimgate.service import sso, sso_certificates, sso_trial
from scimgate.service.audit import audit_page, parse_filter
from scimgate.storage.database import Database
from tests.idps.keys import make_key_pair

CLIENT = sso.ClientInfo(ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://scim.example.test",
        dev_mode=True,
        sso_redirect_uris="https://app.example.test/callback",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def connect(db: Database, tenant: Tenant, **fields: Any) -> sso.Connection:
    base: dict[str, Any] = {"name": "Okta", "protocol": "saml", "jit": True}
    return sso.create_connection(db, tenant, {**base, **fields})


def user_count(db: Database, tenant: Tenant) -> int:
    with db.tenant(tenant.id) as repo:
        return repo.users.page(None, None, False, 0, 10).total


def ref_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_a_ticket_starts_one_trial_that_returns_to_the_console(db: Database, acme: Tenant) -> None:
    okta = connect(db, acme)
    ticket = sso_trial.issue_ticket(db, acme, okta)
    back = sso_trial.redeem_ticket(db, acme, okta, ticket)
    assert back == f"/admin/tenants/acme/sso/{okta.id}/tests/"
    with pytest.raises(SsoRejected) as again:
        sso_trial.redeem_ticket(db, acme, okta, ticket)
    assert again.value.check == "state"
    # A sign-in's own reference is no ticket.
    with pytest.raises(SsoRejected):
        sso_trial.redeem_ticket(db, acme, okta, "_not-a-ticket")


def test_a_trial_begins_without_the_host_apps_redirect_uri(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    okta = connect(db, acme)
    console = sso_trial.results_path(acme, okta)
    with pytest.raises(SsoRejected):  # a real sign-in may not come back to the console
        sso.begin(
            db,
            acme,
            okta,
            redirect_uri=console,
            host_state=None,
            protocol_ref="_a",
            data={},
            settings=settings,
        )
    sso.begin(
        db,
        acme,
        okta,
        redirect_uri=console,
        host_state=None,
        protocol_ref="_b",
        data={"relay_state": "r"},
        settings=settings,
        trial=True,
    )
    pending = sso.take_pending(db, acme, okta, "_b")
    assert sso_trial.is_trial(pending)


def test_a_passing_trial_says_what_a_sign_in_would_do_and_changes_nothing(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    role_service.add_role(db, acme, "engineer", "Engineer")
    role_service.add_rule(db, acme, "engineering", "engineer")
    okta = connect(db, acme)
    person = ExternalIdentity("ada@example.test", email="ada@example.test", groups=("engineering",))
    path = sso_trial.finish(db, acme, okta, person, client=CLIENT, settings=settings)
    assert user_count(db, acme) == 0  # rolled back: JIT made nobody
    report = sso_trial.report(db, acme, okta, ref_of(path))
    assert report["ok"] is True
    steps = {s["label"]: s for s in report["steps"]}  # type: ignore[attr-defined]
    assert {s["state"] for s in steps.values()} == {"passed"}
    assert "just-in-time provisioning would create 'ada@example.test'" in steps["User"]["words"]
    assert "gives engineer" in steps["Roles"]["words"]
    (row,) = audit_page(db, acme, parse_filter(resource_type="SignIn"), 5)
    assert row.succeeded
    assert row.scim_type == "test"
    assert row.change is not None
    assert row.change.startswith(sso_trial.TRIAL_NOTE)


def test_a_failed_check_is_reported_in_words_and_the_rest_as_unknown(
    db: Database, acme: Tenant
) -> None:
    okta = connect(db, acme)
    wrong = SsoRejected("signature", "the signature does not verify with the IdP certificate")
    path = sso_trial.fail(db, acme, okta, wrong, client=CLIENT)
    report = sso_trial.report(db, acme, okta, ref_of(path))
    states = {s["label"]: (s["state"], s["words"]) for s in report["steps"]}  # type: ignore[attr-defined]
    assert states["Signature"] == ("failed", wrong.detail)
    assert states["Audience"][0] == "not checked"  # verified together with the signature
    assert states["Replay"][0] == "not reached"
    replay = SsoRejected("replay", "the assertion _x was used before")
    states = {
        s["label"]: s["state"]
        for s in sso_trial.report(
            db, acme, okta, ref_of(sso_trial.fail(db, acme, okta, replay, client=CLIENT))
        )["steps"]  # type: ignore[attr-defined]
    }
    assert (states["Signature"], states["Replay"], states["User"]) == (
        "passed",
        "failed",
        "not reached",
    )
    assert wrong.recorded
    rows = audit_page(db, acme, parse_filter(resource_type="SignIn"), 5)
    assert {r.scim_type for r in rows} == {"signature", "replay"}


def test_a_user_refusal_in_a_trial_is_the_user_step(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    okta = connect(db, acme, jit=False)
    person = ExternalIdentity("bob@example.test", email="bob@example.test")
    report = sso_trial.report(
        db,
        acme,
        okta,
        ref_of(sso_trial.finish(db, acme, okta, person, client=CLIENT, settings=settings)),
    )
    assert report["ok"] is False
    user = next(s for s in report["steps"] if s["label"] == "User")  # type: ignore[attr-defined]
    assert user["state"] == "failed"
    assert "does not create users at sign-in" in user["words"]


def test_a_report_is_only_its_connections(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    okta, entra = connect(db, acme), connect(db, acme, name="Entra")
    path = sso_trial.fail(db, acme, okta, SsoRejected("audience", "x"), client=CLIENT)
    with pytest.raises(NotFound):
        sso_trial.report(db, acme, entra, ref_of(path))
    with pytest.raises(NotFound):
        sso_trial.report(db, make_tenant("globex"), okta, ref_of(path))


def test_certificates_expiring_soon_are_red_or_amber(db: Database, acme: Tenant) -> None:
    soon, later, fine = (make_key_pair(n, days=d) for n, d in (("a", 10), ("b", 45), ("c", 400)))
    okta = connect(db, acme, config={"idp_certificates": [soon.cert_pem, later.cert_pem]})
    connect(db, acme, name="Google", protocol="oidc")  # OIDC: no certificates to show
    found = sso_certificates.expiries([okta, *sso.list_connections(db, acme)[1:]], [fine.cert_pem])
    assert [(e.owner, e.level) for e in found] == [("Okta", "red"), ("Okta", "amber"), ("SP", "ok")]
    assert found[0].words.startswith("expires in 9 days") or found[0].words.startswith(
        "expires in 10 days"
    )
    assert sso_certificates.expiry_of("Okta", "not a certificate").level == "red"


def test_an_oidc_id_token_refusal_is_the_id_token_step(db: Database, acme: Tenant) -> None:
    google = connect(db, acme, name="Google", protocol="oidc")
    nonce = SsoRejected("nonce", "the ID token's nonce is not the one this sign-in sent")
    report = sso_trial.report(
        db, acme, google, ref_of(sso_trial.fail(db, acme, google, nonce, client=CLIENT))
    )
    states = {s["label"]: s["state"] for s in report["steps"]}  # type: ignore[attr-defined]
    assert states == {
        "State": "passed",
        "Code exchange": "passed",
        "ID token": "failed",
        "User": "not reached",
        "Roles": "not reached",
    }
