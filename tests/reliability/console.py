"""Admin console helpers for the reliability suite: an https client, accounts, signing in."""

from __future__ import annotations

import re

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.storage.tables import Base

PASSWORD = "correct horse battery"
CSRF_REFUSAL = "did not come from this console"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def console_client(app: Starlette) -> TestClient:
    """A client of ``app`` on https (the session cookie is Secure); redirects are not followed."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str) -> str:
    """Log in; returns the CSRF token of the signed-in session."""
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login", data={"email": email, "password": PASSWORD, "csrf": token}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/admin/", follow_redirects=True).text)


def forged(token: str) -> str:
    """A different token of the same length and alphabet (the last character changed)."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def snapshot(engine: sa.Engine) -> dict[str, list[str]]:
    """Every row of every table, in a stable order: equal snapshots mean nothing changed."""
    with engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in Base.metadata.sorted_tables
        }
