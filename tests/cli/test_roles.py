"""``scimgate role`` and ``scimgate role-mapping``, in the host API's shapes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.cli.conftest import Cli
from tests.scim.contract import ScimClient


def test_role_add_and_list(run: Cli) -> None:
    run("tenant", "create", "acme")
    assert run("role", "add", "acme", "billing", "--name", "Billing").exit_code == 0
    listed = run.json("role", "list", "acme", "--json")
    assert [(r["key"], r["name"]) for r in listed] == [
        ("billing", "Billing"),
        ("member", "Standard User"),
        ("tenant_admin", "Tenant Admin"),
    ]
    assert run("role", "remove", "acme", "billing").exit_code == 0
    assert "billing" not in run("role", "list", "acme").stdout


def test_role_mapping_add_list_remove_in_the_apis_shape(
    run: Cli, scim: ScimClient, client: TestClient
) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    added = run.json(
        "role-mapping", "add", "acme", "--group", "Engineering",
        "--role", "tenant_admin", "--priority", "5", "--json",
    )  # fmt: skip
    assert (added["group"], added["role"], added["priority"]) == ("Engineering", "tenant_admin", 5)
    assert added["memberCount"] == 1
    listed = run.json("role-mapping", "list", "acme", "--json")
    assert listed == [added]
    users = run.json("user", "list", "acme", "--json")
    assert users[0]["roles"] == ["tenant_admin"]
    assert run("role-mapping", "remove", "acme", str(added["id"])).exit_code == 0
    assert run.json("role-mapping", "list", "acme", "--json") == []
    assert run.json("user", "list", "acme", "--json")[0]["roles"] == ["member"]


def test_role_mapping_add_by_external_id(run: Cli, scim: ScimClient) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user], externalId="00g-eng")
    result = run(
        "role-mapping", "add", "acme", "--group", "00g-eng",
        "--role", "tenant_admin", "--match", "external_id",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "role mapping" in result.stdout
    assert run.json("user", "list", "acme", "--json")[0]["roles"] == ["tenant_admin"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("role", "add", "acme", "member"), "already has a role"),
        (("role", "remove", "acme", "member"), "default role"),
        (("role-mapping", "add", "acme", "--group", "G", "--role", "ghost"), "no role"),
        (("role-mapping", "remove", "acme", "99"), "no role mapping"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
