"""Every SCIM request lands in the audit log, recorded from one wrapper around the mount."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.audit import AuditRecorder
from scimgate.service.tokens import IssuedToken
from scimgate.storage.audit import AuditEntry, AuditFilter
from scimgate.storage.database import Database

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
