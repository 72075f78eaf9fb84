"""Every SCIM request lands in the audit log, recorded from one wrapper around the mount."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.observability import JsonFormatter
from scimgate.service.audit import AuditRecorder, RequestRecord
from scimgate.service.clock import utcnow
from scimgate.service.tokens import IssuedToken
from scimgate.storage.audit import AuditEntry, AuditFilter
from scimgate.storage.database import Database
from scimgate.storage.tables import audit_log

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0"}
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _entries(client: TestClient, db: Database, tenant: Tenant) -> list[AuditEntry]:
    recorder: AuditRecorder = client.app.state.audit_recorder  # type: ignore[attr-defined]
    recorder.flush()
    with db.tenant(tenant.id) as repo:
        return repo.audit.page(AuditFilter(), 100)


def test_a_request_is_recorded_with_token_name_and_idp_and_no_secret(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    tenant = make_tenant("acme")
    issued = make_token("acme", name="Okta production")
    headers = {**OKTA, "Authorization": f"Bearer {issued.secret}"}
    created = client.post(
        "/scim/v2/acme/Users",
        json={"userName": "bjensen", "password": "hunter2-secret", "active": True},
        headers=headers,
    )
    assert created.status_code == 201
    (entry,) = _entries(client, db, tenant)
    assert (entry.token_name, entry.token_id, entry.idp) == (
        "Okta production",
        issued.token.id,
        "okta",
    )
    assert (entry.method, entry.status, entry.resource_type) == ("POST", 201, "User")
    assert entry.resource_id == created.json()["id"]
    assert entry.change == "create: active, userName"
    text = repr(entry)
    assert "hunter2" not in text
    assert issued.secret not in text


def test_a_refused_request_is_recorded_with_its_status_and_detail(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant("acme")
    response = client.get(
        "/scim/v2/acme/Users", headers={**OKTA, "Authorization": "Bearer sgt_wrong"}
    )
    assert response.status_code == 401
    (entry,) = _entries(client, db, tenant)
    assert entry.status == 401
    assert entry.token_id is None
    assert entry.idp == "okta"
    assert entry.detail == "Invalid bearer token"
    assert "sgt_wrong" not in repr(entry)


def test_a_patch_is_summarised_by_attribute_never_by_value(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    user = client.post("/scim/v2/acme/Users", json={"userName": "ann"}, headers=headers).json()
    body = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "replace", "path": "password", "value": "s3cret-value"},
            {"op": "replace", "value": {"active": False}},
        ],
    }
    assert client.patch(f"/scim/v2/acme/Users/{user['id']}", json=body, headers=headers).is_success
    newest = _entries(client, db, tenant)[0]
    assert newest.change == "patch: replace password; replace active"
    assert newest.resource_id == user["id"]
    assert "s3cret" not in repr(newest)


def test_the_summary_names_the_keys_the_client_sent_before_compat_rewrites_them(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    """Entra's dotted keys are nested before the service sees them; the log keeps them."""
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    body = {"userName": "ann", "name.givenName": "Ann"}
    assert client.post("/scim/v2/acme/Users", json=body, headers=headers).status_code == 201
    (entry,) = _entries(client, db, tenant)
    assert entry.change == "create: name.givenName, userName"


@pytest.mark.parametrize("content", [b'{"userName": ', b'["userName"]'])
def test_a_body_that_is_no_json_object_is_summarised_from_its_bytes(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    content: bytes,
) -> None:
    """The route refused it unparsed, so the recorder reads the raw body."""
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    response = client.post("/scim/v2/acme/Users", content=content, headers=headers)
    assert response.status_code == 400
    (entry,) = _entries(client, db, tenant)
    assert entry.change == "unreadable body"


def test_an_error_keeps_its_scim_type(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    response = client.get(
        "/scim/v2/acme/Users", params={"filter": "userName zz 1"}, headers=headers
    )
    assert response.status_code == 400
    (entry,) = _entries(client, db, tenant)
    assert (entry.status, entry.scim_type) == (400, "invalidFilter")
    assert entry.path.startswith("/scim/v2/acme/Users?filter=")


def _unknown_tenant_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "SCIM request for an unknown tenant"]


def test_a_request_for_an_unknown_tenant_is_a_warning_line_not_an_audit_entry(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_tenant("acme")
    secret = make_token("acme").secret
    slug = "no-such-tenant-" + "x" * 100
    caplog.set_level(logging.WARNING, logger="scimgate.audit")
    response = client.get(
        f"/scim/v2/{slug}/Users",
        params={"filter": 'userName eq "ann@example.com"'},
        headers={**OKTA, "Authorization": f"Bearer {secret}", "X-Request-Id": "req-42"},
    )
    assert response.status_code == 401
    recorder: AuditRecorder = client.app.state.audit_recorder  # type: ignore[attr-defined]
    recorder.flush()
    (line,) = _unknown_tenant_lines(caplog)
    assert line.levelno == logging.WARNING
    fields = json.loads(JsonFormatter().format(line))
    assert {k: fields[k] for k in ("request_id", "tenant_slug", "method", "status", "idp")} == {
        "request_id": "req-42",
        "tenant_slug": slug[:64],
        "method": "GET",
        "status": 401,
        "idp": "okta",
    }
    assert fields["path"] == f"/scim/v2/{slug}/Users"[:256]
    text = json.dumps(fields)
    assert secret not in text
    assert "Bearer" not in text
    assert "ann@example.com" not in text  # no query string
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() == 0


def test_requests_for_unknown_tenants_are_counted_without_the_slug(
    client: TestClient, make_tenant: Callable[..., Tenant], caplog: pytest.LogCaptureFixture
) -> None:
    make_tenant("acme")
    caplog.set_level(logging.WARNING, logger="scimgate.audit")
    client.get("/scim/v2/invented-one/Users", headers={"Authorization": "Bearer sgt_x"})
    client.post("/scim/v2/invented-two/Users", json={"userName": "a"})
    client.get("/scim/v2/acme/Users", headers={"Authorization": "Bearer sgt_x"})  # known tenant
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    assert len(_unknown_tenant_lines(caplog)) == 2
    text = client.get("/metrics").text
    found = re.search(r"^scimgate_scim_unknown_tenant_requests_total (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    assert float(found.group(1)) == 2.0
    assert "invented" not in text


def test_a_flood_of_unknown_tenants_is_summarised_in_the_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    counted: list[int] = []
    recorder = AuditRecorder(db, on_unknown_tenant=counted.append)
    caplog.set_level(logging.WARNING, logger="scimgate.audit")
    for n in range(120):
        recorder.record(
            RequestRecord(
                occurred_at=utcnow(),
                tenant_slug=f"made-up-{n}",
                tenant_id=None,
                token_id=None,
                token_name=None,
                idp="unknown",
                method="GET",
                path=f"/scim/v2/made-up-{n}/Users",
                resource_type="User",
                resource_id=None,
                status=401,
                scim_type=None,
                detail="Invalid bearer token",
                duration_ms=1.0,
                body=None,
            )
        )
    assert recorder.flush() == 0
    assert len(_unknown_tenant_lines(caplog)) == 50
    (summary,) = [r for r in caplog.records if r.getMessage().startswith("more SCIM requests")]
    assert summary.__dict__["count"] == 70
    assert counted == [120]
