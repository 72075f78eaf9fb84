"""/metrics, the request id and the JSON access log."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.observability import JsonFormatter, _request_id
from scimgate.service import setup_links
from scimgate.service import webhooks as webhook_service
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.egress import public_dns
from tests.keyring import WEBHOOK_KEYRING

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def acme_headers(
    make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> dict[str, str]:
    make_tenant("acme")
    return {"Authorization": f"Bearer {make_token('acme').secret}", "User-Agent": "Okta SCIM"}


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The sum of the samples of ``name`` whose labels include ``labels``; None if none."""
    values = []
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            values.append(float(line.rsplit(" ", 1)[1]))
    return sum(values) if values else None


def test_requests_are_counted_by_tenant_idp_and_outcome(
    client: TestClient, acme_headers: dict[str, str]
) -> None:
    client.post(
        "/scim/v2/acme/Users", json={"schemas": [USER], "userName": "a"}, headers=acme_headers
    )
    client.get("/scim/v2/acme/Users/missing", headers=acme_headers)
    client.get("/scim/v2/invented-tenant/Users")
    text = client.get("/metrics").text
    created = _sample(text, "scimgate_requests_total", tenant="acme", idp="okta", outcome="2xx")
    assert created == 1.0
    # A refused or unknown tenant never becomes a label value of its own.
    assert "invented-tenant" not in text
    assert _sample(text, "scimgate_requests_total", tenant="-", outcome="4xx") == 2.0
    assert _sample(text, "scimgate_request_duration_seconds_count", surface="scim", outcome="2xx")


async def _attributed_to_sailpoint(request: Request) -> Response:
    request.state.scim_idp = "sailpoint"
    return PlainTextResponse("ok")


def test_the_idp_is_the_one_the_scim_layer_detected(app: Starlette) -> None:
    """The access log and the metrics take the SCIM layer's guess rather than guessing again."""
    app.router.routes.insert(0, Route("/scim/v2/{tenant}/probe", _attributed_to_sailpoint))
    with TestClient(app) as http:
        http.get("/scim/v2/acme/probe", headers={"User-Agent": "Okta SCIM"})
        text = http.get("/metrics").text
    assert _sample(text, "scimgate_requests_total", tenant="acme", idp="sailpoint") == 1.0
    assert _sample(text, "scimgate_requests_total", idp="okta") is None


def test_an_unrouted_scim_request_is_still_attributed(
    client: TestClient, acme_headers: dict[str, str]
) -> None:
    refused = client.delete("/scim/v2/acme/ServiceProviderConfig", headers=acme_headers)
    assert refused.status_code == 405
    text = client.get("/metrics").text
    assert _sample(text, "scimgate_requests_total", tenant="acme", idp="okta", outcome="4xx")


def test_pool_figures_and_the_webhook_backlog_are_reported(
    client: TestClient, db: Database, acme_headers: dict[str, str]
) -> None:
    hook = webhook_service.create_webhook(
        db,
        get_tenant(db, "acme"),
        "https://receiver.example.test/hook",
        keyring=WEBHOOK_KEYRING,
        egress=public_dns("receiver.example.test"),
    )
    for name in ("a", "b"):
        body = {"schemas": [USER], "userName": name}
        client.post("/scim/v2/acme/Users", json=body, headers=acme_headers)
    text = client.get("/metrics").text
    backlog = _sample(text, "scimgate_webhook_backlog_events", webhook=hook.webhook.id)
    assert backlog is not None
    assert backlog >= 2
    assert re.search(r"^scimgate_db_pool_checked_out \d", text, re.MULTILINE)


def test_a_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = [
        client.get("/healthz", headers={"X-Request-Id": "bad id;" * 30}).headers["x-request-id"]
        for _ in range(3)
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", made_id) for made_id in made)
    assert len(set(made)) == 3


def test_the_access_log_carries_the_request_id_and_never_the_credentials(
    client: TestClient, acme_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scimgate.access")
    client.get(
        "/scim/v2/acme/Users?filter=userName%20eq%20%22secret-person%22",
        headers={**acme_headers, "X-Request-Id": "req-42"},
    )
    formatter = JsonFormatter()
    token = _request_id.set("req-42")
    try:
        lines = [formatter.format(r) for r in caplog.records if r.name == "scimgate.access"]
    finally:
        _request_id.reset(token)
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "req-42"
    assert (entry["path"], entry["status"], entry["tenant"]) == ("/scim/v2/acme/Users", 200, "acme")
    secret = acme_headers["Authorization"].split()[1]
    assert all(secret not in line and "secret-person" not in line for line in lines)


def test_json_lines_hold_the_exception(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("now",), None)
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed now"
    assert "ValueError: boom" in entry["exception"]


def test_the_access_log_keeps_only_the_prefix_of_a_setup_link(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    caplog: pytest.LogCaptureFixture,
) -> None:
    issued = setup_links.create_link(db, make_tenant("acme"))
    caplog.set_level(logging.INFO, logger="scimgate.access")
    assert client.get(f"/setup/{issued.secret}").status_code == 200
    [entry] = [r for r in caplog.records if r.name == "scimgate.access"]
    assert entry.path == f"/setup/{issued.link.prefix}…"  # type: ignore[attr-defined]
    assert issued.secret[12:] not in JsonFormatter().format(entry)
