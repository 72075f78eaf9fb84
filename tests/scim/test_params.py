"""The 413 drain, driven by scripted ASGI messages (the live version is in
tests/reliability/test_hostile_http.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
from starlette.types import Message, Receive, Scope, Send

from scimgate.scim.params import DrainRefusedBody


def _refuse(status: int) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _run(status: int, body: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """The messages sent to the client, then how many body messages were left unread."""
    incoming = [
        {"type": "http.request", "body": piece, "more_body": i < len(body) - 1}
        for i, piece in enumerate(body)
    ]
    sent: list[Message] = []
    app_state = SimpleNamespace(
        state=SimpleNamespace(limits=SimpleNamespace(body_timeout_seconds=5))
    )
    scope = {"type": "http", "method": "POST", "headers": headers, "app": app_state}

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep(10)  # a client that sends nothing more
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(DrainRefusedBody(_refuse(status)), scope, receive, send)
    sent.append({"type": "left unread", "count": len(incoming)})
    return sent


def test_an_unread_body_is_drained_after_the_413_and_before_the_close() -> None:
    start, body, end, unread = _run(413, [b"a" * 10, b"b" * 10, b"c"], [])
    assert start["status"] == 413
    assert (b"connection", b"close") in start["headers"]
    assert body == {"type": "http.response.body", "body": b"{}", "more_body": True}
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}
    assert unread["count"] == 0


def test_a_client_waiting_for_100_continue_has_no_body_to_drain() -> None:
    start, body, unread = _run(413, [b"never sent"], [(b"expect", b"100-continue")])
    assert start["status"] == 413
    assert body.get("more_body", False) is False
    assert unread["count"] == 1


def test_other_statuses_pass_through() -> None:
    start, body, unread = _run(400, [b"a", b"b"], [])
    assert (b"connection", b"close") not in start["headers"]
    assert body.get("more_body", False) is False
    assert unread["count"] == 2
