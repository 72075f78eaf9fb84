"""``connection.activated`` reaches a webhook subscribed to it, signed, exactly once."""

from __future__ import annotations

from starlette.applications import Starlette

from scimgate.model.lifecycle import CONNECTION_ACTIVATED
from scimgate.service import setup_links
from scimgate.service.setup_links import Visitor
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.events.conftest import MakeWorker, drive, subscribe
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient


def test_a_green_setup_link_is_delivered_as_connection_activated(
    db: Database,
    app: Starlette,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    tenant = get_tenant(db, "acme")
    subscribe(db, receiver, "acme", CONNECTION_ACTIVATED)
    link = setup_links.create_link(db, tenant, "scim").link
    issued = setup_links.issue_token(db, tenant, link, Visitor("192.0.2.1", "test"))
    idp = ScimClient(scim.http, "acme", issued.secret)
    user = idp.make_user()
    idp.make_group("Engineering", [user])
    app.state.audit_recorder.flush()
    assert setup_links.progress(db, tenant, link).done
    assert setup_links.progress(db, tenant, link).done

    drive(make_worker(), lambda: len(receiver.accepted) >= 1)
    [event] = receiver.accepted
    assert event["type"] == CONNECTION_ACTIVATED
    assert event["tenant"] == "acme"
    assert (event["resourceType"], event["resourceId"]) == ("SetupLink", link.id)
    assert event["data"]["setupLink"]["scopes"] == ["scim"]
    assert event["data"]["checks"] == [
        "token_accepted",
        "user_created",
        "group_pushed",
        "member_added",
    ]
    assert receiver.rejected == []
