"""The OpenAPI description at /api/openapi.json tells the truth about paths, auth and errors."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import assert_problem


def test_the_description_is_published_without_a_key(client: TestClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["servers"] == [{"url": "/api"}]
    assert {
        "/v1/tenants",
        "/v1/tenants/{slug}/users",
        "/v1/tenants/{slug}/users/{user_id}",
        "/v1/tenants/{slug}/groups",
        "/v1/tenants/{slug}/roles",
        "/v1/tenants/{slug}/roles/{key}",
        "/v1/tenants/{slug}/role-mappings",
        "/v1/tenants/{slug}/role-mappings/{rule_id}",
        "/v1/tenants/{slug}/settings",
        "/v1/tenants/{slug}/scim-tokens",
        "/v1/tenants/{slug}/scim-tokens/{token_id}",
        "/v1/tenants/{slug}/events",
        "/v1/tenants/{slug}/sso/connections",
        "/v1/tenants/{slug}/sso/connections/{connection_id}",
        "/v1/sso/token",
    } <= set(spec["paths"])


def test_every_operation_needs_the_bearer_key_and_documents_problem_bodies(
    client: TestClient,
) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            for status in ("401", "403", "404", "422"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == problem, (method, path, status)


def test_unknown_paths_and_methods_get_problem_bodies(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing"), 404, "not_found")
    assert_problem(client.put("/api/v1/tenants"), 405, "method_not_allowed")
