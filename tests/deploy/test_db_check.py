"""``scimgate db check``: schema version, integrity and counts per tenant, on both databases."""

from __future__ import annotations

import sqlite3

import pytest

from scimgate.storage.migrate import upgrade
from tests.cli.conftest import Cli
from tests.deploy.conftest import BlankDatabase

_HOOK = "http://127.0.0.1:9/hooks"


def _fill(run: Cli) -> None:
    # Loopback receivers are refused unless the operator allows private addresses.
    run.env["SCIMGATE_WEBHOOK_ALLOW_PRIVATE"] = "1"
    run("tenant", "create", "acme")
    run("tenant", "create", "globex")
    run.json("token", "create", "acme", "--json")
    revoked = run.json("token", "create", "acme", "--json")
    run("token", "revoke", "acme", revoked["id"])
    run.json("token", "create", "globex", "--json")
    run.json("webhook", "add", "acme", "--url", _HOOK, "--json")
    run.json("webhook", "add", "--global", "--url", _HOOK, "--json")


def test_a_sound_database_at_head_passes_with_its_counts(migrated_url: str) -> None:
    run = Cli(migrated_url)
    _fill(run)

    found = run.json("db", "check", "--json")

    assert found["ok"] is True
    assert found["schema"]["upgradeDue"] is False
    assert found["schema"]["current"] == found["schema"]["head"]
    assert found["problems"] == []
    assert found["tenants"] == [
        {"slug": "acme", "users": 0, "groups": 0, "liveTokens": 1, "events": 0, "webhooks": 1},
        {"slug": "globex", "users": 0, "groups": 0, "liveTokens": 1, "events": 0, "webhooks": 0},
    ]
    assert found["globalWebhooks"] == 1


def test_the_text_output_names_the_schema_and_each_tenant(migrated_url: str) -> None:
    run = Cli(migrated_url)
    _fill(run)

    result = run("db", "check")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("(head)")
    assert lines[1] == "integrity: ok"
    assert lines[3].split() == ["acme", "0", "0", "1", "0", "1"]


def test_a_database_behind_head_fails_and_asks_for_an_upgrade(
    blank_database: BlankDatabase,
) -> None:
    url = blank_database()
    upgrade(url, "0001")
    run = Cli(url)

    result = run("db", "check")

    assert result.exit_code == 1
    assert "run `scimgate db upgrade`" in result.stdout.splitlines()[0]
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "check").exit_code == 0


def test_a_database_without_the_schema_fails_with_each_missing_table(
    blank_database: BlankDatabase,
) -> None:
    found = Cli(blank_database())("db", "check", "--json")

    assert found.exit_code == 1
    assert "table users is missing" in found.stdout
    assert '"upgradeDue": true' in found.stdout


@pytest.mark.parametrize("blank_database", ["sqlite"], indirect=True)
def test_a_dangling_foreign_key_fails_the_sqlite_check(migrated_url: str) -> None:
    run = Cli(migrated_url)
    _fill(run)
    path = migrated_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO scim_tokens (id, tenant_id, name, prefix, secret_hash, created_at)"
            " VALUES ('orphan', 999, 'orphan', 'x', 'x', '2026-01-01T00:00:00.000000+00:00')"
        )
    conn.close()

    found = run("db", "check", "--json")

    assert found.exit_code == 1
    assert "scim_tokens row" in found.stdout
    assert "refers to a missing tenants row" in found.stdout
