"""The bytes a receiver gets, and their Standard Webhooks signature.

``webhook-id`` is the event's own id, the same on every retry and on a
redelivery, so a receiver that remembers the ids it processed can drop
duplicates (delivery is at least once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks import Webhook

from scimgate.storage.events import StoredEvent
from scimgate.storage.types import format_timestamp


def event_document(event: StoredEvent, tenant_slug: str | None) -> dict[str, Any]:
    """The JSON body of one event (docs/reference/events.md).

    ``seq`` grows with every event (it is also the position in the API's
    event feed), so a receiver can tell a late redelivery of an old event
    from news, and ignore it.
    """
    return {
        "id": event.id,
        "seq": event.seq,
        "type": event.type,
        "tenant": tenant_slug,
        "occurredAt": format_timestamp(event.occurred_at),
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "data": event.data,
    }


def event_body(event: StoredEvent, tenant_slug: str | None) -> str:
    return orjson.dumps(event_document(event, tenant_slug)).decode()


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers plus the content type.

    Raises ValueError when ``secret`` is not a valid ``whsec_`` secret.
    """
    # The signed timestamp is whole seconds; sign exactly what the header says.
    timestamp = datetime.fromtimestamp(int(now.timestamp()), UTC)
    try:
        signature = Webhook(secret).sign(message_id, timestamp, body)
    except Exception as exc:  # the library raises several types for a bad secret
        raise ValueError(f"unusable webhook secret ({type(exc).__name__})") from exc
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
