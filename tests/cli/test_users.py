"""``scimgate user list``: the host API's users, every page."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from scimgate.service import users as user_service
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.cli.conftest import Cli
from tests.scim.contract import ScimClient


def test_user_list_json_is_the_apis_user_shape(
    run: Cli, scim: ScimClient, client: TestClient
) -> None:
    made = [scim.make_user() for _ in range(3)]
    listed = run.json("user", "list", "acme", "--json")
    assert sorted(u["id"] for u in listed) == sorted(u["id"] for u in made)
    key = run.json("apikey", "create", "--json")["key"]
    api = client.get(
        "/api/v1/tenants/acme/users", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert listed == api["items"]


def test_user_list_filters(run: Cli, scim: ScimClient) -> None:
    on = scim.make_user()
    off = scim.make_user(active=False)
    assert [u["id"] for u in run.json("user", "list", "acme", "--active", "--json")] == [on["id"]]
    assert [u["id"] for u in run.json("user", "list", "acme", "--inactive", "--json")] == [
        off["id"]
    ]
    assert run.json("user", "list", "acme", "--role", "tenant_admin", "--json") == []
    assert run.json("user", "list", "acme", "--updated-since", "2999-01-01", "--json") == []
    text = run("user", "list", "acme").stdout
    assert "inactive (idp_deactivated)" in text


def test_user_list_walks_every_page(run: Cli, db: Database, scim: ScimClient) -> None:
    """More users than one page holds (500) come out, each once."""
    scope = TenantScope.of(db, get_tenant(db, "acme"), "https://x.test", Limits())
    for n in range(502):
        user_service.create_user(scope, {"userName": f"u{n}"})
    listed = run.json("user", "list", "acme", "--json")
    assert len({u["id"] for u in listed}) == len(listed) == 502


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "list", "acme", "--updated-since", "soon"), "ISO-8601"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
