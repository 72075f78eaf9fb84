"""``scimgate worker``: a real delivery and a redelivery, and the loop's time limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.service.users import create_user
from scimgate.storage.database import Database
from tests.cli.conftest import Cli
from tests.events.receiver import Receiver


@pytest.fixture
def run(run: Cli) -> Cli:
    """The runner, with tenant acme made."""
    run("tenant", "create", "acme")
    return run


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def test_the_worker_delivers_and_redelivers(run: Cli, db: Database, receiver: Receiver) -> None:
    added = run.json(
        "webhook", "add", "acme", "--url", receiver.url, "--events", "user.created", "--json"
    )
    receiver.secret = added["secret"]
    scope = TenantScope.of(db, get_tenant(db, "acme"), "https://scim.example.test", Limits())
    create_user(scope, {"userName": "alice@example.com"})

    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "1 delivery attempt(s)" in result.stdout
    (delivered,) = run.json("webhook", "deliveries", "acme", added["id"], "--json")
    assert delivered["status"] == "delivered"
    assert delivered["eventType"] == "user.created"
    assert delivered["attempts"] == 1
    assert receiver.ids == [delivered["eventId"]]

    queued = run.json("webhook", "redeliver", "acme", added["id"], delivered["eventId"], "--json")
    assert queued["status"] == "pending"
    assert run("worker", "--once").exit_code == 0
    assert receiver.ids == [delivered["eventId"]] * 2
    statuses = run.json(
        "webhook", "deliveries", "acme", added["id"], "--status", "delivered", "--json"
    )
    assert len(statuses) == 2


def test_the_worker_loop_stops_after_max_seconds(run: Cli) -> None:
    result = run("worker", "--poll-interval", "0.05", "--max-seconds", "0.2")
    assert result.exit_code == 0, result.output
