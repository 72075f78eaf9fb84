"""One POST and the retry schedule, against httpx.MockTransport (no network)."""

from __future__ import annotations

import random

import httpx
import pytest

from scimgate.events.delivery import Sender, backoff_seconds


def _sender(handler: httpx.MockTransport) -> Sender:
    return Sender(timeout=1.0, transport=handler)


@pytest.mark.parametrize("status", [200, 202, 204])
def test_a_2xx_answer_is_a_success(status: int) -> None:
    sender = _sender(httpx.MockTransport(lambda request: httpx.Response(status)))
    outcome = sender.send("https://hooks.example/x", "{}", {"webhook-id": "e1"})
    assert outcome.ok
    assert outcome.status_code == status


@pytest.mark.parametrize("status", [301, 400, 410, 500, 503])
def test_any_other_answer_is_a_failure_and_redirects_are_not_followed(status: int) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(status, headers={"location": "https://elsewhere.example/"})

    outcome = _sender(httpx.MockTransport(answer)).send("https://hooks.example/x", "{}", {})
    assert not outcome.ok
    assert outcome.status_code == status
    assert outcome.error == f"HTTP {status}"
    assert seen == ["https://hooks.example/x"]


def test_a_network_error_is_a_failure_with_its_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    outcome = _sender(httpx.MockTransport(refuse)).send("https://hooks.example/x", "{}", {})
    assert not outcome.ok
    assert outcome.status_code is None
    assert outcome.error == "ConnectError: connection refused"


def test_the_body_and_headers_are_sent_as_given() -> None:
    captured: list[httpx.Request] = []

    def keep(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(204)

    _sender(httpx.MockTransport(keep)).send(
        "https://hooks.example/x",
        '{"a":1}',
        {"webhook-id": "e1", "content-type": "application/json"},
    )
    (request,) = captured
    assert request.content == b'{"a":1}'
    assert request.headers["webhook-id"] == "e1"
    assert request.headers["user-agent"].startswith("scimgate-webhooks")


def test_backoff_grows_exponentially_up_to_the_cap_with_full_jitter() -> None:
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0), (200, 60.0)]:
        delays = [backoff_seconds(attempts, 2.0, 60.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # full jitter spreads retries over the whole window
        assert min(delays) < ceiling * 0.1
        assert max(delays) > ceiling * 0.9
