"""``scimgate status`` and ``scimgate admin create``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scimgate.cli import main
from scimgate.service import admins
from scimgate.storage.database import Database


@pytest.fixture
def run(database_url: str) -> Any:
    runner = CliRunner()
    env = {"SCIMGATE_DATABASE_URL": database_url}

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)

    return invoke


def test_status_of_a_tenant_without_tokens(run: Any) -> None:
    run("tenant", "create", "acme")
    result = run("status", "acme", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "not configured"
    text = run("status", "acme")
    assert "state:         not configured" in text.stdout


def test_status_of_an_unknown_tenant_fails_in_one_line(run: Any) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1
    assert "error:" in result.stderr


def test_admin_create_prompts_for_a_password_and_stores_only_its_hash(
    run: Any, db: Database
) -> None:
    run("tenant", "create", "acme")
    secret = "a long enough password"
    result = run(
        "admin", "create", "IT@Acme.example", "--tenant", "acme", stdin=f"{secret}\n{secret}\n"
    )
    assert result.exit_code == 0, result.output
    account = admins.authenticate(db, "it@acme.example", secret)
    assert account.tenant_id is not None
    assert secret not in account.password_hash
