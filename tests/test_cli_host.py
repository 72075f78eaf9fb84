"""The host-app CLI mirrors: apikey, role, role-mapping, user and settings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from scimgate.cli import main
from scimgate.service import users as user_service
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.scim.contract import ScimClient


@pytest.fixture
def run(database_url: str) -> Any:
    runner = CliRunner()
    env = {
        "SCIMGATE_DATABASE_URL": database_url,
        "SCIMGATE_PUBLIC_URL": "https://scim.example.test",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def scim(run: Any, client: TestClient) -> ScimClient:
    """Tenant acme (made with the CLI) and its IdP."""
    run("tenant", "create", "acme")
    token = _json(run("token", "create", "acme", "--json"))["token"]
    return ScimClient(client, "acme", token)


# -- API keys --------------------------------------------------------------------------


def test_apikey_create_shows_the_key_once_and_list_never(run: Any, client: TestClient) -> None:
    run("tenant", "create", "acme")
    created = _json(run("apikey", "create", "--tenant", "acme", "--name", "Backend", "--json"))
    assert created["key"].startswith("sgk_")
    assert created["key"].startswith(created["prefix"])
    assert (created["name"], created["tenant"]) == ("Backend", "acme")
    operator = _json(run("apikey", "create", "--json"))
    assert operator["tenant"] is None
    listed = _json(run("apikey", "list", "--json"))
    assert [k["id"] for k in listed] == [created["id"], operator["id"]]
    assert all("key" not in k for k in listed)
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/tenants/acme/users", headers=headers).status_code == 200


def test_apikey_revoke_stops_the_key(run: Any, client: TestClient) -> None:
    created = _json(run("apikey", "create", "--json"))
    result = run("apikey", "revoke", created["id"])
    assert result.exit_code == 0
    assert created["id"] in result.stdout
    assert _json(run("apikey", "list", "--json"))[0]["revoked_at"] is not None
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/tenants", headers=headers).status_code == 401


def test_apikey_text_output_hides_the_secret_in_lists(run: Any) -> None:
    created = run("apikey", "create", "--name", "Ops")
    assert "sgk_" in created.stdout
    assert "cannot be shown again" in created.stdout
    listed = run("apikey", "list").stdout
    assert "Ops" in listed
    assert "*" in listed  # an operator key: every tenant


# -- roles and role mappings ----------------------------------------------------------------


def test_role_add_and_list(run: Any) -> None:
    run("tenant", "create", "acme")
    assert run("role", "add", "acme", "billing", "--name", "Billing").exit_code == 0
    listed = _json(run("role", "list", "acme", "--json"))
    assert [(r["key"], r["name"]) for r in listed] == [
        ("billing", "Billing"),
        ("member", "Standard User"),
        ("tenant_admin", "Tenant Admin"),
    ]
    assert run("role", "remove", "acme", "billing").exit_code == 0
    assert "billing" not in run("role", "list", "acme").stdout


def test_role_mapping_add_list_remove_in_the_apis_shape(
    run: Any, scim: ScimClient, client: TestClient
) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    added = _json(
        run(
            "role-mapping", "add", "acme", "--group", "Engineering",
            "--role", "tenant_admin", "--priority", "5", "--json",
        )
    )  # fmt: skip
    assert (added["group"], added["role"], added["priority"]) == ("Engineering", "tenant_admin", 5)
    assert added["memberCount"] == 1
    listed = _json(run("role-mapping", "list", "acme", "--json"))
    assert listed == [added]
    users = _json(run("user", "list", "acme", "--json"))
    assert users[0]["roles"] == ["tenant_admin"]
    assert run("role-mapping", "remove", "acme", str(added["id"])).exit_code == 0
    assert _json(run("role-mapping", "list", "acme", "--json")) == []
    assert _json(run("user", "list", "acme", "--json"))[0]["roles"] == ["member"]


def test_role_mapping_add_by_external_id(run: Any, scim: ScimClient) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user], externalId="00g-eng")
    result = run(
        "role-mapping", "add", "acme", "--group", "00g-eng",
        "--role", "tenant_admin", "--match", "external_id",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "role mapping" in result.stdout
    assert _json(run("user", "list", "acme", "--json"))[0]["roles"] == ["tenant_admin"]


# -- users -----------------------------------------------------------------------------


def test_user_list_json_is_the_apis_user_shape(
    run: Any, scim: ScimClient, client: TestClient
) -> None:
    made = [scim.make_user() for _ in range(3)]
    listed = _json(run("user", "list", "acme", "--json"))
    assert sorted(u["id"] for u in listed) == sorted(u["id"] for u in made)
    key = _json(run("apikey", "create", "--json"))["key"]
    api = client.get(
        "/api/v1/tenants/acme/users", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert listed == api["items"]


def test_user_list_filters(run: Any, scim: ScimClient) -> None:
    on = scim.make_user()
    off = scim.make_user(active=False)
    assert [u["id"] for u in _json(run("user", "list", "acme", "--active", "--json"))] == [on["id"]]
    assert [u["id"] for u in _json(run("user", "list", "acme", "--inactive", "--json"))] == [
        off["id"]
    ]
    assert _json(run("user", "list", "acme", "--role", "tenant_admin", "--json")) == []
    since = run("user", "list", "acme", "--updated-since", "2999-01-01", "--json")
    assert _json(since) == []
    text = run("user", "list", "acme").stdout
    assert "inactive (idp_deactivated)" in text


def test_user_list_walks_every_page(run: Any, db: Database, scim: ScimClient) -> None:
    """More users than one page holds (500) come out, each once."""
    scope = TenantScope.of(db, get_tenant(db, "acme"), "https://x.test", Limits())
    for n in range(502):
        user_service.create_user(scope, {"userName": f"u{n}"})
    listed = _json(run("user", "list", "acme", "--json"))
    assert len({u["id"] for u in listed}) == len(listed) == 502


# -- settings --------------------------------------------------------------------------


def test_settings_show_and_set(run: Any) -> None:
    run("tenant", "create", "acme")
    result = run(
        "settings", "set", "acme", "role_mode=multiple", "deactivate_unmapped=true",
        "soft_delete_days=10", "default_role=none", "delete_mode=hard",
        "attribute_mapping.team=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
        "attribute_mapping.title=", "scim_extensions=urn:a:b,urn:c:d",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = _json(run("settings", "show", "acme", "--json"))
    assert shown["roleMode"] == "multiple"
    assert shown["deactivateUnmapped"] is True
    assert shown["softDeleteDays"] == 10
    assert shown["defaultRole"] is None
    assert shown["deleteMode"] == "hard"
    assert shown["attributeMapping"]["team"].endswith(":division")
    assert "title" not in shown["attributeMapping"]
    assert shown["scimExtensions"] == ["urn:a:b", "urn:c:d"]
    text = run("settings", "show", "acme").stdout
    assert "default_role=none" in text
    assert "deactivate_unmapped=true" in text


def test_settings_set_replaces_the_whole_mapping_from_json(run: Any) -> None:
    run("tenant", "create", "acme")
    assert run("settings", "set", "acme", 'attribute_mapping={"t": "title"}').exit_code == 0
    assert _json(run("settings", "show", "acme", "--json"))["attributeMapping"] == {"t": "title"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("settings", "set", "acme", "role_mode"), "not KEY=VALUE"),
        (("settings", "set", "acme", "role_mode=both"), "role_mode must be"),
        (("settings", "set", "acme", "deactivate_unmapped=maybe"), "true or false"),
        (("settings", "set", "acme", "soft_delete_days=ten"), "whole number"),
        (("settings", "set", "acme", "soft_delete_days=0"), "between 1 and 3650"),
        (("settings", "set", "acme", "default_role=ghost"), "no role"),
        (("settings", "set", "acme", "attribute_mapping={"), "JSON object"),
        (("settings", "set", "acme", "attribute_mapping.x=emails["), "profile field 'x'"),
        (("settings", "set", "acme", "colour=blue"), "unknown setting"),
        (("settings", "show", "nobody"), "no tenant"),
        (("role", "add", "acme", "member"), "already has a role"),
        (("role", "remove", "acme", "member"), "default role"),
        (("role-mapping", "add", "acme", "--group", "G", "--role", "ghost"), "no role"),
        (("role-mapping", "remove", "acme", "99"), "no role mapping"),
        (("user", "list", "acme", "--updated-since", "soon"), "ISO-8601"),
        (("apikey", "create", "--tenant", "nobody"), "no tenant"),
        (("apikey", "revoke", "nothing"), "no API key"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Any, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    result = run(*args)
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
