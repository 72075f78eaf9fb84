"""connection.degraded and connection.recovered, from failing SCIM traffic to a signed webhook.

The traffic is real requests through the SCIM endpoint; the worker's
housekeeping runs the connection check and its delivery loop sends the event
to the receiver, which verifies the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.audit import AuditRecorder
from scimgate.service.clock import utcnow
from scimgate.service.connection_health import check_connections
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.events.conftest import MakeWorker, drive, outbox, subscribe
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient

DEGRADED = "connection.degraded"
RECOVERED = "connection.recovered"
OKTA = {"User-Agent": "Okta SCIM Client 1.0.0"}


def _flush(client: TestClient) -> None:
    recorder: AuditRecorder = client.app.state.audit_recorder  # type: ignore[attr-defined]
    recorder.flush()


def _with_a_revoked_token(client: TestClient, count: int) -> None:
    """Okta calling with a token that was revoked: every request is a 401."""
    for _ in range(count):
        answer = client.get(
            "/scim/v2/acme/Users?startIndex=1&count=2",
            headers={**OKTA, "Authorization": "Bearer sgt_revokedrevokedrevokedrevoked"},
        )
        assert answer.status_code == 401


def _succeeding(scim: ScimClient, count: int) -> None:
    for _ in range(count):
        assert scim.get("/Users?startIndex=1&count=2", headers=OKTA).status_code == 200


def test_a_sustained_failure_is_delivered_once_then_its_recovery(
    db: Database,
    client: TestClient,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    subscribe(db, receiver, "acme", f"{DEGRADED},{RECOVERED}")
    _with_a_revoked_token(client, 12)
    _flush(client)
    worker = make_worker(housekeeping_interval_seconds=0)

    drive(worker, lambda: len(receiver.accepted) == 1)
    event = receiver.accepted[0]
    assert event["type"] == DEGRADED
    assert event["tenant"] == "acme"
    assert (event["resourceType"], event["resourceId"]) == ("Connection", "scim")
    assert event["data"] == {
        "state": "degraded",
        "windowMinutes": 15,
        "requests": 12,
        "failures": 12,
        "failureRatio": 1.0,
    }
    assert not receiver.rejected

    # Still failing: no second event, however often the check runs.
    _with_a_revoked_token(client, 5)
    _flush(client)
    for _ in range(3):
        worker.run_once()
    tenant = get_tenant(db, "acme")
    assert [e.type for e in outbox(db, tenant.id, (DEGRADED, RECOVERED))] == [DEGRADED]

    # The IdP gets the new token: failures drop under a quarter of the requests.
    _succeeding(scim, 60)
    _flush(client)
    drive(worker, lambda: len(receiver.accepted) == 2)
    recovered = receiver.accepted[1]
    assert recovered["type"] == RECOVERED
    assert recovered["data"]["failures"] == 17
    assert recovered["data"]["requests"] == 77


def test_few_failures_or_lookups_that_find_nothing_are_no_degradation(
    db: Database,
    client: TestClient,
    scim: ScimClient,
    make_tenant: Callable[..., Tenant],
) -> None:
    # Twenty GETs of users that do not exist: how IdPs look before they create.
    for number in range(20):
        assert scim.get(f"/Users/missing-{number}", headers=OKTA).status_code == 404
    _flush(client)
    assert check_connections(db, utcnow()) == []
    # Nine refused requests: under the threshold.
    _with_a_revoked_token(client, 9)
    _flush(client)
    assert check_connections(db, utcnow()) == []
    # A tenant with no traffic at all is not looked at, nor written to.
    make_tenant("quiet")
    assert check_connections(db, utcnow() + timedelta(minutes=1)) == []

    # Twenty of forty requests failing: half, degraded.
    _with_a_revoked_token(client, 11)
    _flush(client)
    (change,) = check_connections(db, utcnow())
    assert (change.state, change.failures, change.requests) == ("degraded", 20, 40)


def test_silence_after_a_degradation_is_not_a_recovery(
    db: Database, client: TestClient, scim: ScimClient
) -> None:
    _with_a_revoked_token(client, 10)
    _flush(client)
    assert [c.state for c in check_connections(db, utcnow())] == ["degraded"]
    # An hour later nothing arrives at all: the IdP may have given up.
    assert check_connections(db, utcnow() + timedelta(hours=1)) == []
    tenant = get_tenant(db, "acme")
    assert [e.type for e in outbox(db, tenant.id, (DEGRADED, RECOVERED))] == [DEGRADED]
