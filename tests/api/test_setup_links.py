"""POST/GET .../setup-links and DELETE .../setup-links/{id}."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import HostApi, MakeKey, assert_problem

ACME = "/tenants/acme"


def test_a_link_is_created_with_its_url_shown_once(api: HostApi) -> None:
    created = api.created(f"{ACME}/setup-links", {"scopes": ["scim"], "expiresInHours": 48})
    assert created["url"].startswith("https://scim.example.test/setup/sgl_")
    assert created["prefix"] == created["url"].rsplit("/", 1)[1][:12]
    assert created["scopes"] == ["scim"]
    assert created["state"] == "open"
    assert created["expiresAt"] > created["createdAt"]
    [listed] = api.ok(f"{ACME}/setup-links")["items"]
    assert "url" not in listed
    assert listed["id"] == created["id"]
    assert created["url"].rsplit("/", 1)[1] not in str(listed)


def test_an_empty_body_gives_both_scopes(api: HostApi) -> None:
    response = api.request("POST", f"{ACME}/setup-links")
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == ["scim", "sso"]


def test_bad_scopes_and_expiries_are_refused(api: HostApi) -> None:
    assert_problem(api.post(f"{ACME}/setup-links", {"scopes": ["admin"]}), 422)
    assert_problem(api.post(f"{ACME}/setup-links", {"scopes": []}), 422)
    assert_problem(api.post(f"{ACME}/setup-links", {"expiresInHours": 0}), 422)
    assert_problem(api.post(f"{ACME}/setup-links", {"expiresInHours": 721}), 422)


def test_revoking_a_link_opens_nothing_any_more(api: HostApi, client: TestClient) -> None:
    created = api.created(f"{ACME}/setup-links", {})
    assert api.delete(f"{ACME}/setup-links/{created['id']}").status_code == 204
    [listed] = api.ok(f"{ACME}/setup-links")["items"]
    assert listed["state"] == "revoked"
    path = created["url"].removeprefix("https://scim.example.test")
    assert client.get(path, follow_redirects=False).status_code == 403
    assert_problem(api.delete(f"{ACME}/setup-links/nothing"), 404)


def test_another_tenants_key_cannot_reach_the_links(
    api: HostApi, client: TestClient, make_key: MakeKey, make_tenant: object
) -> None:
    created = api.created(f"{ACME}/setup-links", {})
    make_tenant("globex")  # type: ignore[operator]
    globex = HostApi(client, make_key("globex"))
    assert_problem(globex.get(f"{ACME}/setup-links"), 403)
    assert_problem(globex.delete(f"/tenants/globex/setup-links/{created['id']}"), 404)
    assert_problem(HostApi(client, None).get(f"{ACME}/setup-links"), 401)


def test_each_use_is_listed_with_the_visitors_address_and_agent(
    api: HostApi, client: TestClient
) -> None:
    created = api.created(f"{ACME}/setup-links", {})
    path = created["url"].removeprefix("https://scim.example.test")
    assert client.get(path, headers={"User-Agent": "Edge/140"}).status_code == 200
    api.delete(f"{ACME}/setup-links/{created['id']}")
    assert client.get(path, headers={"User-Agent": "Edge/140"}).status_code == 403
    uses = api.ok(f"{ACME}/setup-links/{created['id']}/uses")["items"]
    assert [(u["action"], u["userAgent"]) for u in uses] == [
        ("opened", "Edge/140"),
        ("refused_revoked", "Edge/140"),
    ]
    assert uses[0]["clientIp"] == "testclient"
    assert_problem(api.get(f"{ACME}/setup-links/nothing/uses"), 404)
