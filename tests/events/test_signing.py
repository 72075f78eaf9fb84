"""Event bodies and their Standard Webhooks signatures."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from scimgate.events.signing import event_body, signed_headers
from scimgate.service.webhooks import new_secret
from scimgate.storage.events import StoredEvent

EVENT = StoredEvent(
    seq=7,
    id="5b0c2f4e-8d43-4a39-9a0c-2f7d9e7d1c11",
    tenant_id=1,
    type="user.deactivated",
    occurred_at=datetime(2030, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC),
    resource_type="User",
    resource_id="u1",
    data={"user": {"id": "u1"}, "reason": "left_mapped_groups"},
)


def test_the_body_names_the_event_its_tenant_and_its_resource() -> None:
    assert orjson.loads(event_body(EVENT, "acme")) == {
        "id": EVENT.id,
        "seq": 7,
        "type": "user.deactivated",
        "tenant": "acme",
        "occurredAt": "2030-01-02T03:04:05.600000Z",
        "resourceType": "User",
        "resourceId": "u1",
        "data": {"user": {"id": "u1"}, "reason": "left_mapped_groups"},
    }


def test_a_signed_body_verifies_with_the_reference_library() -> None:
    secret = new_secret()
    body = event_body(EVENT, "acme")
    headers = signed_headers(secret, EVENT.id, body, datetime.now(UTC))
    assert headers["webhook-id"] == EVENT.id
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["id"] == EVENT.id


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    secret = new_secret()
    body = event_body(EVENT, "acme")
    headers = signed_headers(secret, EVENT.id, body, datetime.now(UTC))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("acme", "evil"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_an_unusable_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unusable webhook secret"):
        signed_headers("whsec_", EVENT.id, "{}", datetime.now(UTC))
