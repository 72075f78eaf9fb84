"""The connection doctor: each rule, fed the failing traffic an IdP really sends.

The requests go through the SCIM endpoint with the headers and bodies of the
captured samples (tests/samples/<idp>/lifecycle.json), land in the audit log
through the recorder, and the doctor reads them back; every test asserts the
words of the explanation and of the suggested fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import tokens as token_service
from scimgate.service.audit import AuditRecorder, audit_page
from scimgate.service.clock import utcnow
from scimgate.service.doctor import Finding, diagnose
from scimgate.service.tokens import IssuedToken
from scimgate.storage.audit import AuditFilter
from scimgate.storage.database import Database
from tests.interop.replay import Replayer, load_sample

OKTA = load_sample("okta")
ENTRA = load_sample("entra")
BASE = "https://scim.example.test/scim/v2/acme"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Idp:
    """Requests to one tenant's SCIM URL as a given IdP sends them (its sample's headers)."""

    def __init__(self, http: TestClient, sample: dict[str, Any], slug: str, token: str) -> None:
        self.http = http
        # Entra sends no User-Agent: blank out the test client's own.
        self.headers = {"User-Agent": "", **sample["headers"]}
        self.base = f"/scim/v2/{slug}"
        self.token = token

    def send(self, method: str, path: str, body: Any = None, **headers: str | None) -> Any:
        sent = {**self.headers, "Authorization": f"Bearer {self.token}", **headers}
        content = json.dumps(body).encode() if body is not None else None
        return self.http.request(
            method,
            self.base + path,
            content=content,
            headers={k: v for k, v in sent.items() if v is not None},
        )


def _flush(http: TestClient) -> None:
    recorder: AuditRecorder = http.app.state.audit_recorder  # type: ignore[attr-defined]
    recorder.flush()


def _only(findings: list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, [f.rule for f in findings]
    return matching[0]


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme", "Acme Corp")


@pytest.fixture
def acme_token(acme: Tenant, make_token: Callable[..., IssuedToken]) -> str:
    return make_token("acme").secret


@pytest.fixture
def okta(client: TestClient, acme_token: str) -> Idp:
    return Idp(client, OKTA, "acme", acme_token)


def _doctor(db: Database, tenant: Tenant, settings: Settings, http: TestClient) -> list[Finding]:
    _flush(http)
    return diagnose(db, tenant, now=utcnow(), settings=settings)


def test_a_clean_okta_and_entra_lifecycle_gives_no_finding(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, acme_token: str
) -> None:
    for sample in (OKTA, ENTRA):
        Replayer(client, "/scim/v2/acme", acme_token).run(sample)
    assert _doctor(db, acme, settings, client) == []


def test_entra_sending_the_token_of_another_tenant(
    client: TestClient,
    db: Database,
    settings: Settings,
    acme: Tenant,
    acme_token: str,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    globex = make_tenant("globex", "Globex Inc")
    globex_secret = make_token("globex", "Entra production").secret
    entra = Idp(client, ENTRA, "acme", globex_secret)
    connection_test = ENTRA["steps"][0]["request"]
    for _ in range(2):
        answer = entra.send("GET", connection_test["path"], **connection_test["headers"])
        # The client learns nothing more than for a token that does not exist.
        assert answer.status_code == 401
        assert answer.json()["detail"] == "Invalid bearer token"

    found = _only(_doctor(db, acme, settings, client), "token_of_another_tenant")
    assert found.severity == "error"
    assert found.idp == "entra"
    assert found.title == "Microsoft Entra ID is sending the token of another tenant"
    assert "belongs to a different tenant" in found.explanation
    assert "Admin Credentials → “Secret Token”" in found.fix
    assert found.fix.startswith(f"The URL {BASE} is right; the token is not. Generate a new")
    assert found.evidence["count"] == 2
    # acme's log says what happened, and nothing of the token's own tenant.
    details = [e.detail for e in audit_page(db, acme, AuditFilter(), 10)]
    assert details == ["Invalid bearer token (the token of another tenant)"] * 2
    shown = json.dumps(found.to_dict()) + json.dumps(details)
    assert "globex" not in shown.lower()
    assert "Entra production" not in shown
    assert diagnose(db, globex, settings=settings) == []

    # Fixed in Entra: acme's own token works, and the finding goes away.
    Idp(client, ENTRA, "acme", acme_token).send("GET", connection_test["path"])
    assert _doctor(db, acme, settings, client) == []


def test_the_base_url_pasted_twice(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, okta: Idp
) -> None:
    for step in OKTA["steps"][:2]:  # Okta's connection test, under a doubled base URL
        answer = okta.send("GET", "/scim/v2/acme" + step["request"]["path"])
        assert answer.status_code == 404

    found = _only(_doctor(db, acme, settings, client), "base_url_doubled")
    assert found.title == "Requests arrive at a doubled path: the base URL was pasted twice"
    assert "requests arrive at /scim/v2/acme/scim/v2/acme/Groups" in found.explanation
    assert (
        "Integration → “SCIM connector base URL” to exactly "
        "https://scim.example.test/scim/v2/acme" in found.fix
    )
    assert found.evidence["examples"][0] == "GET /scim/v2/acme/scim/v2/acme/Groups → 404"

    # The IdP's own path pasted once more (/scim/v2/acme/scim/v2/Users) is the same mistake.
    assert okta.send("GET", "/scim/v2/Users?startIndex=1&count=2").status_code == 404
    again = _only(_doctor(db, acme, settings, client), "base_url_doubled")
    assert "/scim/v2/acme/scim/v2/Users" in again.explanation

    assert okta.send("GET", "/Users?startIndex=1&count=2").status_code == 200
    assert _doctor(db, acme, settings, client) == []


def test_okta_pushes_groups_but_no_members(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, okta: Idp
) -> None:
    create_user = OKTA["steps"][3]["request"]["body"]
    user = okta.send("POST", "/Users", create_user).json()
    group = okta.send("POST", "/Groups", OKTA["steps"][11]["request"]["body"]).json()
    empty_push = OKTA["steps"][16]["request"]["body"]  # "Push Now" of a group with no member
    assert okta.send("PATCH", f"/Groups/{group['id']}", empty_push).status_code in (200, 204)

    found = _only(_doctor(db, acme, settings, client), "groups_without_members")
    assert found.severity == "warning"
    assert found.title == "Okta pushes groups but no members"
    assert "no group has a member" in found.explanation
    assert "Assign the group on the app's Assignments tab" in found.fix
    assert found.evidence["groups"] == 1
    assert found.evidence["memberships"] == 0

    add = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}],
    }
    assert okta.send("PATCH", f"/Groups/{group['id']}", add).status_code in (200, 204)
    assert _doctor(db, acme, settings, client) == []


def test_409s_for_a_user_name_that_differs_only_by_case(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, okta: Idp
) -> None:
    body = OKTA["steps"][3]["request"]["body"]
    assert okta.send("POST", "/Users", body).status_code == 201
    # A second Okta user whose login differs only by case, and the same one again.
    assert (
        okta.send("POST", "/Users", {**body, "userName": "Test.User@okta.local"}).status_code == 409
    )
    assert okta.send("POST", "/Users", body).status_code == 409

    found = _only(_doctor(db, acme, settings, client), "user_name_case_conflict")
    assert found.title == "409s: the same userName differs only by case"
    assert (
        "Okta tries to create 'Test.User@okta.local', but 'test.user@okta.local' exists"
        in found.explanation
    )
    assert "String.toLowerCase(user.login)" in found.fix
    assert found.evidence["userNames"] == [
        {"sent": "Test.User@okta.local", "stored": "test.user@okta.local"}
    ]
    assert found.evidence["count"] == 1  # the exact duplicate is not this rule's business


def test_no_request_for_48_hours_while_the_idp_is_set_up(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, okta: Idp
) -> None:
    assert okta.send("GET", "/Users?startIndex=1&count=2").status_code == 200
    _flush(client)
    assert diagnose(db, acme, now=utcnow() + timedelta(hours=47), settings=settings) == []

    found = _only(
        diagnose(db, acme, now=utcnow() + timedelta(hours=49), settings=settings),
        "no_recent_requests",
    )
    assert found.title == "No request for 49 hours while the IdP is set up"
    assert "The last request from Okta arrived 49 hours ago" in found.explanation
    assert "Provisioning → To App" in found.fix


def test_a_token_nobody_ever_used(
    db: Database, settings: Settings, acme: Tenant, acme_token: str
) -> None:
    found = _only(
        diagnose(db, acme, now=utcnow() + timedelta(hours=50), settings=settings),
        "no_recent_requests",
    )
    assert "A token was created 50 hours ago, but no request has arrived" in found.explanation
    assert "provisioning is switched on" in found.fix


def test_the_token_expires_in_5_days(
    client: TestClient,
    db: Database,
    settings: Settings,
    acme: Tenant,
    make_token: Callable[..., IssuedToken],
) -> None:
    expiring = make_token("acme", "Okta production", expires_in_days=5)
    okta = Idp(client, OKTA, "acme", expiring.secret)
    assert okta.send("GET", "/Users?startIndex=1&count=2").status_code == 200

    found = _only(_doctor(db, acme, settings, client), "token_expiring")
    assert found.title == "The token 'Okta production' expires in 5 days"
    assert "every request made with it is refused with 401" in found.explanation
    assert "Authentication Mode “HTTP Header” → “Bearer”" in found.fix
    assert found.fix.startswith("Generate a new token for this tenant")
    assert found.evidence["daysLeft"] == 5


def test_429s_when_the_rate_limit_is_below_entras_push_rate(
    db: Database, settings: Settings, acme: Tenant, acme_token: str
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 1.0, "rate_limit_burst": 2})
    app: Starlette = create_app(limited, database=db)
    with TestClient(app, raise_server_exceptions=False) as http:
        entra = Idp(http, ENTRA, "acme", acme_token)
        statuses = [
            entra.send("GET", ENTRA["steps"][1]["request"]["path"]).status_code for _ in range(12)
        ]
        assert statuses.count(429) >= 8
        found = _only(_doctor(db, acme, limited, http), "rate_limited")
    assert found.title == "429s: the rate limit is lower than Microsoft Entra ID's push rate"
    assert "the limit is 1 per second per token" in found.explanation
    assert f"sent {found.evidence['peakRequests']} requests in 10 seconds" in found.explanation
    assert found.evidence["peakRequests"] == 12
    assert "raise SCIMGATE_RATE_LIMIT_PER_SECOND (now 1)" in found.fix
    assert "Entra expects at least 25 requests per second" in found.fix


def test_okta_still_using_a_revoked_token(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, okta: Idp
) -> None:
    assert okta.send("GET", "/Users?startIndex=1&count=2").status_code == 200
    for token in token_service.list_tokens(db, acme):
        token_service.revoke_token(db, acme, token.id)
    assert okta.send("GET", "/Users?startIndex=1&count=2").status_code == 401

    found = _only(_doctor(db, acme, settings, client), "token_revoked")
    assert found.title == "Okta still uses a revoked token"
    assert "was revoked in scimgate" in found.explanation
    assert "“scimgate token create acme”" in found.fix


def test_entra_sending_no_bearer_token(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, acme_token: str
) -> None:
    entra = Idp(client, ENTRA, "acme", acme_token)
    path = ENTRA["steps"][0]["request"]["path"]
    assert entra.send("GET", path, Authorization="Basic dXNlcjpwYXNz").status_code == 401

    found = _only(_doctor(db, acme, settings, client), "no_bearer_token")
    assert found.title == "Microsoft Entra ID does not send a bearer token"
    assert "(Authorization must use the Bearer scheme)" in found.explanation
    assert "Choose bearer token (HTTP header) authentication" in found.fix

    # The Secret Token left empty: Entra sends a JWT of its own.
    jwt = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiI4YWRmOGUwNiJ9.c2ln"
    assert entra.send("GET", path, Authorization=jwt).status_code == 401
    found = _only(_doctor(db, acme, settings, client), "no_bearer_token")
    assert "(Malformed bearer token)" in found.explanation
    assert "when its Secret Token field is left empty" in found.explanation
    assert found.evidence["count"] == 2


def test_entra_creates_refused_as_invalid_values(
    client: TestClient, db: Database, settings: Settings, acme: Tenant, acme_token: str
) -> None:
    entra = Idp(client, ENTRA, "acme", acme_token)
    create = ENTRA["steps"][3]["request"]["body"]
    without_name = {k: v for k, v in create.items() if k != "userName"}
    for _ in range(3):
        answer = entra.send("POST", "/Users", without_name)
        assert answer.status_code == 400

    found = _only(_doctor(db, acme, settings, client), "refused_values")
    scim_type = answer.json()["scimType"]
    assert found.title == f"Microsoft Entra ID's POST User requests are refused as {scim_type}"
    assert "3 POST User requests from Microsoft Entra ID were refused with 400" in found.explanation
    assert "Check the attribute mappings in Microsoft Entra ID" in found.fix

    # Twice is not yet a pattern.
    Idp(client, OKTA, "acme", acme_token).send("POST", "/Users", {"schemas": [USER_SCHEMA]})
    assert [f.idp for f in _doctor(db, acme, settings, client) if f.rule == "refused_values"] == [
        "entra"
    ]
