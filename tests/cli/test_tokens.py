"""``scimgate token``: the secret is shown once; JSON shapes and errors."""

import json

import pytest

from tests.cli.conftest import Cli


def test_token_create_json_holds_the_secret_once(run: Cli) -> None:
    run("tenant", "create", "acme")
    created = run.json(
        "token", "create", "acme", "--name", "Okta SCIM", "--expires-in-days", "90", "--json"
    )
    assert {"id", "name", "token", "scimBaseUrl", "createdAt", "expiresAt"} <= created.keys()
    assert created["name"] == "Okta SCIM"
    assert created["token"].startswith("sgt_")
    assert created["scimBaseUrl"] == "https://scim.example.test/scim/v2/acme"
    assert created["expiresAt"].endswith("Z")

    listed = run.json("token", "list", "acme", "--json")
    assert len(listed) == 1
    [entry] = listed
    assert set(entry) >= {
        "id",
        "name",
        "prefix",
        "createdAt",
        "lastUsedAt",
        "expiresAt",
        "revokedAt",
    }
    assert entry["id"] == created["id"]
    assert entry["prefix"] == created["token"][:12]
    assert created["token"] not in json.dumps(listed)
    assert entry["revokedAt"] is None


def test_token_revoke_marks_the_token_revoked(run: Cli) -> None:
    run("tenant", "create", "acme")
    created = run.json("token", "create", "acme", "--json")
    assert run("token", "revoke", "acme", created["id"]).exit_code == 0
    [entry] = run.json("token", "list", "acme", "--json")
    assert entry["revokedAt"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "create", "nobody"), "no tenant"),
        (("token", "list", "nobody"), "no tenant"),
        (("token", "revoke", "acme", "0" * 32), "no token"),
        (("token", "create", "acme", "--expires-in-days", "0"), "positive"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
