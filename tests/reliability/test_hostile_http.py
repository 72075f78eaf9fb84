"""Hostile HTTP over a real server and raw sockets: an oversized body gets its whole 413
and a clean close, malformed headers are refused without taking the server down, and
clients that never finish their headers do not stop it from serving others."""

from __future__ import annotations

import json
import selectors
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base
from tests.reliability.conftest import ERROR, SCIM_JSON, Server, running_server, user_body

TWELVE_MB = 12 * 1024 * 1024
PIECE = 64 * 1024


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A live server with tenant acme on its own SQLite file: (server, SCIM token)."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    db = Database(engine)
    tenant_service.create_tenant(db, "acme", None)
    secret = token_service.create_token(db, get_tenant(db, "acme"), "hostile", None).secret
    engine.dispose()
    with running_server(url, tmp_path / "server.log") as server:
        yield server, secret


def _address(server: Server) -> tuple[str, int]:
    host, port = server.base_url.split("//")[1].split(":")
    return host, int(port)


def _exchange(address: tuple[str, int], request: bytes, timeout: float = 30) -> bytes:
    """Send ``request`` while reading the answer; the whole answer up to the server's close.

    A reset (the server closing with unread data) raises ``ConnectionResetError``
    or ``BrokenPipeError``, which fails the test that calls this.
    """
    answer = b""
    pending = memoryview(request)
    deadline = time.monotonic() + timeout
    with socket.create_connection(address, timeout=5) as sock:
        sock.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while time.monotonic() < deadline:
                for _, events in selector.select(timeout=1):
                    if events & selectors.EVENT_READ:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return answer
                        answer += chunk
                    if events & selectors.EVENT_WRITE and pending:
                        pending = pending[sock.send(pending[:PIECE]) :]
                        if not pending:
                            selector.modify(sock, selectors.EVENT_READ)
    raise AssertionError(f"the server neither answered nor closed in time: {answer[:200]!r}")


def _head(token: str, framing: bytes) -> bytes:
    return (
        b"POST /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/scim+json\r\n"
        + framing
        + b"\r\n"
    )


def _chunked(body: bytes) -> bytes:
    pieces = [b"%x\r\n%s\r\n" % (PIECE, body[i : i + PIECE]) for i in range(0, len(body), PIECE)]
    return b"".join(pieces) + b"0\r\n\r\n"


def _assert_whole_scim_413(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 413"), answer[:300]
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"].startswith(SCIM_JSON)
    assert headers["connection"] == "close"
    assert len(body) == int(headers["content-length"]), "the 413 was cut short"
    document = json.loads(body)
    assert document["schemas"] == [ERROR]
    assert document["status"] == "413"


def _users(server: Server, token: str) -> int:
    response = httpx2.get(
        f"{server.scim_url('acme')}/Users",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    total: int = response.json()["totalResults"]
    return total


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_oversized_body_gets_a_whole_413_and_a_clean_close(
    live: tuple[Server, str], framing: str
) -> None:
    server, token = live
    body = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "title": "'
    body += b"x" * (TWELVE_MB - len(body) - 2) + b'"}'
    if framing == "chunked":
        request = _head(token, b"Transfer-Encoding: chunked\r\n") + _chunked(body)
    else:
        request = _head(token, f"Content-Length: {len(body)}\r\n".encode()) + body
    _assert_whole_scim_413(_exchange(_address(server), request))
    assert _users(server, token) == 0  # and the server still serves


# -- malformed requests ------------------------------------------------------------------

HOSTILE_HEADERS = {
    "NUL and 0xFF in a value": b"If-Match: \x00\xff\xfe\r\n",
    "DEL in a value": b"If-Match: a\x7fb\r\n",
    "a space in a name": b"If Match: x\r\n",
    "a space before the colon": b"If-Match : x\r\n",
    "a control byte in a name": b"If-\x01Match: x\r\n",
    "a bare CR": b"If-Match: a\rb\r\n",
    "a bare LF": b"If-Match: a\nX-Other: b\r\n",
}


def test_malformed_headers_are_refused_and_the_server_stays_up(live: tuple[Server, str]) -> None:
    server, token = live
    for case, header in HOSTILE_HEADERS.items():
        request = (
            b"GET /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + header
            + b"\r\n"
        )
        answer = _exchange(_address(server), request)
        # The HTTP parser answers before scimgate runs: a 400 of its own, or a bare close.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), (case, answer)
        assert _users(server, token) == 0, case


def test_an_unusual_but_valid_header_byte_reaches_scimgate_and_gets_a_scim_error(
    live: tuple[Server, str],
) -> None:
    server, token = live
    created = httpx2.post(
        f"{server.scim_url('acme')}/Users",
        json=user_body("ada"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    body = json.dumps(user_body("ada", title="x")).encode()
    request = (
        f"PUT /scim/v2/acme/Users/{created.json()['id']} HTTP/1.1\r\nHost: x\r\n".encode()
        + f"Authorization: Bearer {token}\r\n".encode()
        + b'If-Match: "\xe9"\r\nContent-Type: application/scim+json\r\nConnection: close\r\n'
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer = _exchange(_address(server), request)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 412"), answer[:300]
    assert SCIM_JSON.encode() in head
    assert json.loads(payload)["schemas"] == [ERROR]


# -- slow headers ------------------------------------------------------------------------


def test_clients_that_never_finish_their_headers_do_not_stop_others(
    live: tuple[Server, str],
) -> None:
    server, token = live
    with ExitStack() as stack:
        slow = [
            stack.enter_context(socket.create_connection(_address(server), timeout=5))
            for _ in range(20)
        ]
        for sock in slow:
            sock.sendall(b"GET /scim/v2/acme/Users HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for sock in slow:
                sock.sendall(b"a")  # a byte at a time, the headers never end
            started = time.monotonic()
            assert _users(server, token) == 0
            assert time.monotonic() - started < 3.0
            time.sleep(0.2)


def test_limit_concurrency_refuses_requests_past_it_with_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limited.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    with running_server(url, tmp_path / "server.log", limit_concurrency="3") as server:
        with ExitStack() as stack:
            for _ in range(3):
                sock = stack.enter_context(socket.create_connection(_address(server), timeout=5))
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            deadline = time.monotonic() + 10  # until the server has accepted all three
            while httpx2.get(f"{server.base_url}/healthz", timeout=10).status_code != 503:
                assert time.monotonic() < deadline, "requests past the limit were still served"
                time.sleep(0.1)
        deadline = time.monotonic() + 10
        while httpx2.get(f"{server.base_url}/healthz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the closed connections were never released"
            time.sleep(0.1)
