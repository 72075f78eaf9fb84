"""``scimgate webhook ...`` and ``scimgate worker``: JSON shapes, errors, a real delivery."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scimgate import cli
from scimgate.cli import main
from scimgate.config import Settings
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.service.users import create_user
from scimgate.storage.database import Database
from tests.events.receiver import Receiver

URL = "https://app.example.com/hooks"


@pytest.fixture
def run(database_url: str) -> Any:
    runner = CliRunner()
    env = {
        "SCIMGATE_DATABASE_URL": database_url,
        "SCIMGATE_PUBLIC_URL": "https://scim.example.test",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    invoke("tenant", "create", "acme")
    return invoke


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_webhook_add_prints_the_secret_once(run: Any) -> None:
    added = _json(
        run("webhook", "add", "acme", "--url", URL, "--events", "user.deactivated", "--json")
    )
    assert added["secret"].startswith("whsec_")
    assert added["tenant"] == "acme"
    assert added["event_types"] == ["user.deactivated"]
    assert added["url"] == URL
    listed = _json(run("webhook", "list", "acme", "--json"))
    assert [w["id"] for w in listed] == [added["id"]]
    assert "secret" not in listed[0]
    assert added["secret"] not in run("webhook", "list", "acme").stdout


def test_webhook_remove_deletes_it(run: Any) -> None:
    added = _json(run("webhook", "add", "acme", "--url", URL, "--json"))
    result = run("webhook", "remove", "acme", added["id"])
    assert result.exit_code == 0
    assert _json(run("webhook", "list", "acme", "--json")) == []


def test_global_webhooks_take_no_slug(run: Any) -> None:
    added = _json(run("webhook", "add", "--global", "--url", URL, "--json"))
    assert added["tenant"] is None
    assert [w["id"] for w in _json(run("webhook", "list", "--global", "--json"))] == [added["id"]]
    assert _json(run("webhook", "list", "acme", "--json")) == []
    assert run("webhook", "remove", "--global", added["id"]).exit_code == 0
    assert _json(run("webhook", "list", "--global", "--json")) == []


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
    run: Any, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_worker_delivers_and_redelivers(run: Any, db: Database, receiver: Receiver) -> None:
    added = _json(
        run("webhook", "add", "acme", "--url", receiver.url, "--events", "user.created", "--json")
    )
    receiver.secret = added["secret"]
    scope = TenantScope.of(db, get_tenant(db, "acme"), "https://scim.example.test", Limits())
    create_user(scope, {"userName": "alice@example.com"})

    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "1 delivery attempt(s)" in result.stdout
    (delivered,) = _json(run("webhook", "deliveries", "acme", added["id"], "--json"))
    assert delivered["status"] == "delivered"
    assert delivered["event_type"] == "user.created"
    assert delivered["attempts"] == 1
    assert receiver.ids == [delivered["event_id"]]

    queued = _json(
        run("webhook", "redeliver", "acme", added["id"], delivered["event_id"], "--json")
    )
    assert queued["status"] == "pending"
    assert run("worker", "--once").exit_code == 0
    assert receiver.ids == [delivered["event_id"]] * 2
    statuses = _json(
        run("webhook", "deliveries", "acme", added["id"], "--status", "delivered", "--json")
    )
    assert len(statuses) == 2


def test_the_worker_loop_stops_after_max_seconds(run: Any) -> None:
    result = run("worker", "--poll-interval", "0.05", "--max-seconds", "0.2")
    assert result.exit_code == 0, result.output


def test_serve_with_worker_turns_the_worker_on(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    monkeypatch.setattr(cli, "_serve", lambda settings, *args: served.append(settings))
    monkeypatch.delenv("SCIMGATE_RUN_WORKER", raising=False)  # restored after the test
    assert run("serve").exit_code == 0
    assert run("serve", "--with-worker", "--workers", "2").exit_code == 0
    assert [s.run_worker for s in served] == [False, True]
    # processes started by --workers read the environment
    assert os.environ["SCIMGATE_RUN_WORKER"] == "1"
