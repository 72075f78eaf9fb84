"""``scimgate setup-link``: the URL is shown once; scope, expiry, revocation, errors."""

import json

import pytest

from tests.cli.conftest import Cli


def test_create_prints_the_url_once_and_list_shows_metadata(run: Cli) -> None:
    run("tenant", "create", "acme")
    created = run.json(
        "setup-link", "create", "acme", "--scope", "scim", "--expires-in-hours", "24", "--json"
    )
    assert created["url"].startswith("https://scim.example.test/setup/sgl_")
    assert created["scopes"] == ["scim"]
    assert created["state"] == "open"
    [listed] = run.json("setup-link", "list", "acme", "--json")
    assert listed["id"] == created["id"]
    assert created["url"] not in json.dumps(listed)
    assert listed["prefix"] == created["url"].rsplit("/", 1)[1][:12]


def test_text_output_and_revoke(run: Cli) -> None:
    run("tenant", "create", "acme")
    result = run("setup-link", "create", "acme")
    assert result.exit_code == 0
    assert "/setup/sgl_" in result.stdout
    assert "scim,sso" in result.stdout
    [listed] = run.json("setup-link", "list", "acme", "--json")
    assert run("setup-link", "revoke", "acme", listed["id"]).exit_code == 0
    assert "revoked" in run("setup-link", "list", "acme").stdout
    assert run.json("setup-link", "uses", "acme", listed["id"], "--json") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("setup-link", "create", "nobody"), "no tenant"),
        (("setup-link", "create", "acme", "--scope", "admin"), "scope"),
        (("setup-link", "create", "acme", "--expires-in-hours", "0"), "hours"),
        (("setup-link", "create", "acme", "--expires-in-hours", "721"), "hours"),
        (("setup-link", "revoke", "acme", "0" * 32), "no setup link"),
        (("setup-link", "uses", "acme", "0" * 32), "no setup link"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
