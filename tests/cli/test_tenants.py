"""``scimgate tenant``: JSON shapes and error behaviour other tools rely on."""

import pytest

from tests.cli.conftest import Cli


def test_tenant_create_prints_the_tenant_as_json(run: Cli) -> None:
    body = run.json("tenant", "create", "acme", "--name", "Acme Corp", "--json")
    assert body["slug"] == "acme"
    assert body["name"] == "Acme Corp"
    assert body["scimBaseUrl"] == "https://scim.example.test/scim/v2/acme"
    assert body["disabled"] is False
    assert body["createdAt"].endswith("Z")


def test_tenant_list_json_is_an_array_of_tenants(run: Cli) -> None:
    run("tenant", "create", "acme")
    run("tenant", "create", "globex")
    assert [t["slug"] for t in run.json("tenant", "list", "--json")] == ["acme", "globex"]


def test_tenant_disable_is_reflected_in_the_list(run: Cli) -> None:
    run("tenant", "create", "acme")
    assert run("tenant", "disable", "acme").exit_code == 0
    [entry] = run.json("tenant", "list", "--json")
    assert entry["disabled"] is True
    assert run("tenant", "enable", "acme").exit_code == 0
    [entry] = run.json("tenant", "list", "--json")
    assert entry["disabled"] is False


def test_a_duplicate_tenant_is_an_error(run: Cli) -> None:
    assert run("tenant", "create", "acme").exit_code == 0
    result = run("tenant", "create", "acme")
    assert result.exit_code != 0
    assert "already exists" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenant", "create", "Bad Slug"), "invalid tenant slug"),
        (("tenant", "disable", "nobody"), "no tenant"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
