"""GET /tenants/{slug}/provisioning-status and /audit-log."""

from __future__ import annotations

from starlette.testclient import TestClient

from scimgate.service.audit import AuditRecorder
from tests.api.conftest import HostApi, assert_problem
from tests.scim.contract import ScimClient


def _flush(client: TestClient) -> None:
    recorder: AuditRecorder = client.app.state.audit_recorder  # type: ignore[attr-defined]
    recorder.flush()


def test_status_turns_healthy_after_a_request(
    api: HostApi, scim: ScimClient, client: TestClient
) -> None:
    assert api.ok("/tenants/acme/provisioning-status")["state"] == "waiting for first request"
    assert scim.post("/Users", {"userName": "ann"}).status_code == 201
    _flush(client)
    body = api.ok("/tenants/acme/provisioning-status")
    assert body["state"] == "healthy"
    assert body["users"] == {"active": 1, "deactivated": 0}
    assert body["counts"]["24h"]["POST User"] == {"success": 1, "failure": 0}
    assert body["tokens"][0]["lastUsedAt"] is not None


def test_the_audit_log_filters_and_pages_with_a_cursor(
    api: HostApi, scim: ScimClient, client: TestClient
) -> None:
    scim.post("/Users", {"userName": "ann"})
    scim.post("/Users", {"userName": "ann"})  # 409 uniqueness
    scim.get("/Groups")
    _flush(client)
    failures = api.ok("/tenants/acme/audit-log", outcome="failure")["entries"]
    assert [(e["status"], e["scimType"]) for e in failures] == [(409, "uniqueness")]
    first = api.ok("/tenants/acme/audit-log", limit=2)
    assert [e["method"] for e in first["entries"]] == ["GET", "POST"]
    rest = api.ok("/tenants/acme/audit-log", limit=2, cursor=first["next"])
    assert [e["status"] for e in rest["entries"]] == [201]
    groups = api.ok("/tenants/acme/audit-log", resourceType="Group")["entries"]
    assert [e["resourceType"] for e in groups] == ["Group"]


def test_a_tenant_key_cannot_read_another_tenants_log(
    api: HostApi, globex_scim: ScimClient
) -> None:
    assert_problem(api.get("/tenants/globex/audit-log"), 403)
    assert_problem(api.get("/tenants/globex/provisioning-status"), 403)


def test_a_bad_cursor_is_a_400(api: HostApi) -> None:
    assert_problem(api.get("/tenants/acme/audit-log", cursor="abc"), 400)


def test_the_doctor_explains_the_token_of_another_tenant(
    api: HostApi, scim: ScimClient, globex_scim: ScimClient, client: TestClient
) -> None:
    assert api.ok("/tenants/acme/doctor")["findings"] == []
    wrong = ScimClient(client, "acme", globex_scim.token)
    assert wrong.get("/Users", headers={"User-Agent": "Okta SCIM Client 1.0.0"}).status_code == 401
    _flush(client)
    body = api.ok("/tenants/acme/doctor")
    assert body["tenant"] == "acme"
    assert body["healthy"] is False
    (finding,) = body["findings"]
    assert finding["rule"] == "token_of_another_tenant"
    assert finding["title"] == "Okta is sending the token of another tenant"
    assert "Authentication Mode “HTTP Header” → “Bearer”" in finding["fix"]
    assert "globex" not in str(body)


def test_a_tenant_key_cannot_read_another_tenants_doctor(
    api: HostApi, globex_scim: ScimClient
) -> None:
    assert_problem(api.get("/tenants/globex/doctor"), 403)
