"""Single sign-on in real headless Chromium against a real ``scimgate serve`` and real IdPs.

The host app's sign-in goes through SimpleSAMLphp's login form and through
oidc-provider's login and consent pages; the host app itself is the browser's
route for its redirect URI, and its server-side exchange is an HTTP call to the
host API. Then the console's Test sign-in, passing and failing.

Screenshots go to ``test-output/screenshots/``; with ``SCIMGATE_DOC_IMAGES=1``
the ones the how-to shows are written to ``docs/images/sso-*.png``. Skipped
when Debian's chromium is missing, or an IdP is (unless
``SCIMGATE_TEST_REQUIRE_SSO_IDPS=1``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from scimgate.config import DEV_SECRET_KEY, Settings
from scimgate.model.entities import Tenant
from scimgate.service import admins, api_keys, saml, sso, tenants
from scimgate.service import roles as role_service
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from tests.admin.conftest import PASSWORD
from tests.browser import DOC_IMAGES, Page, chromium_page, expect, needs_chromium, shot
from tests.idps.keys import make_key_pair
from tests.idps.oidc_op import RunningOp, registered_client, running_op
from tests.idps.simplesamlphp import (
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)
from tests.live import LiveServer, live_server

OIDC_SECRET = "acme-browser-secret-for-tests-only-0123"

pytestmark = needs_chromium


class _HostApp(BaseHTTPRequestHandler):
    """The host app: its redirect URI answers with a page of its own."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Host app</title><h1>Host app</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def host_app() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class World:
    server: LiveServer
    db: Database
    tenant: Tenant
    settings: Settings
    host: str

    def profile(self, code: str) -> dict[str, Any]:
        """The host app's server-side exchange at the host API."""
        key = api_keys.create_api_key(self.db, self.tenant, "host app").secret
        answer = httpx2.post(
            f"{self.server.base_url}/api/v1/sso/token",
            json={"code": code},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def user_names(self) -> list[str]:
        with self.db.tenant(self.tenant.id) as repo:
            return [row.user_name for row in repo.users.page(None, None, False, 0, 50).rows]


@pytest.fixture
def world(tmp_path: Path, host_app: str) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'sso.db'}"
    upgrade(url)
    db = Database.from_url(url)
    acme = tenants.create_tenant(db, "acme", "Acme Corp")
    admins.create_admin(db, "ops@example.com", PASSWORD)
    role_service.add_role(db, acme, "engineer", "Engineer")
    role_service.add_rule(db, acme, "engineering", "engineer", priority=5)
    role_service.add_rule(db, acme, "scim-admins", "tenant_admin", priority=1)
    settings = Settings(database_url=url, dev_mode=True, _env_file=None)  # type: ignore[call-arg]
    try:
        with live_server(
            url, sso_redirect_uris=host_app, webhook_allowed_cidrs="127.0.0.1/32"
        ) as live:
            yield World(live, db, acme, settings, host_app)
    finally:
        db.dispose()


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[SimpleSamlPhp]:
    skip_or_fail_without_simplesamlphp()
    with running_simplesamlphp(tmp_path / "simplesamlphp") as server:
        yield server


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    with chromium_page(tmp_path / "chromium-profile", width=1366, clipboard=False) as page:
        yield page


def _code(world: World, page: Page) -> str:
    page.wait_for_url(f"{world.host}?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["host-1"]
    return query["code"][0]


def _saml_connection(world: World, idp: SimpleSamlPhp) -> sso.Connection:
    metadata = saml.parse_idp_metadata(idp.metadata_xml())
    config = {
        "idp_entity_id": metadata.entity_id,
        "idp_sso_url": metadata.sso_url,
        "idp_certificates": [c.pem for c in metadata.certificates],
    }
    connection = sso.create_connection(
        world.db,
        world.tenant,
        {"name": "SimpleSAMLphp", "protocol": "saml", "jit": True, "config": config},
    )
    keys = sso.sp_keys(world.db, world.tenant, Keyring(DEV_SECRET_KEY, purpose=SSO_SP_KEY))
    urls = sso.sp_urls(
        world.settings.model_copy(update={"public_url": world.server.base_url}), "acme"
    )
    idp.register_sp(urls.entity_id, urls.acs_url, cert_pem=keys.cert_pem)
    return connection


def _start(world: World, page: Page) -> None:
    page.goto(
        f"{world.server.base_url}/sso/acme/start?redirect_uri={world.host}&state=host-1",
    )


def _console(world: World, page: Page) -> None:
    page.goto(f"{world.server.base_url}/admin/login")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{world.server.base_url}/admin/tenants/acme/sso")


def _simplesamlphp_login(page: Page, user: str) -> None:
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"{user}pass")
    page.locator("button[type=submit], input[type=submit]").first.click()


def test_saml_sign_in_through_simplesamlphp_then_the_consoles_test_sign_in(
    world: World, idp: SimpleSamlPhp, page: Page
) -> None:
    connection = _saml_connection(world, idp)
    _start(world, page)
    _simplesamlphp_login(page, "alice")
    profile = world.profile(_code(world, page))
    assert profile["email"] == "alice@example.test"
    assert profile["roles"] == ["tenant_admin"]  # scim-admins wins in single mode
    assert sorted(profile["groups"]) == ["engineering", "scim-admins"]
    assert world.user_names() == ["alice@example.test"]  # made by JIT

    _console(world, page)
    shot(page, "sso-page", doc=True)
    page.get_by_test_id(f"test-sign-in-{connection.id}").click()
    # SimpleSAMLphp remembers alice: the test comes straight back to the console.
    page.wait_for_url("**/sso/*/tests/*")
    checks = page.get_by_test_id("trial-checks")
    expect(page.get_by_test_id("trial-outcome")).to_contain_text("would succeed")
    for words in (
        "Signature",
        "Audience",
        "Destination and Recipient",
        "Time window",
        "InResponseTo",
        "Replay",
        "matches the existing user 'alice@example.test'",
        "gives tenant_admin",
    ):
        expect(checks).to_contain_text(words)
    assert checks.locator("li[data-state=passed]").count() == 8
    shot(page, "sso-test-sign-in-passed", doc=True)

    # The IdP's certificate in the connection is wrong (say, rotated at the IdP only).
    other = make_key_pair("not-the-idp.example.test")
    sso.update_connection(
        world.db,
        world.tenant,
        connection.id,
        {"config": {**connection.config, "idp_certificates": [other.cert_pem]}},
    )
    page.get_by_role("button", name="Test again").click()
    page.wait_for_url("**/sso/*/tests/*")
    expect(page.get_by_test_id("trial-outcome")).to_contain_text("would fail")
    failed = page.locator("[data-testid=trial-checks] li[data-state=failed]")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Signature")
    shot(page, "sso-test-sign-in-failed", doc=True)
    assert world.user_names() == ["alice@example.test"]  # tests change nobody

    page.goto(f"{world.server.base_url}/admin/tenants/acme/sso")
    sign_ins = page.get_by_test_id("sign-ins")
    expect(sign_ins).to_contain_text("test: refused, the signature does not verify")
    expect(sign_ins).to_contain_text("test: every check passed")
    expect(sign_ins).to_contain_text("signed in")
    shot(page, "sso-latest-sign-ins")


@pytest.fixture
def op(world: World, tmp_path: Path) -> Iterator[RunningOp]:
    callback = f"{world.server.base_url}/sso/acme/oidc/callback"
    clients = [registered_client("scimgate-acme", OIDC_SECRET, [callback])]
    with running_op(clients, tmp_path) as running:
        yield running


def test_oidc_sign_in_through_the_providers_login_then_the_consoles_test_sign_in(
    world: World, op: RunningOp, page: Page
) -> None:
    connection = sso.create_connection(
        world.db,
        world.tenant,
        {
            "name": "Test OP",
            "protocol": "oidc",
            "jit": True,
            "config": {
                "issuer": op.issuer,
                "client_id": "scimgate-acme",
                "scopes": ["openid", "email", "profile", "groups"],
            },
        },
        client_secret=OIDC_SECRET,
        keyring=Keyring.from_settings(world.settings, SSO_CLIENT_SECRET),
    )
    _start(world, page)
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").first.click()
    page.wait_for_selector("button[type=submit]")
    shot(page, "sso-oidc-consent")
    page.locator("button[type=submit]").first.click()  # consent
    profile = world.profile(_code(world, page))
    assert profile["email"] == "alice@example.test"
    assert profile["roles"] == ["tenant_admin"]
    assert profile["connection"]["protocol"] == "oidc"

    _console(world, page)
    page.get_by_test_id(f"test-sign-in-{connection.id}").click()
    page.wait_for_url("**/sso/*/tests/*")
    checks = page.get_by_test_id("trial-checks")
    expect(page.get_by_test_id("trial-outcome")).to_contain_text("would succeed")
    expect(checks).to_contain_text("ID token")
    expect(checks).to_contain_text("matches the existing user 'alice@example.test'")
    assert checks.locator("li[data-state=passed]").count() == 5
    shot(page, "sso-oidc-test-sign-in-passed")
