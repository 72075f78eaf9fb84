"""Request limits: oversized input is refused with the documented status, and slow or
oversized clients over real HTTP do not stop the server from serving others."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base
from tests.reliability.conftest import (
    assert_scim_error,
    patch_body,
    running_server,
    scaled,
    user_body,
)

LIMITS: dict[str, Any] = {
    "max_body_bytes": 2048,
    "max_filter_length": 100,
    "max_patch_operations": 3,
    "max_bulk_operations": 2,
    "max_results": 3,
}


@pytest.fixture
def limited(
    settings: Settings,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Tenant ``acme`` on an app with small limits, and its auth headers."""
    app = create_app(settings.model_copy(update=LIMITS), database=db)
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    with TestClient(app, raise_server_exceptions=False, base_url="http://t/scim/v2/acme") as http:
        yield http, headers


def test_a_body_over_the_limit_is_413(limited: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = limited
    response = http.post("/Users", json=user_body("big", title="x" * 4000), headers=headers)
    assert_scim_error(response, 413)
    assert http.get("/Users", headers=headers).json()["totalResults"] == 0


@pytest.mark.parametrize(
    "filter_",
    [
        'userName eq "' + "a" * 200 + '"',
        "(" * 300 + "userName pr" + ")" * 300,
        "not (" * 100 + "userName pr" + ")" * 100,
    ],
    ids=["too-long", "too-deep", "too-deep-not"],
)
def test_a_filter_too_long_or_too_deep_is_invalid(
    limited: tuple[TestClient, dict[str, str]], filter_: str
) -> None:
    http, headers = limited
    response = http.get("/Users", params={"filter": filter_}, headers=headers)
    assert_scim_error(response, 400)
    assert response.json()["scimType"] == "invalidFilter"


def test_too_many_patch_operations_is_413(limited: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = limited
    user_id = http.post("/Users", json=user_body("ada"), headers=headers).json()["id"]
    ops = [{"op": "replace", "path": "title", "value": str(i)} for i in range(4)]
    response = http.patch(f"/Users/{user_id}", json=patch_body(*ops), headers=headers)
    assert_scim_error(response, 413)
    assert "title" not in http.get(f"/Users/{user_id}", headers=headers).json()


def test_too_many_bulk_operations_is_413(limited: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = limited
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": str(i), "data": user_body(f"u{i}")}
        for i in range(3)
    ]
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": operations,
    }
    response = http.post("/Bulk", json=body, headers=headers)
    assert_scim_error(response, 413)
    assert http.get("/Users", headers=headers).json()["totalResults"] == 0


def test_a_count_above_max_results_is_capped(limited: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = limited
    for i in range(5):
        http.post("/Users", json=user_body(f"u{i}"), headers=headers)
    page = http.get("/Users", params={"count": 1000}, headers=headers).json()
    assert page["totalResults"] == 5
    assert len(page["Resources"]) == page["itemsPerPage"] == 3


# -- over real HTTP ----------------------------------------------------------


def _acme_database(tmp_path: Path) -> tuple[str, str]:
    """A SQLite file with tenant acme: (database URL, SCIM token)."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    db = Database(engine)
    tenant_service.create_tenant(db, "acme", None)
    secret = token_service.create_token(db, get_tenant(db, "acme"), "limits", None).secret
    engine.dispose()
    return url, secret


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A live server on its own SQLite database: (SCIM base URL, token)."""
    url, secret = _acme_database(tmp_path)
    with running_server(url, tmp_path / "server.log") as server:
        yield server.scim_url("acme"), secret


def _served_promptly(base: str, token: str) -> float:
    started = time.monotonic()
    response = httpx2.get(f"{base}/Users", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 200
    return time.monotonic() - started


def test_slow_bodies_and_huge_headers_do_not_tie_up_the_server(live: tuple[str, str]) -> None:
    base, token = live
    host, port = base.split("//")[1].split("/")[0].split(":")
    with ExitStack() as stack:
        slow = []
        for _ in range(scaled(20)):
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=5))
            sock.sendall(
                b"POST /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {token}\r\n".encode()
                + b"Content-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n{"
            )
            slow.append(sock)
        huge = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
        huge.sendall(
            b"GET /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
        )
        deadline = time.monotonic() + 3 * scaled(1)
        while time.monotonic() < deadline:
            for sock in slow:
                sock.sendall(b" ")  # a byte at a time, never finishing
            assert _served_promptly(base, token) < 2.0
            time.sleep(0.2)
        answer = huge.recv(100)
        # Refused with a 4xx status line, or the connection closed: never a 200.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer
    assert _served_promptly(base, token) < 2.0


def test_a_body_that_does_not_arrive_in_time_gets_408_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    url, token = _acme_database(tmp_path)
    with running_server(url, tmp_path / "server.log", body_timeout_seconds="1") as server:
        host, port = server.base_url.split("//")[1].split(":")
        body = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "slow"}'
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {token}\r\n".encode()
                + b"Content-Type: application/scim+json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:-1]  # all but the last byte, which never comes
            )
            answer = b""
            deadline = time.monotonic() + 20
            while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"application/scim+json" in answer
        assert b"connection: close" in answer.lower()  # the rest of the body is not awaited
        listed = httpx2.get(
            f"{server.scim_url('acme')}/Users", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert listed["totalResults"] == 0
