"""docs/examples/sso_host.py against a real scimgate server: the handoff the how-to describes.

The IdP's leg (SAML or OIDC) is the adapters' business and has its own tests;
here it is replaced by what follows a verified assertion, so the test covers
what the host app sees: the start URL, the redirect with a code, the
server-side exchange over HTTP, the session.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.model.sso import ExternalIdentity
from scimgate.service import api_keys, sso
from scimgate.service import roles as role_service
from scimgate.storage.database import Database
from tests.events.conftest import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sso_host.py"
HOST_URL = "http://host.example.test"
CALLBACK = f"{HOST_URL}/sso/callback"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scimgate_example_sso_host", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


example = _load_example()


class Scimgate:
    """scimgate itself on a loopback port, so the host's exchange is real HTTP."""

    def __init__(self, engine: sa.Engine, db: Database) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            public_url=self.url,
            dev_mode=True,
            sso_redirect_uris=CALLBACK,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(self.settings, database=db)
        config = uvicorn.Config(app, log_level="warning", ws="none", http="h11")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def scimgate(engine: sa.Engine, db: Database) -> Iterator[Scimgate]:
    served = Scimgate(engine, db)
    served.start()
    yield served
    served.stop()


def _idp_leg(
    db: Database, served: Scimgate, tenant: Tenant, protocol_start: str, who: ExternalIdentity
) -> str:
    """What the protocol routes do after the IdP answers: the host callback URL."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(protocol_start).query).items()}
    connection = sso.get_connection(db, tenant, int(query["connection"]))
    ref = sso.new_protocol_ref()
    sso.begin(
        db,
        tenant,
        connection,
        redirect_uri=query["redirect_uri"],
        host_state=query.get("state"),
        protocol_ref=ref,
        data={},
        settings=served.settings,
    )
    pending = sso.take_pending(db, tenant, connection, ref)
    return sso.complete_sign_in(
        db,
        tenant,
        connection,
        who,
        pending=pending,
        client=sso.ClientInfo("127.0.0.1", "pytest"),
        settings=served.settings,
    )


def test_a_person_signs_in_to_the_host_app(
    db: Database, scimgate: Scimgate, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml", "jit": True})
    role_service.add_rule(db, acme, "Admins", "tenant_admin")
    key = api_keys.create_api_key(db, acme, "host").secret
    store = example.InMemoryStore()
    with httpx.Client(timeout=10) as http:
        host = example.create_host(scimgate.url, key, HOST_URL, store=store, http=http)
        with TestClient(host, base_url=HOST_URL, follow_redirects=False) as browser:
            login = browser.get("/login", params={"tenant": "acme"})
            assert login.status_code == 303
            start = login.headers["location"]
            assert start.startswith(f"{scimgate.url}/sso/acme/start?")
            picked = http.get(start)
            assert picked.status_code == 303
            assert picked.headers["location"].startswith("/sso/acme/saml/start?connection=")

            who = ExternalIdentity(
                subject="ada@example.test",
                email="ada@example.test",
                given_name="Ada",
                family_name="Lovelace",
                groups=("admins",),
            )
            back = _idp_leg(db, scimgate, acme, picked.headers["location"], who)
            assert back.startswith(CALLBACK + "?code=")
            signed_in = browser.get(back)
            assert signed_in.status_code == 303, signed_in.text
            me = browser.get("/")
            assert me.status_code == 200
            assert me.json()["email"] == "ada@example.test"
            assert me.json()["name"] == "Ada Lovelace"
            assert me.json()["roles"] == ["tenant_admin"]
            # The same callback again: the browser's sign-in is over, and the code is used.
            assert browser.get(back).status_code == 400


def test_a_callback_the_browser_did_not_start_is_refused(
    db: Database, scimgate: Scimgate, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml", "jit": True})
    key = api_keys.create_api_key(db, acme, "host").secret
    host = example.create_host(scimgate.url, key, HOST_URL)
    with TestClient(host, base_url=HOST_URL, follow_redirects=False) as victim:
        victim.get("/login", params={"tenant": "acme"})
        # An attacker's own code and state, sent to the victim's browser.
        forged = victim.get("/sso/callback", params={"code": "attacker", "state": "theirs"})
        assert forged.status_code == 400
        assert victim.get("/").status_code == 401
