"""docs/examples/receiver.py, served by uvicorn, fed by the worker: the how-to cannot rot."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

from scimgate.service import webhooks as webhook_service
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.egress import LOOPBACK
from tests.events.conftest import MakeWorker, drive, new_user, wait_for
from tests.keyring import WEBHOOK_KEYRING
from tests.scim.contract import ScimClient

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "receiver.py"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scimgate_example_receiver", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


example = _load_example()


class Served:
    """The example app for one webhook, on a real port."""

    def __init__(self, db: Database) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/scimgate/events"
        created = webhook_service.create_webhook(
            db, get_tenant(db, "acme"), self.url, keyring=WEBHOOK_KEYRING, egress=LOOPBACK
        )
        self.webhook_id = created.webhook.id
        self.host = example.InMemoryApp()
        app = example.create_receiver(created.secret, self.host)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=5)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def served(db: Database, scim: ScimClient) -> Iterator[Served]:
    found = Served(db)
    found.start()
    yield found
    found.stop()


def _patch(scim: ScimClient, path: str, *operations: dict[str, Any]) -> None:
    response = scim.patch(path, {"schemas": [PATCH_OP], "Operations": list(operations)})
    assert response.status_code in (200, 204), response.text


def test_deactivation_destroys_sessions_and_revokes_tokens(
    db: Database, scim: ScimClient, served: Served, make_worker: MakeWorker
) -> None:
    host = served.host
    alice = new_user(scim, "alice@example.com")
    bob = new_user(scim, "bob@example.com")
    worker = make_worker()
    drive(worker, lambda: alice in host.users and bob in host.users)
    assert host.enabled[alice] is True
    assert host.roles[alice] == ["member"]  # the tenant's default role
    host.sessions.update({alice: {"s1", "s2"}, bob: {"s3"}})
    host.api_tokens.update({alice: {"t1"}, bob: {"t2"}})

    _patch(scim, f"/Users/{alice}", {"op": "replace", "path": "active", "value": False})
    drive(worker, lambda: host.enabled.get(alice) is False)

    assert alice not in host.sessions
    assert alice not in host.api_tokens
    assert host.roles[alice] == []
    assert host.sessions == {bob: {"s3"}}
    assert host.api_tokens == {bob: {"t2"}}


def test_a_redelivered_event_is_applied_once(
    db: Database, scim: ScimClient, served: Served, make_worker: MakeWorker
) -> None:
    host = served.host
    alice = new_user(scim, "alice@example.com")
    worker = make_worker()
    drive(worker, lambda: alice in host.users)
    (first, *_rest) = sorted(
        webhook_service.list_deliveries(db, get_tenant(db, "acme"), served.webhook_id),
        key=lambda d: d.event_seq,
    )
    _patch(scim, f"/Users/{alice}", {"op": "replace", "path": "active", "value": False})
    drive(worker, lambda: host.enabled.get(alice) is False)

    # An old user.created comes again (a redelivery): it must not re-enable alice.
    queued = webhook_service.redeliver(
        db, get_tenant(db, "acme"), served.webhook_id, first.event_id
    )
    delivered = {
        d.id: d.status
        for d in webhook_service.list_deliveries(db, get_tenant(db, "acme"), served.webhook_id)
    }
    drive(worker, lambda: _status(db, served.webhook_id, queued.id) == "delivered")
    assert delivered[queued.id] == "pending"
    assert host.enabled[alice] is False


def _status(db: Database, webhook_id: str, delivery_id: int) -> str:
    for delivery in webhook_service.list_deliveries(db, get_tenant(db, "acme"), webhook_id):
        if delivery.id == delivery_id:
            return delivery.status
    raise AssertionError("no such delivery")


def test_a_request_without_a_valid_signature_is_refused(served: Served) -> None:
    body = b'{"id": "x", "type": "user.deactivated"}'
    headers = {"webhook-id": "x", "webhook-timestamp": "0", "webhook-signature": "v1,AAAA"}
    with httpx.Client() as http:
        assert http.post(served.url, content=body, headers=headers).status_code == 400
        assert http.post(served.url, content=body).status_code == 400
    assert served.host.processed == set()


def test_an_old_event_arriving_after_newer_ones_is_ignored() -> None:
    host = example.InMemoryApp()
    user = {"id": "u1", "userName": "alice@example.com"}

    def event(seq: int, kind: str, **data: Any) -> dict[str, Any]:
        return {
            "id": f"e{seq}",
            "seq": seq,
            "type": kind,
            "resourceType": "User",
            "resourceId": "u1",
            "data": {"user": user, **data},
        }

    example.handle(host, event(7, "user.deactivated", reason="idp_deactivated"))
    example.handle(host, event(3, "user.updated", enabled=True, deactivationReason=None))
    assert host.enabled["u1"] is False
    example.handle(host, event(9, "user.reactivated"))
    assert host.enabled["u1"] is True
