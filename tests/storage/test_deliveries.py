"""The worker's queue: leases, progress under a lease, and the settled seq."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from scimgate.storage.tables import events
from tests.egress import LOOPBACK
from tests.keyring import WEBHOOK_KEYRING

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _hook(db: Database, slug: str) -> str:
    return webhook_service.create_webhook(
        db,
        get_tenant(db, slug),
        "http://127.0.0.1:9/hooks",
        keyring=WEBHOOK_KEYRING,
        egress=LOOPBACK,
    ).webhook.id


def _insert_events(
    db: Database, tenant_id: int, seqs_and_times: list[tuple[int, datetime]]
) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            events.insert(),
            [
                {
                    "seq": seq,
                    "id": str(uuid.uuid4()),
                    "tenant_id": tenant_id,
                    "type": "user.updated",
                    "occurred_at": at,
                    "resource_type": "User",
                    "resource_id": "u",
                    "data": {},
                }
                for seq, at in seqs_and_times
            ],
        )


def test_a_claimed_webhook_cannot_be_claimed_again_until_its_lease_ends(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    hook = _hook(db, "acme")
    with db.directory(write=True) as directory:
        assert directory.deliveries.claim(hook, "a", T0, T0 + timedelta(seconds=30)) is not None
        assert directory.deliveries.claim(hook, "b", T0 + timedelta(seconds=29), T0) is None
        later = T0 + timedelta(seconds=31)
        taken = directory.deliveries.claim(hook, "b", later, later + timedelta(seconds=30))
    assert taken is not None
    assert WEBHOOK_KEYRING.open(taken.secret).startswith("whsec_")


def test_a_worker_that_lost_its_lease_cannot_move_the_cursor(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    hook = _hook(db, "acme")
    with db.directory(write=True) as directory:
        queue = directory.deliveries
        queue.claim(hook, "a", T0, T0 + timedelta(seconds=30))
        queue.claim(hook, "b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
        assert not queue.advance(hook, "a", 99, T0 + timedelta(minutes=3))
        assert not queue.extend(hook, "a", T0 + timedelta(minutes=3))
        queue.release(hook, "a")  # a no-op: "b" holds it
        assert queue.claim(hook, "c", T0 + timedelta(minutes=1), T0) is None
        assert queue.advance(hook, "b", 7, T0 + timedelta(minutes=3))
    assert webhook_service.get_webhook(db, get_tenant(db, "acme"), hook).cursor_seq == 7


def test_a_webhook_in_backoff_is_not_a_candidate(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    hook = _hook(db, "acme")
    with db.directory(write=True) as directory:
        queue = directory.deliveries
        queue.claim(hook, "a", T0, T0 + timedelta(seconds=30))
        queue.postpone(hook, "a", 1, T0 + timedelta(minutes=5), "HTTP 500")
        queue.release(hook, "a")
        assert [c.id for c in queue.candidates(T0 + timedelta(minutes=4))] == []
        assert queue.claim(hook, "b", T0 + timedelta(minutes=4), T0) is None
        assert [c.id for c in queue.candidates(T0 + timedelta(minutes=5))] == [hook]


def test_the_settled_seq_stops_below_a_young_hole(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant("acme")
    _insert_events(db, tenant.id, [(1, T0), (2, T0), (3, T0), (5, T0), (6, T0)])
    with db.directory() as directory:
        queue = directory.deliveries
        # seq 4 may belong to a transaction that has not committed yet
        assert queue.settled_through(0, T0 - timedelta(seconds=1), 100) == (3, False)
        # ... until the event after the hole is older than the gap timeout
        assert queue.settled_through(3, T0 + timedelta(seconds=1), 100) == (6, False)


def test_the_settled_seq_advances_a_page_at_a_time(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant("acme")
    _insert_events(db, tenant.id, [(n, T0) for n in range(1, 6)])
    with db.directory() as directory:
        assert directory.deliveries.settled_through(0, T0, 2) == (2, True)
        assert directory.deliveries.settled_through(2, T0, 2) == (4, True)
        assert directory.deliveries.settled_through(4, T0, 2) == (5, False)


def test_skipping_idle_cursors_leaves_a_leased_webhook_alone(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    idle, leased = _hook(db, "acme"), _hook(db, "acme")
    with db.directory(write=True) as directory:
        directory.deliveries.claim(leased, "a", T0, T0 + timedelta(seconds=30))
        directory.deliveries.skip_idle([(idle, 0), (leased, 0)], 40, T0)
    assert webhook_service.get_webhook(db, get_tenant(db, "acme"), idle).cursor_seq == 40
    assert webhook_service.get_webhook(db, get_tenant(db, "acme"), leased).cursor_seq == 0
