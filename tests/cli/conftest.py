"""Fixtures for the command line: a runner on each database, and an IdP speaking SCIM."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from scimgate.cli import main
from tests.scim.contract import ScimClient


class Cli:
    """Runs ``scimgate`` commands in-process against one database."""

    def __init__(self, database_url: str) -> None:
        self.runner = CliRunner()
        self.env = {
            "SCIMGATE_DATABASE_URL": database_url,
            "SCIMGATE_PUBLIC_URL": "https://scim.example.test",
            # The CLI tests' receiver listens on 127.0.0.1; their hosts resolve nowhere.
            "SCIMGATE_WEBHOOK_ALLOW_PRIVATE": "1",
        }

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        return self.runner.invoke(
            main, list(args), env=self.env, input=stdin, catch_exceptions=False
        )

    def json(self, *args: str) -> Any:
        """The command's ``--json`` output; the command must succeed."""
        result = self(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fails(self, *args: str) -> str:
        """The one line a failing command prints to stderr; it must exit non-zero
        and print nothing to stdout."""
        result = self(*args)
        assert result.exit_code != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        return lines[0]


@pytest.fixture
def run(database_url: str) -> Cli:
    return Cli(database_url)


@pytest.fixture
def scim(run: Cli, client: TestClient) -> ScimClient:
    """Tenant acme (made with the CLI) and its IdP."""
    run("tenant", "create", "acme")
    token = run.json("token", "create", "acme", "--json")["token"]
    return ScimClient(client, "acme", token)
