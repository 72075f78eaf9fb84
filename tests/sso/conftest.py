"""What the SSO tests share: the two real IdPs and a browser's way through each flow.

SAML: SimpleSAMLphp (``idp``) and ``world``, a scimgate on its own app with
helpers for each step. OIDC: oidc-provider (``op``), with the client of tenant
``acme`` registered, and the helpers that play the browser between it and
scimgate's test client. Every ``world`` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import api_keys, saml, sso
from scimgate.service import tenants as tenant_service
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring
from scimgate.storage.audit import AuditFilter
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import audit_log
from tests.idps.oidc_op import RunningOp, registered_client, running_op
from tests.idps.simplesamlphp import (
    IdpPost,
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)

# -- SAML ---------------------------------------------------------------------------

PUBLIC_URL = "http://scim.example.test"  # the SAML tests' scimgate
HOST = "https://app.example.test/callback"
OTHER_HOST = "https://app.example.test/other"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    skip_or_fail_without_simplesamlphp()
    with running_simplesamlphp(tmp_path_factory.mktemp("simplesamlphp")) as server:
        yield server


@dataclass
class World:
    idp: SimpleSamlPhp
    db: Database
    settings: Settings
    http: TestClient

    def tenant(
        self, slug: str, *, by_url: bool = False, encrypt: bool = False, **fields: object
    ) -> tuple[Tenant, sso.Connection]:
        """A tenant with one SAML connection to the IdP, registered there as an SP;
        ``by_url``: the connection knows only the IdP's metadata URL."""
        tenant = tenant_service.create_tenant(self.db, slug)
        metadata = saml.parse_idp_metadata(self.idp.metadata_xml())
        config: dict[str, object] = {
            "idp_entity_id": metadata.entity_id,
            "idp_sso_url": metadata.sso_url,
            "idp_certificates": [c.pem for c in metadata.certificates],
        }
        if by_url:
            config = {"idp_metadata_url": self.idp.metadata_url}
        if encrypt:
            config["want_encrypted"] = True
        connection = sso.create_connection(
            self.db,
            tenant,
            {"name": "SimpleSAMLphp", "protocol": "saml", "jit": True, "config": config, **fields},
        )
        keys = sso.sp_keys(self.db, tenant, Keyring.from_settings(self.settings, SSO_SP_KEY))
        urls = sso.sp_urls(self.settings, slug)
        self.idp.register_sp(urls.entity_id, urls.acs_url, cert_pem=keys.cert_pem, encrypt=encrypt)
        return tenant, connection

    def to_idp(self, slug: str, *, redirect_uri: str = HOST, state: str = "host-1") -> str:
        """The host's start URL, followed through scimgate to the IdP; the IdP URL."""
        picked = self.http.get(
            f"/sso/{slug}/start",
            params={"redirect_uri": redirect_uri, "state": state},
            follow_redirects=False,
        )
        assert picked.status_code == 303, picked.text
        started = self.http.get(picked.headers["location"], follow_redirects=False)
        assert started.status_code == 303, started.text
        assert started.headers["location"].startswith(self.idp.sso_url)
        return started.headers["location"]

    def login(self, idp_url: str, user: str = "alice") -> IdpPost:
        with httpx2.Client() as browser:
            return self.idp.login(browser, idp_url, user, f"{user}pass")

    def idp_initiated(self, slug: str, relay_state: str | None = None) -> IdpPost:
        entity_id = sso.sp_urls(self.settings, slug).entity_id
        with httpx2.Client() as browser:
            return self.idp.idp_initiated(browser, entity_id, "bob", "bobpass", relay_state)

    def post(self, post: IdpPost, acs_path: str | None = None, **changes: str) -> httpx2.Response:
        data = {"SAMLResponse": post.saml_response}
        if post.relay_state is not None:
            data["RelayState"] = post.relay_state
        data.update(changes)
        path = acs_path or urlsplit(post.action).path
        return self.http.post(path, data=data, follow_redirects=False)

    def exchange(self, tenant: Tenant, code: str) -> httpx2.Response:
        """The host app's server-side call: ``POST /api/v1/sso/token`` with the code."""
        key = api_keys.create_api_key(self.db, tenant, "host app").secret
        return self.http.post(
            "/api/v1/sso/token", json={"code": code}, headers={"Authorization": f"Bearer {key}"}
        )

    def profile(self, tenant: Tenant, code: str) -> dict[str, Any]:
        response = self.exchange(tenant, code)
        assert response.status_code == 200, response.text
        profile: dict[str, Any] = response.json()
        return profile

    def sign_ins(self, tenant: Tenant) -> list[tuple[int, str | None, str | None]]:
        """(status, check, detail) of the tenant's sign-in audit rows, oldest first."""
        query = (
            sa.select(audit_log.c.status, audit_log.c.scim_type, audit_log.c.detail)
            .where(audit_log.c.tenant_id == tenant.id, audit_log.c.resource_type == "SignIn")
            .order_by(audit_log.c.id)
        )
        with self.db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


@pytest.fixture
def world(idp: SimpleSamlPhp, database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        dev_mode=True,
        sso_redirect_uris=f"{HOST},{OTHER_HOST}",
        # The IdP's metadata URL is on 127.0.0.1: let exactly that through the egress rule.
        webhook_allowed_cidrs="127.0.0.1/32",
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(database_url)
    db = Database(engine)
    app = create_app(settings, database=db)
    with TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False) as http:
        yield World(idp, db, settings, http)
    engine.dispose()


def code_of(response: httpx2.Response, redirect_uri: str = HOST) -> tuple[str, str | None]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], query.get("state", [None])[0]


def refusal(response: httpx2.Response, check: str) -> None:
    assert response.status_code == 403, response.text
    assert check in response.text
    assert "code=" not in response.headers.get("location", "")


# -- OIDC ---------------------------------------------------------------------------

OIDC_PUBLIC_URL = "https://scim.example.test"  # the OIDC tests' scimgate
CALLBACK = f"{OIDC_PUBLIC_URL}/sso/acme/oidc/callback"
SECRET = "acme-secret-for-tests-only-0123456789"


@pytest.fixture(scope="module")
def op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOp]:
    clients = [registered_client("scimgate-acme", SECRET, [CALLBACK])]
    with running_op(clients, tmp_path_factory.mktemp("op")) as running:
        yield running


def oidc_settings(database_url: str, **extra: Any) -> Settings:
    """The settings of the OIDC tests' scimgate, whose host app is ``HOST``."""
    return Settings(
        database_url=database_url,
        public_url=OIDC_PUBLIC_URL,
        dev_mode=True,
        sso_redirect_uris=HOST,
        webhook_allowed_cidrs="127.0.0.1/32",  # the test provider is on loopback
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


def oidc_connection(
    db: Database, tenant: Tenant, settings: Settings, op: RunningOp
) -> sso.Connection:
    """Tenant ``acme``'s JIT connection to the provider, as client ``scimgate-acme``."""
    return sso.create_connection(
        db,
        tenant,
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
        client_secret=SECRET,
        keyring=Keyring.from_settings(settings, SSO_CLIENT_SECRET),
    )


def local(url: str) -> str:
    """A scimgate URL as a path for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def to_provider(client: TestClient, state: str = "host-state-1") -> str:
    """The host app's start link, followed through scimgate to the provider's URL."""
    query = urlencode({"redirect_uri": HOST, "state": state})
    first = client.get(f"/sso/acme/start?{query}", follow_redirects=False)
    assert first.status_code == 303, first.text
    second = client.get(first.headers["location"], follow_redirects=False)
    assert second.status_code == 303, second.text
    return second.headers["location"]


def exchange(client: TestClient, db: Database, tenant: Tenant, code: str) -> dict[str, Any]:
    """The host app's server-side exchange at the host API, with the tenant's API key."""
    key = api_keys.create_api_key(db, tenant, "host app").secret
    answer = client.post(
        "/api/v1/sso/token", json={"code": code}, headers={"authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    profile: dict[str, Any] = answer.json()
    return profile


def sign_ins(db: Database, tenant: Tenant) -> list[Any]:
    with db.tenant(tenant.id) as repo:
        return repo.audit.page(AuditFilter(resource_type="SignIn"), 100)
