"""Sign-in throttling, the sign-in audit trail, session rotation and session lifetimes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.admin.security import COOKIE
from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.service.admins import login_attempts
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import PASSWORD, csrf_of, sign_in


class MovableClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Starlette) -> MovableClock:
    app.state.clock = clock = MovableClock()
    return clock


def _try(client: TestClient, email: str, password: str = "wrong password") -> int:  # noqa: S107
    token = csrf_of(client.get("/admin/login").text)
    data = {"email": email, "password": password, "csrf": token}
    return client.post("/admin/login", data=data).status_code


# -- throttling ------------------------------------------------------------------


def test_an_unknown_email_is_throttled_like_a_known_one(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    """The answer after five failures must not tell which emails have an account."""
    make_admin("ops@example.com")
    answers = {}
    for email in ("ops@example.com", "nobody@example.com"):
        assert [_try(console, email) for _ in range(5)] == [401] * 5
        token = csrf_of(console.get("/admin/login").text)
        response = console.post(
            "/admin/login", data={"email": email, "password": PASSWORD, "csrf": token}
        )
        answers[email] = (response.status_code, response.text.split('role="alert">')[1][:80])
    assert answers["ops@example.com"] == answers["nobody@example.com"]
    assert answers["ops@example.com"][0] == 429


def test_an_address_is_throttled_after_its_failures_and_told_when_to_retry(
    app: Starlette, console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"admin_login_failures_per_ip": 3})
    make_admin("ops@example.com")
    statuses = [_try(console, f"guess{i}@example.com") for i in range(3)]
    assert statuses == [401, 401, 401]
    token = csrf_of(console.get("/admin/login").text)
    right = {"email": "ops@example.com", "password": PASSWORD, "csrf": token}
    response = console.post("/admin/login", data=right)
    assert response.status_code == 429
    assert "Too many sign-in attempts from this address; try again in 15 minutes" in response.text
    assert 14 * 60 < int(response.headers["retry-after"]) <= 15 * 60


def test_the_address_throttle_lifts_when_the_window_has_passed(
    app: Starlette,
    console: TestClient,
    clock: MovableClock,
    make_admin: Callable[..., AdminAccount],
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"admin_login_failures_per_ip": 2})
    make_admin("ops@example.com")
    assert [_try(console, f"guess{i}@example.com") for i in range(2)] == [401, 401]
    assert _try(console, "ops@example.com", PASSWORD) == 429
    clock.now += 15 * 60 + 1
    assert _try(console, "ops@example.com", PASSWORD) == 303


def test_the_throttle_holds_across_processes(
    settings: Settings, db: Database, make_admin: Callable[..., AdminAccount]
) -> None:
    """The failures are counted in the database, so a second app (another worker) sees them."""
    settings = settings.model_copy(update={"admin_login_failures_per_ip": 2})
    make_admin("ops@example.com")
    apps = [create_app(settings, database=db) for _ in range(2)]
    with (
        TestClient(apps[0], base_url="https://testserver", follow_redirects=False) as first,
        TestClient(apps[1], base_url="https://testserver", follow_redirects=False) as second,
    ):
        assert [_try(first, f"guess{i}@example.com") for i in range(2)] == [401, 401]
        assert _try(second, "ops@example.com", PASSWORD) == 429


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(
    app: Starlette, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")

    def attempt(client: TestClient, email: str, forwarded_for: str) -> int:
        token = csrf_of(client.get("/admin/login").text)
        data = {"email": email, "password": "x", "csrf": token}
        return client.post(
            "/admin/login", data=data, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    with TestClient(app, base_url="https://testserver", client=("10.0.0.5", 4000)) as proxy:
        settings = app.state.settings.model_copy(update={"admin_login_failures_per_ip": 1})
        app.state.settings = settings
        # Not trusted: the header is ignored and every failure counts against the proxy.
        assert attempt(proxy, "a@example.com", "203.0.113.9") == 401
        assert attempt(proxy, "b@example.com", "203.0.113.10") == 429
        app.state.settings = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
        # Trusted: each forwarded address has its own count, and a forged left-most
        # entry does not help the client the proxy saw.
        assert attempt(proxy, "c@example.com", "203.0.113.11") == 401
        assert attempt(proxy, "d@example.com", "198.51.100.1, 203.0.113.11") == 429
        assert attempt(proxy, "e@example.com", "203.0.113.12") == 401


def test_each_failure_and_each_throttled_attempt_leaves_an_audit_row(
    console: TestClient, db: Database, make_admin: Callable[..., AdminAccount]
) -> None:
    account = make_admin("ops@example.com")
    for _ in range(5):
        _try(console, "ops@example.com")
    _try(console, "ops@example.com", PASSWORD)
    _try(console, "nobody@example.com")
    rows = login_attempts(db)
    assert [r.outcome for r in rows] == ["failed", "throttled"] + ["failed"] * 5
    assert rows[0].email == "nobody@example.com"
    assert rows[0].account_id is None
    assert rows[1].email == "ops@example.com"
    assert {r.account_id for r in rows[2:]} == {account.id}
    assert all(r.client_ip == "testclient" for r in rows)


# -- sessions --------------------------------------------------------------------


def test_login_gives_a_new_session_and_the_old_cookie_stays_anonymous(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    console.get("/admin/login")
    before = console.cookies[COOKIE]
    sign_in(console, "ops@example.com")
    after = console.cookies[COOKIE]
    assert after != before
    assert before.split(".")[0] != after.split(".")[0]
    with TestClient(console.app, base_url="https://testserver") as other:
        other.cookies.set(COOKIE, before, domain="testserver", path="/admin")
        assert other.get("/admin/", follow_redirects=False).status_code == 303


def test_an_idle_session_ends(
    console: TestClient, clock: MovableClock, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    clock.now += 29 * 60
    assert console.get("/admin/").status_code == 200  # and the idle time starts again
    clock.now += 29 * 60
    assert console.get("/admin/").status_code == 200
    clock.now += 31 * 60
    response = console.get("/admin/")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


def test_a_busy_session_still_ends_after_the_absolute_lifetime(
    console: TestClient, clock: MovableClock, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    for _ in range(35):  # a request every 20 minutes for eleven hours and forty minutes
        clock.now += 20 * 60
        assert console.get("/admin/").status_code == 200
    clock.now += 21 * 60
    assert console.get("/admin/").status_code == 303
