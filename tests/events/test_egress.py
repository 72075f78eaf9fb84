"""Delivery checks the address it connects to: DNS rebinding reaches nothing internal."""

from __future__ import annotations

from ipaddress import ip_network

from scimgate.events.delivery import Sender
from scimgate.service import webhooks as webhook_service
from scimgate.service.egress import EgressPolicy
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.egress import PUBLIC_ADDRESS, FakeDns
from tests.events.conftest import MakeWorker, drive, new_user
from tests.events.receiver import Receiver
from tests.keyring import WEBHOOK_KEYRING
from tests.scim.contract import ScimClient


def _rebound_url(receiver: Receiver) -> str:
    return f"http://rebind.test:{receiver.port}/hooks"


def _subscribe_while_public(db: Database, receiver: Receiver) -> str:
    """A webhook on ``rebind.test``, which resolves to a public address when it is added."""
    created = webhook_service.create_webhook(
        db,
        get_tenant(db, "acme"),
        _rebound_url(receiver),
        "user.created",
        keyring=WEBHOOK_KEYRING,
        egress=EgressPolicy(resolve=FakeDns({"rebind.test": [PUBLIC_ADDRESS]})),
    )
    receiver.secret = created.secret
    return created.webhook.id


def test_a_name_rebound_to_loopback_is_refused_at_delivery_and_recorded_as_failed(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    webhook_id = _subscribe_while_public(db, receiver)
    new_user(scim, "alice@example.com")
    rebound = FakeDns({"rebind.test": ["127.0.0.1"]})
    worker = make_worker(max_attempts=2, egress=EgressPolicy(resolve=rebound))
    acme = get_tenant(db, "acme")

    def failed() -> bool:
        return bool(webhook_service.list_deliveries(db, acme, webhook_id, status="failed"))

    drive(worker, failed)
    (delivery,) = webhook_service.list_deliveries(db, acme, webhook_id)
    assert delivery.status == "failed"
    assert delivery.attempts == 2
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert delivery.last_error.startswith(
        "refused: webhook host rebind.test resolves to a loopback address 127.0.0.1"
    )
    assert "rebind.test" in rebound.asked
    assert receiver.requests == 0


def test_a_delivery_connects_to_the_checked_address_and_keeps_the_host_header(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    """The same rebound name, with the receiver's address let through: it arrives by name."""
    webhook_id = _subscribe_while_public(db, receiver)
    new_user(scim, "alice@example.com")
    policy = EgressPolicy(
        allowed_networks=(ip_network("127.0.0.1/32"),),
        resolve=FakeDns({"rebind.test": ["127.0.0.1"]}),
    )
    worker = make_worker(egress=policy)
    drive(worker, lambda: len(receiver.accepted) == 1)
    assert receiver.headers[0]["host"] == f"rebind.test:{receiver.port}"
    acme = get_tenant(db, "acme")
    (delivery,) = webhook_service.list_deliveries(db, acme, webhook_id)
    assert delivery.status == "delivered"


def test_a_webhook_added_while_allowed_is_refused_by_a_worker_that_is_not(
    db: Database,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    allowing = EgressPolicy(allow_private=True)
    created = webhook_service.create_webhook(
        db,
        get_tenant(db, "acme"),
        receiver.url,
        "user.created",
        keyring=WEBHOOK_KEYRING,
        egress=allowing,
    )
    new_user(scim, "alice@example.com")
    worker = make_worker(max_attempts=1, egress=EgressPolicy())
    acme = get_tenant(db, "acme")
    drive(
        worker,
        lambda: bool(webhook_service.list_deliveries(db, acme, created.webhook.id)),
    )
    (delivery,) = webhook_service.list_deliveries(db, acme, created.webhook.id)
    assert delivery.status == "failed"
    assert delivery.last_error is not None
    assert "is a loopback address 127.0.0.1" in delivery.last_error
    assert receiver.requests == 0


def test_the_sender_refuses_a_metadata_address_before_connecting() -> None:
    dns = FakeDns({"metadata.test": ["169.254.169.254"]})
    sender = Sender(timeout=1.0, egress=EgressPolicy(resolve=dns))
    try:
        outcome = sender.send("http://metadata.test/latest/meta-data/", "{}", {})
    finally:
        sender.close()
    assert not outcome.ok
    assert outcome.status_code is None
    assert outcome.error == (
        "refused: webhook host metadata.test resolves to a link-local address 169.254.169.254;"
        " set SCIMGATE_WEBHOOK_ALLOW_PRIVATE=1 or SCIMGATE_WEBHOOK_ALLOWED_CIDRS"
        " for an internal receiver"
    )
    assert dns.asked == ["metadata.test"]


def test_the_sender_refuses_a_loopback_receiver_by_default(receiver: Receiver) -> None:
    sender = Sender(timeout=1.0)
    try:
        refused = sender.send(receiver.url, "{}", {})
    finally:
        sender.close()
    assert not refused.ok
    assert refused.error is not None
    assert refused.error.startswith("refused: webhook host 127.0.0.1 is a loopback address")
    assert receiver.requests == 0
