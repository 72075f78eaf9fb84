"""Console fixtures: an https test client (the session cookie is Secure) and admin accounts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.service import admins
from scimgate.service.tenants import get_tenant
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def console(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def make_admin(db: Database) -> Callable[..., AdminAccount]:
    def make(email: str, slug: str | None = None) -> AdminAccount:
        tenant = get_tenant(db, slug) if slug else None
        return admins.create_admin(db, email, PASSWORD, tenant)

    return make


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in; returns the CSRF token of the signed-in session."""
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login", data={"email": email, "password": password, "csrf": token}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/admin/", follow_redirects=True).text)
