"""`serve --with-worker` (SCIMGATE_RUN_WORKER=1): the worker runs on a thread of the app."""

from __future__ import annotations

import threading
from collections.abc import Callable

from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.events.conftest import new_user, subscribe, wait_for
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient

THREAD = "scimgate-webhook-worker"


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


def test_the_app_delivers_events_when_told_to_run_the_worker(
    settings: Settings,
    db: Database,
    receiver: Receiver,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    make_tenant("acme")
    token = make_token("acme")
    subscribe(db, receiver, "acme", "user.created")
    with_worker = settings.model_copy(
        update={
            "run_worker": True,
            "worker_poll_interval_seconds": 0.01,
            "webhook_allowed_cidrs": "127.0.0.1/32",  # the receiver's address
        }
    )
    with TestClient(create_app(with_worker, database=db)) as http:
        assert len(_worker_threads()) == 1
        user_id = new_user(ScimClient(http, "acme", token.secret), "alice@example.com")
        wait_for(lambda: len(receiver.accepted) >= 1)
    assert _worker_threads() == []  # stopped with the app
    assert receiver.accepted[0]["resourceId"] == user_id


def test_the_app_runs_no_worker_by_default(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert _worker_threads() == []
