"""``scimgate webhook``: JSON shapes, global webhooks, errors."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli

URL = "https://app.example.com/hooks"


@pytest.fixture
def run(run: Cli) -> Cli:
    """The runner, with tenant acme made."""
    run("tenant", "create", "acme")
    return run


def test_webhook_add_prints_the_secret_once(run: Cli) -> None:
    added = run.json(
        "webhook", "add", "acme", "--url", URL, "--events", "user.deactivated", "--json"
    )
    assert added["secret"].startswith("whsec_")
    assert added["tenant"] == "acme"
    assert added["eventTypes"] == ["user.deactivated"]
    assert added["url"] == URL
    listed = run.json("webhook", "list", "acme", "--json")
    assert [w["id"] for w in listed] == [added["id"]]
    assert "secret" not in listed[0]
    assert added["secret"] not in run("webhook", "list", "acme").stdout


def test_webhook_remove_deletes_it(run: Cli) -> None:
    added = run.json("webhook", "add", "acme", "--url", URL, "--json")
    result = run("webhook", "remove", "acme", added["id"])
    assert result.exit_code == 0
    assert run.json("webhook", "list", "acme", "--json") == []


def test_global_webhooks_take_no_slug(run: Cli) -> None:
    added = run.json("webhook", "add", "--global", "--url", URL, "--json")
    assert added["tenant"] is None
    assert [w["id"] for w in run.json("webhook", "list", "--global", "--json")] == [added["id"]]
    assert run.json("webhook", "list", "acme", "--json") == []
    assert run("webhook", "remove", "--global", added["id"]).exit_code == 0
    assert run.json("webhook", "list", "--global", "--json") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("webhook", "add", "acme", "--global", "--url", URL), "expected SLUG, or --global"),
        (("webhook", "add", "--url", URL), "expected SLUG, or --global"),
        (("webhook", "remove", "acme"), "expected SLUG WEBHOOK_ID"),
        (("webhook", "add", "acme", "--url", URL, "--events", "user.lost"), "unknown event"),
        (("webhook", "add", "acme", "--url", "mailto:x@example.com"), "http"),
        (("webhook", "add", "nobody", "--url", URL), "no tenant"),
        (("webhook", "remove", "acme", "f" * 32), "no webhook"),
        (("webhook", "deliveries", "acme", "f" * 32), "no webhook"),
        (("webhook", "redeliver", "acme", "f" * 32, "e"), "no webhook"),
    ],
)
def test_webhook_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_webhook_add_refuses_a_host_that_is_not_public_unless_let_through(run: Cli) -> None:
    run.env["SCIMGATE_WEBHOOK_ALLOW_PRIVATE"] = "0"
    metadata = "http://169.254.169.254/latest/meta-data/"
    message = run.fails("webhook", "add", "acme", "--url", metadata)
    assert "webhook host 169.254.169.254 is a link-local address 169.254.169.254" in message
    assert "SCIMGATE_WEBHOOK_ALLOWED_CIDRS" in message
    assert run.json("webhook", "list", "acme", "--json") == []

    run.env["SCIMGATE_WEBHOOK_ALLOWED_CIDRS"] = "169.254.169.254/32"
    assert run.json("webhook", "add", "acme", "--url", metadata, "--json")["url"] == metadata
    refused = run.fails("webhook", "add", "acme", "--url", "http://10.0.0.5/hooks")
    assert "a private address 10.0.0.5" in refused
