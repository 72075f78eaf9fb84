"""The setup wizard's OIDC half end to end: the IT admin gives the real test provider's issuer,
client ID and secret, runs the test sign-in as alice, and the page shows her and turns the
check green. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.service import setup_links, sso, tenants
from scimgate.storage.database import Database
from tests.admin.conftest import csrf_of
from tests.idps.oidc_op import RunningOp, registered_client, running_op, sign_in

PUBLIC_URL = "https://scim.example.test"
CALLBACK = f"{PUBLIC_URL}/sso/acme/oidc/callback"
SECRET = "acme-wizard-secret-for-tests-only-0123"


@pytest.fixture(scope="module")
def op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOp]:
    clients = [registered_client("scimgate-wizard", SECRET, [CALLBACK])]
    with running_op(clients, tmp_path_factory.mktemp("op")) as running:
        yield running


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        dev_mode=True,
        webhook_allowed_cidrs="127.0.0.1/32",  # the test provider is on loopback
        _env_file=None,  # type: ignore[call-arg]
    )


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_an_oidc_test_sign_in_from_the_wizard_turns_the_check_green(
    db: Database, console: TestClient, op: RunningOp
) -> None:
    acme = tenants.create_tenant(db, "acme", "Acme Corp")
    issued = setup_links.create_link(db, acme, "sso")
    console.get(f"/setup/{issued.secret}")
    page = console.get("/setup/tenants/acme/?idp=okta&protocol=oidc")
    assert CALLBACK in page.text
    # Okta's org server sends groups only to a client that asks for them; the form does.
    assert '<input type="hidden" name="scopes" value="openid email profile groups">' in page.text
    saved = console.post(
        "/setup/tenants/acme/sso?idp=okta&protocol=oidc",
        data={
            "csrf": csrf_of(page.text),
            "issuer": op.issuer,
            "client_id": "scimgate-wizard",
            "client_secret": SECRET,
            "groups_claim": "groups",
            "scopes": "openid email profile groups",
            "jit": "on",
        },
    )
    assert saved.status_code == 303, saved.text
    [connection] = sso.list_connections(db, acme)
    assert (connection.name, connection.protocol) == ("Okta", "oidc")

    started = console.get("/setup/tenants/acme/sso/test?idp=okta")
    picked = console.get(started.headers["location"])
    to_op = console.get(picked.headers["location"])
    assert to_op.status_code == 303, to_op.text
    assert to_op.headers["location"].startswith(op.issuer)
    callback = sign_in(op, to_op.headers["location"], "alice", stop_at=CALLBACK)
    back = console.get(_local(callback))
    assert back.status_code == 303, back.text
    assert back.headers["location"].startswith(f"{PUBLIC_URL}/setup/tenants/acme/sso/tested?")

    tested = console.get(_local(back.headers["location"]))
    assert tested.status_code == 200, tested.text
    assert 'data-testid="sso-tested"' in tested.text
    assert "alice@example.test" in tested.text
    assert "<code>scim-admins</code>, <code>engineering</code>" in tested.text
    checks = console.get("/setup/tenants/acme/checks").json()
    assert checks["checks"] == [{"key": "sso_signin", "label": "Test sign-in", "done": True}]
    assert checks["done"] is True
    # The code was used up by the page: showing it again says so instead of failing.
    again = console.get(_local(back.headers["location"]))
    assert again.status_code == 200
    assert "This test sign-in was shown already" in again.text
