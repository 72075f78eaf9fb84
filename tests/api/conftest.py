"""Fixtures for the host API: API keys, a client for /api/v1, and an IdP speaking SCIM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import api_keys
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.scim.conftest import database_url  # noqa: F401 -- the faster per-test cleanup
from tests.scim.contract import ScimClient

MakeKey = Callable[..., str]


class HostApi:
    """Calls under ``/api/v1`` carrying one API key."""

    def __init__(self, http: TestClient, key: str | None) -> None:
        self.http = http
        self.key = key

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.key is not None:
            headers.setdefault("Authorization", f"Bearer {self.key}")
        return self.http.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> httpx2.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> httpx2.Response:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> httpx2.Response:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> httpx2.Response:
        return self.request("DELETE", path)

    def ok(self, path: str, **params: Any) -> Any:
        """GET that must answer 200; the JSON body."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def created(self, path: str, body: Any) -> Any:
        """POST that must answer 201; the JSON body."""
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        return response.json()


def assert_problem(response: httpx2.Response, status: int, error: str | None = None) -> None:
    """The response is a host-API problem body with this status (and error code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if error is not None:
        assert body["error"] == error, body


@pytest.fixture
def settings(engine: sa.Engine) -> Settings:
    """tests/conftest.py's settings with the event feed's hole gap practically off.

    On PostgreSQL each test's events start above the seqs of the rows earlier
    tests deleted: a hole below young events, which the feed would otherwise
    hold back for the default 30 s (tests/api/test_groups_and_events.py checks
    the gap itself through the service).
    """
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="https://scim.example.test",
        dev_mode=True,
        webhook_gap_seconds=1e-6,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def make_key(db: Database) -> MakeKey:
    """``make_key("acme")``: a key bound to that tenant; ``make_key()``: an operator key."""

    def make(slug: str | None = None, name: str = "Test key") -> str:
        tenant = get_tenant(db, slug) if slug is not None else None
        return api_keys.create_api_key(db, tenant, name).secret

    return make


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme", "Acme Corp")


@pytest.fixture
def api(client: TestClient, acme: Tenant, make_key: MakeKey) -> HostApi:
    """Tenant ``acme``'s host API with a key bound to ``acme``."""
    return HostApi(client, make_key("acme"))


@pytest.fixture
def operator(client: TestClient, make_key: MakeKey) -> HostApi:
    return HostApi(client, make_key())


@pytest.fixture
def scim(client: TestClient, acme: Tenant, make_token: Callable[..., IssuedToken]) -> ScimClient:
    """Tenant ``acme``'s IdP, provisioning through SCIM."""
    return ScimClient(client, "acme", make_token("acme").secret)


@pytest.fixture
def globex_scim(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> ScimClient:
    """Tenant ``globex``'s IdP, whose data must never show up in ``acme``'s API."""
    make_tenant("globex")
    return ScimClient(client, "globex", make_token("globex").secret)
