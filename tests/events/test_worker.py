"""Delivery over real HTTP: events produced by SCIM requests reach a local receiver."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from scimgate.service import webhooks as webhook_service
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.events.conftest import MakeWorker, drive, new_user, outbox, subscribe, wait_for
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _deactivate(scim: ScimClient, user_id: str) -> None:
    response = scim.patch(
        f"/Users/{user_id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert response.status_code == 200, response.text


def test_events_arrive_signed_and_in_order(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    created = subscribe(db, receiver, "acme")
    acme = get_tenant(db, "acme")
    alice = new_user(scim, "alice@example.com")
    group = scim.post("/Groups", {"displayName": "Engineering", "members": [{"value": alice}]})
    assert group.status_code == 201
    _deactivate(scim, alice)
    expected = outbox(db, get_tenant(db, "acme").id)
    assert {"user.created", "group.member_added", "user.deactivated"} <= {e.type for e in expected}

    drive(make_worker(), lambda: len(receiver.accepted) >= len(expected))

    assert receiver.rejected == []
    assert receiver.ids == [e.id for e in expected]
    first = receiver.accepted[0]
    assert first["tenant"] == "acme"
    assert first["type"] == "user.created"
    assert first["resourceType"] == "User"
    assert first["resourceId"] == alice
    assert first["data"]["user"]["userName"] == "alice@example.com"
    # Receivers dedupe by webhook-id: it is the event's id.
    assert [h["webhook-id"] for h in receiver.headers] == receiver.ids
    delivered = webhook_service.list_deliveries(db, acme, created.webhook.id)
    assert {d.status for d in delivered} == {"delivered"}
    assert len(delivered) == len(expected)
    assert webhook_service.get_webhook(db, acme, created.webhook.id).cursor_seq == max(
        e.seq for e in expected
    )


def test_a_receiver_that_is_down_gets_everything_later_in_order(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    created = subscribe(db, receiver, "acme")
    acme = get_tenant(db, "acme")
    receiver.stop()
    for n in range(4):
        new_user(scim, f"user{n}@example.com")
    worker = make_worker()

    drive(worker, lambda: webhook_service.get_webhook(db, acme, created.webhook.id).attempts >= 3)
    down = webhook_service.get_webhook(db, acme, created.webhook.id)
    assert down.last_error is not None
    assert "Connect" in down.last_error
    assert down.next_attempt_at is not None
    assert receiver.requests == 0

    receiver.start()
    expected = [e.id for e in outbox(db, get_tenant(db, "acme").id)]
    drive(worker, lambda: len(set(receiver.ids)) >= len(expected))

    # At least once: duplicates would be allowed, loss and reordering are not.
    assert list(dict.fromkeys(receiver.ids)) == expected
    assert webhook_service.list_deliveries(db, acme, created.webhook.id, status="failed") == []
    assert webhook_service.get_webhook(db, acme, created.webhook.id).attempts == 0


def test_after_max_attempts_the_event_is_failed_and_the_cursor_moves_on(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    created = subscribe(db, receiver, "acme", "user.created")
    acme = get_tenant(db, "acme")
    hook = created.webhook.id
    receiver.fail_with = 500
    new_user(scim, "first@example.com")
    worker = make_worker(max_attempts=3)

    drive(worker, lambda: bool(webhook_service.list_deliveries(db, acme, hook, status="failed")))
    (failed,) = webhook_service.list_deliveries(db, acme, hook, status="failed")
    assert failed.attempts == 3
    assert failed.last_status_code == 500
    assert failed.event_type == "user.created"
    assert failed.event_id == outbox(db, get_tenant(db, "acme").id, ("user.created",))[0].id
    assert receiver.requests == 3

    receiver.fail_with = None
    second = new_user(scim, "second@example.com")
    drive(worker, lambda: len(receiver.accepted) >= 1)
    assert [p["resourceId"] for p in receiver.accepted] == [second]
    assert webhook_service.get_webhook(db, acme, hook).attempts == 0


def test_a_redelivery_sends_a_failed_event_again(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    created = subscribe(db, receiver, "acme", "user.created")
    acme = get_tenant(db, "acme")
    hook = created.webhook.id
    receiver.fail_with = 503
    new_user(scim, "lost@example.com")
    worker = make_worker(max_attempts=2)
    drive(worker, lambda: bool(webhook_service.list_deliveries(db, acme, hook, status="failed")))
    (failed,) = webhook_service.list_deliveries(db, acme, hook, status="failed")

    receiver.fail_with = None
    queued = webhook_service.redeliver(db, acme, hook, failed.event_id)
    assert queued.status == "pending"
    drive(worker, lambda: len(receiver.accepted) >= 1)

    assert receiver.ids == [failed.event_id]
    statuses = {d.id: d.status for d in webhook_service.list_deliveries(db, acme, hook)}
    assert statuses[queued.id] == "delivered"
    assert statuses[failed.id] == "failed"


def test_two_workers_never_deliver_to_one_receiver_at_once(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    subscribe(db, receiver, "acme")
    for n in range(8):
        new_user(scim, f"user{n}@example.com")
    expected = [e.id for e in outbox(db, get_tenant(db, "acme").id)]
    receiver.delay = 0.005  # long enough for a second sender to overlap, were there one
    workers = [make_worker(batch_size=3), make_worker(batch_size=3)]
    threads = [threading.Thread(target=w.run, kwargs={"max_seconds": 20}) for w in workers]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(receiver.accepted) >= len(expected))
    finally:
        for w in workers:
            w.stop()
        for thread in threads:
            thread.join(10)

    assert receiver.max_in_flight == 1
    assert Counter(receiver.ids) == Counter(expected)  # each exactly once
    assert receiver.ids == expected


def test_a_slow_receiver_does_not_slow_scim_requests(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    subscribe(db, receiver, "acme", "user.created")
    new_user(scim, "first@example.com")
    receiver.hold.clear()  # the receiver takes its time with every request
    worker = make_worker()
    thread = threading.Thread(target=worker.run, kwargs={"max_seconds": 30})
    thread.start()
    try:
        assert receiver.arrived.wait(10), "the worker never reached the receiver"
        started = time.monotonic()
        second = new_user(scim, "second@example.com")
        elapsed = time.monotonic() - started
        # The change and its event committed while the worker waited on the receiver.
        assert second in {e.resource_id for e in outbox(db, get_tenant(db, "acme").id)}
        assert receiver.accepted == []
        receiver.hold.set()
        wait_for(lambda: len(receiver.accepted) >= 2)
    finally:
        receiver.hold.set()
        worker.stop()
        thread.join(10)
    # SQLite waits up to 5 s for a writer lock: well under that means no lock was held.
    assert elapsed < 1.0
    assert [p["resourceId"] for p in receiver.accepted][1] == second


def test_a_tenant_webhook_gets_only_its_tenant_and_a_global_one_gets_all(
    db: Database,
    scim: ScimClient,
    make_scim: Callable[[str], ScimClient],
    make_worker: MakeWorker,
) -> None:
    tenant_receiver, global_receiver = Receiver().start(), Receiver().start()
    try:
        globex = make_scim("globex")
        subscribe(db, tenant_receiver, "acme", "user.created")
        subscribe(db, global_receiver, None, "user.created")
        new_user(scim, "a@acme.example")
        new_user(globex, "g@globex.example")
        drive(make_worker(), lambda: len(global_receiver.accepted) >= 2)
        assert [p["tenant"] for p in tenant_receiver.accepted] == ["acme"]
        assert [p["tenant"] for p in global_receiver.accepted] == ["acme", "globex"]
    finally:
        tenant_receiver.stop()
        global_receiver.stop()


def test_a_webhook_gets_only_the_types_it_asked_for(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    created = subscribe(db, receiver, "acme", "user.deactivated")
    acme = get_tenant(db, "acme")
    user_id = new_user(scim, "leaver@example.com")
    new_user(scim, "stayer@example.com")
    _deactivate(scim, user_id)
    worker = make_worker()

    drive(worker, lambda: len(receiver.accepted) >= 1)
    worker.run_once()

    assert [p["type"] for p in receiver.accepted] == ["user.deactivated"]
    assert receiver.accepted[0]["data"]["reason"] == "idp_deactivated"
    newest = outbox(db, get_tenant(db, "acme").id)[-1].seq
    assert webhook_service.get_webhook(db, acme, created.webhook.id).cursor_seq == newest


def test_a_new_webhook_does_not_receive_older_events(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    new_user(scim, "before@example.com")
    subscribe(db, receiver, "acme", "user.created")
    after = new_user(scim, "after@example.com")
    drive(make_worker(), lambda: len(receiver.accepted) >= 1)
    assert [p["resourceId"] for p in receiver.accepted] == [after]
