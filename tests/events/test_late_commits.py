"""Out-of-order commits on PostgreSQL: an event whose seq is lower but commits later.

SQLite runs one writer at a time, so there seq order is commit order and
these situations cannot arise.
"""

from __future__ import annotations

import pytest

from scimgate.service.clock import utcnow
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from scimgate.storage.events import EventStore, NewEvent
from tests.events.conftest import MakeWorker, drive, new_user, outbox, subscribe
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient


@pytest.fixture
def postgres_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite commits in seq order (one writer at a time)")


def _late_event(user_id: str) -> NewEvent:
    return NewEvent("user.updated", "User", user_id, {"user": {"id": user_id}})


@pytest.mark.usefixtures("postgres_only")
def test_an_event_that_commits_late_is_delivered_before_the_later_ones(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    subscribe(db, receiver, "acme")
    tenant = get_tenant(db, "acme")
    worker = make_worker(gap_seconds=60)
    with db.engine.connect() as conn:
        slow = conn.begin()
        EventStore(conn, tenant.id).add([_late_event("late")], utcnow())  # takes the next seq
        new_user(scim, "quick@example.com")  # takes higher seqs and commits first
        worker.run_once()
        worker.run_once()
        # Delivering "quick" now would move the cursor past the late event's seq.
        assert receiver.accepted == []
        slow.commit()
    expected = outbox(db, tenant.id)
    assert expected[0].resource_id == "late"

    drive(worker, lambda: len(receiver.accepted) >= len(expected))
    assert receiver.ids == [e.id for e in expected]


@pytest.mark.usefixtures("postgres_only")
def test_a_hole_left_by_a_rollback_is_passed_once_it_is_old(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    subscribe(db, receiver, "acme")
    tenant = get_tenant(db, "acme")
    with db.engine.connect() as conn:
        doomed = conn.begin()
        EventStore(conn, tenant.id).add([_late_event("never")], utcnow())
        new_user(scim, "kept@example.com")
        doomed.rollback()
    patient = make_worker(gap_seconds=60)
    patient.run_once()
    assert receiver.accepted == []  # the hole is young: it might still be filled

    expected = outbox(db, tenant.id)
    drive(make_worker(gap_seconds=0.01), lambda: len(receiver.accepted) >= len(expected))
    assert receiver.ids == [e.id for e in expected]
