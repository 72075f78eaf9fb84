"""Fixtures for delivery tests: a real receiver, SCIM clients, workers with tiny backoff."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from scimgate.events.worker import Worker, WorkerOptions
from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.sealing import Keyring
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.events import StoredEvent
from tests.egress import LOOPBACK
from tests.events.receiver import Receiver
from tests.keyring import WEBHOOK_KEYRING
from tests.scim.contract import ScimClient

# Retries within milliseconds, so a test sees many attempts in well under a second.
FAST = WorkerOptions(
    max_attempts=1000,
    backoff_base_seconds=0.005,
    backoff_cap_seconds=0.02,
    timeout_seconds=5.0,
    poll_interval_seconds=0.01,
    gap_seconds=0.3,
    egress=LOOPBACK,
)

MakeWorker = Callable[..., Worker]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


@pytest.fixture
def make_scim(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> Callable[[str], ScimClient]:
    def make(slug: str) -> ScimClient:
        make_tenant(slug)
        return ScimClient(client, slug, make_token(slug).secret)

    return make


@pytest.fixture
def scim(make_scim: Callable[[str], ScimClient]) -> ScimClient:
    """Tenant ``acme``'s SCIM API, served by the app under test."""
    return make_scim("acme")


@pytest.fixture
def make_worker(db: Database) -> Iterator[MakeWorker]:
    made: list[Worker] = []

    def make(keyring: Keyring = WEBHOOK_KEYRING, **overrides: Any) -> Worker:
        worker = Worker(db, replace(FAST, **overrides), keyring=keyring)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()
        worker.close()


def drive(worker: Worker, until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Run worker cycles until ``until()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        if not worker.run_once():
            time.sleep(0.01)


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def outbox(db: Database, tenant_id: int, types: tuple[str, ...] = ()) -> list[StoredEvent]:
    """The tenant's events as committed, oldest first."""
    with db.tenant(tenant_id) as repo:
        return repo.events.after(0, 10_000, list(types) or None)


def subscribe(
    db: Database, receiver: Receiver, slug: str | None, events: str | None = None
) -> webhook_service.CreatedWebhook:
    """A webhook to ``receiver``; the receiver learns the secret to verify with."""
    created = webhook_service.create_webhook(
        db,
        get_tenant(db, slug) if slug is not None else None,
        receiver.url,
        events,
        keyring=WEBHOOK_KEYRING,
        egress=LOOPBACK,
    )
    receiver.secret = created.secret
    return created


def new_user(scim: ScimClient, name: str, **extra: Any) -> str:
    response = scim.post(
        "/Users",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, **extra},
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    assert isinstance(user_id, str)
    return user_id
