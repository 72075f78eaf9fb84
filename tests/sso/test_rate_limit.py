"""The per-address limit on the anonymous routes: single sign-on's start, ACS and callback,
and opening a setup link. Past the burst an address gets 429 and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.errors import RateLimited
from scimgate.model.entities import Tenant
from scimgate.service import setup_links, sso
from scimgate.service.ratelimit import TokenBuckets
from scimgate.sso.pages import PAGE_HEADERS
from scimgate.storage.database import Database
from scimgate.storage.tables import audit_log, setup_link_uses, sso_pending
from tests.idps.keys import make_key_pair

HOST = "https://app.example.test/callback"
BURST = 3

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(engine: sa.Engine, db: Database) -> Iterator[MakeClient]:
    """A client of a fresh app from ``address`` (the app's lifespan runs once, with the
    first client); ``settings`` override the defaults of these tests."""
    with ExitStack() as stack:
        apps: dict[str, Any] = {}

        def make(address: str = "192.0.2.10", **settings: Any) -> TestClient:
            if "app" not in apps:
                values: dict[str, Any] = {
                    "database_url": engine.url.render_as_string(hide_password=False),
                    "public_url": "https://scim.example.test",
                    "dev_mode": True,
                    "sso_redirect_uris": HOST,
                    "sso_rate_limit_burst": BURST,
                    **settings,
                }
                apps["app"] = create_app(Settings(**values, _env_file=None), database=db)
                first = TestClient(apps["app"], follow_redirects=False, client=(address, 50000))
                return stack.enter_context(first)
            return TestClient(apps["app"], follow_redirects=False, client=(address, 50000))

        yield make


def _count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _saml_connection(db: Database, tenant: Tenant) -> sso.Connection:
    config = {
        "idp_entity_id": "https://idp.example.test/",
        "idp_sso_url": "https://idp.example.test/sso",
        "idp_certificates": [make_key_pair("idp.example.test").cert_pem],
    }
    return sso.create_connection(db, tenant, {"name": "IdP", "protocol": "saml", "config": config})


def _saml_start(http: TestClient, connection: sso.Connection) -> Any:
    return http.get(
        "/sso/acme/saml/start",
        params={"connection": str(connection.id), "redirect_uri": HOST, "state": "s"},
    )


def test_the_start_past_the_burst_gets_429_and_writes_no_pending_row(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    connection = _saml_connection(db, make_tenant("acme"))
    http = make_client()
    for _ in range(BURST):
        assert _saml_start(http, connection).status_code == 303
    assert _count(db, sso_pending) == BURST
    refused = _saml_start(http, connection)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many sign-in attempts" in refused.text
    for name, value in PAGE_HEADERS.items():
        assert refused.headers[name] == value
    assert _count(db, sso_pending) == BURST


def test_refused_starts_past_the_burst_write_no_audit_row(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    http = make_client()
    bad = {"redirect_uri": "https://evil.test/cb"}
    for _ in range(BURST):
        assert http.get("/sso/acme/start", params=bad).status_code == 403
    assert _count(db, audit_log) == BURST
    assert http.get("/sso/acme/start", params=bad).status_code == 429
    # The IdP's way back is limited too, before it is read.
    assert http.post("/sso/acme/saml/acs", data={"SAMLResponse": "x"}).status_code == 429
    assert http.get("/sso/acme/oidc/callback", params={"state": "x"}).status_code == 429
    assert _count(db, audit_log) == BURST


def test_another_address_keeps_its_own_budget(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    connection = _saml_connection(db, make_tenant("acme"))
    first = make_client("192.0.2.10")
    for _ in range(BURST):
        _saml_start(first, connection)
    assert _saml_start(first, connection).status_code == 429
    assert _saml_start(make_client("192.0.2.11"), connection).status_code == 303


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    connection = _saml_connection(db, make_tenant("acme"))
    proxy = make_client("10.0.0.5", trusted_proxies="10.0.0.0/8")

    def start_for(address: str) -> int:
        proxy.headers["X-Forwarded-For"] = address
        status: int = _saml_start(proxy, connection).status_code
        return status

    for _ in range(BURST):
        assert start_for("198.51.100.7") == 303
    assert start_for("198.51.100.7") == 429
    # Everyone else behind the same proxy still gets through.
    assert start_for("198.51.100.8") == 303


def test_zero_turns_the_limit_off(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    connection = _saml_connection(db, make_tenant("acme"))
    http = make_client(sso_rate_limit_per_minute=0)
    for _ in range(BURST + 2):
        assert _saml_start(http, connection).status_code == 303
    assert _count(db, sso_pending) == BURST + 2


def test_opening_setup_links_past_the_burst_gets_429_and_records_no_use(
    make_client: MakeClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    issued = setup_links.create_link(db, make_tenant("acme"))
    http = make_client()
    for _ in range(BURST):
        assert http.get(f"/setup/{issued.secret}").status_code == 200
    uses = _count(db, setup_link_uses)
    assert uses >= 1
    refused = http.get(f"/setup/{issued.secret}")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert 'data-testid="too-many"' in refused.text
    assert "Content-Security-Policy" in refused.headers
    assert _count(db, setup_link_uses) == uses
    # A guessed secret is refused the same way, without a lookup.
    assert http.get("/setup/sgl_guessed").status_code == 429


def test_the_buckets_hold_at_most_max_keys_addresses() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    limiter = TokenBuckets.per_address(settings, max_keys=4)
    assert limiter is not None
    assert limiter.rate == pytest.approx(1.0)
    assert limiter.capacity == 20
    for n in range(5):
        limiter.acquire(f"192.0.2.{n}")
    assert len(limiter) == 4
    for n in range(100):
        limiter.acquire(f"198.51.100.{n}")
    assert len(limiter) == 4


def test_the_bound_forgets_the_least_recently_seen_address_not_the_busy_one() -> None:
    clock = [1000.0]
    limiter = TokenBuckets(1.0, burst=1, clock=lambda: clock[0], max_keys=2)
    limiter.acquire("a")
    limiter.acquire("b")
    with pytest.raises(RateLimited):
        limiter.acquire("b")
    limiter.acquire("c")  # "a" is the least recently seen: forgotten
    assert len(limiter) == 2
    with pytest.raises(RateLimited):
        limiter.acquire("b")
    limiter.acquire("a")  # forgotten, so full again
