"""The CLI contract: commands, JSON shapes and error behaviour other tools rely on."""

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scimgate.cli import main


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


def test_tenant_create_prints_the_tenant_as_json(run: Any) -> None:
    result = run("tenant", "create", "acme", "--name", "Acme Corp", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["slug"] == "acme"
    assert body["name"] == "Acme Corp"
    assert body["scim_base_url"] == "https://scim.example.test/scim/v2/acme"
    assert body["disabled"] is False


def test_tenant_list_json_is_an_array_of_tenants(run: Any) -> None:
    run("tenant", "create", "acme")
    run("tenant", "create", "globex")
    result = run("tenant", "list", "--json")
    assert [t["slug"] for t in json.loads(result.stdout)] == ["acme", "globex"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenant", "create", "Bad Slug"), "invalid tenant slug"),
        (("tenant", "disable", "nobody"), "no tenant"),
        (("token", "create", "nobody"), "no tenant"),
        (("token", "list", "nobody"), "no tenant"),
        (("token", "revoke", "acme", "0" * 32), "no token"),
        (("token", "create", "acme", "--expires-in-days", "0"), "positive"),
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


def test_a_duplicate_tenant_is_an_error(run: Any) -> None:
    assert run("tenant", "create", "acme").exit_code == 0
    result = run("tenant", "create", "acme")
    assert result.exit_code != 0
    assert "already exists" in result.stderr


def test_token_create_json_holds_the_secret_once(run: Any) -> None:
    run("tenant", "create", "acme")
    result = run(
        "token", "create", "acme", "--name", "Okta SCIM", "--expires-in-days", "90", "--json"
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert {"id", "name", "token", "scim_base_url", "expires_at"} <= created.keys()
    assert created["name"] == "Okta SCIM"
    assert created["token"].startswith("sgt_")
    assert created["scim_base_url"] == "https://scim.example.test/scim/v2/acme"
    assert created["expires_at"].endswith("Z")

    listed = json.loads(run("token", "list", "acme", "--json").stdout)
    assert len(listed) == 1
    [entry] = listed
    assert set(entry) >= {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }
    assert entry["id"] == created["id"]
    assert entry["prefix"] == created["token"][:12]
    assert created["token"] not in json.dumps(listed)
    assert entry["revoked_at"] is None


def test_token_revoke_marks_the_token_revoked(run: Any) -> None:
    run("tenant", "create", "acme")
    created = json.loads(run("token", "create", "acme", "--json").stdout)
    assert run("token", "revoke", "acme", created["id"]).exit_code == 0
    [entry] = json.loads(run("token", "list", "acme", "--json").stdout)
    assert entry["revoked_at"] is not None


def test_tenant_disable_is_reflected_in_the_list(run: Any) -> None:
    run("tenant", "create", "acme")
    assert run("tenant", "disable", "acme").exit_code == 0
    [entry] = json.loads(run("tenant", "list", "--json").stdout)
    assert entry["disabled"] is True
