"""``scimgate apikey``: the key is shown once and works on the host API."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.cli.conftest import Cli


def test_apikey_create_shows_the_key_once_and_list_never(run: Cli, client: TestClient) -> None:
    run("tenant", "create", "acme")
    created = run.json("apikey", "create", "--tenant", "acme", "--name", "Backend", "--json")
    assert created["key"].startswith("sgk_")
    assert created["key"].startswith(created["prefix"])
    assert (created["name"], created["tenant"]) == ("Backend", "acme")
    operator = run.json("apikey", "create", "--json")
    assert operator["tenant"] is None
    listed = run.json("apikey", "list", "--json")
    assert [k["id"] for k in listed] == [created["id"], operator["id"]]
    assert all("key" not in k for k in listed)
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/tenants/acme/users", headers=headers).status_code == 200


def test_apikey_revoke_stops_the_key(run: Cli, client: TestClient) -> None:
    created = run.json("apikey", "create", "--json")
    result = run("apikey", "revoke", created["id"])
    assert result.exit_code == 0
    assert created["id"] in result.stdout
    assert run.json("apikey", "list", "--json")[0]["revokedAt"] is not None
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/tenants", headers=headers).status_code == 401


def test_apikey_text_output_hides_the_secret_in_lists(run: Cli) -> None:
    created = run("apikey", "create", "--name", "Ops")
    assert "sgk_" in created.stdout
    assert "cannot be shown again" in created.stdout
    listed = run("apikey", "list").stdout
    assert "Ops" in listed
    assert "*" in listed  # an operator key: every tenant


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("apikey", "create", "--tenant", "nobody"), "no tenant"),
        (("apikey", "revoke", "nothing"), "no API key"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
