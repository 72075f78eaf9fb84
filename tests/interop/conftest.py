"""Fixtures for the interop suites: one tenant and its token, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from tests.interop.client import IdpClient
from tests.interop.replay import Replayer

BASE = "/scim/v2/acme"


@pytest.fixture
def acme_token(make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]) -> str:
    """Tenant ``acme`` (created here) and a fresh token of it."""
    make_tenant("acme")
    return make_token("acme").secret


@pytest.fixture
def replayer(client: TestClient, acme_token: str) -> Replayer:
    return Replayer(client, BASE, acme_token)


@pytest.fixture
def okta(client: TestClient, acme_token: str) -> IdpClient:
    """Tenant ``acme`` as Okta calls it."""
    headers = {"User-Agent": "Okta SCIM Client 1.0.0", "Content-Type": "application/scim+json"}
    return IdpClient(client, BASE, acme_token, headers)


@pytest.fixture
def postman(client: TestClient, acme_token: str) -> IdpClient:
    """Tenant ``acme`` as Microsoft's reference Postman collection calls it."""
    return IdpClient(client, BASE, acme_token, {"Content-Type": "application/json"})
