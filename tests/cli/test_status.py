"""``scimgate status``."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_status_of_a_tenant_without_tokens(run: Cli) -> None:
    run("tenant", "create", "acme")
    assert run.json("status", "acme", "--json")["state"] == "not configured"
    text = run("status", "acme")
    assert "state:         not configured" in text.stdout


def test_status_of_an_unknown_tenant_fails_in_one_line(run: Cli) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1
    assert "error:" in result.stderr
