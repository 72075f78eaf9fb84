"""SAML sign-in end to end: the host's start URL, the real IdP's login form, the ACS, the code.

The browser is two HTTP clients: Starlette's test client for scimgate and an
httpx client for SimpleSAMLphp on 127.0.0.1; each step passes the other what a
browser would (the redirect to the IdP, the IdP's auto-submitting form).
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import api_keys, saml, sso
from scimgate.service import roles as role_service
from scimgate.service import settings as settings_service
from scimgate.service import tenants as tenant_service
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import audit_log
from tests.idps.simplesamlphp import (
    IdpPost,
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)

PUBLIC_URL = "http://scim.example.test"
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


def test_sign_in_creates_the_user_and_hands_a_code_to_the_host(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme", state="opaque-host-state"))
    assert post.action == f"{PUBLIC_URL}/sso/acme/saml/acs"
    code, state = code_of(world.post(post))
    assert state == "opaque-host-state"
    profile = world.profile(acme, code)
    assert profile["tenant"] == "acme"
    assert profile["email"] == "alice@example.test"
    assert profile["name"]["givenName"] == "Alice"
    assert profile["name"]["familyName"] == "Liddell"
    assert profile["enabled"] is True
    assert profile["groups"] == ["scim-admins", "engineering"]
    assert profile["connection"]["protocol"] == "saml"
    assert profile["claims"]["uid"] == ["alice"]
    again = world.exchange(acme, code)
    assert again.status_code == 400
    assert "invalid_grant" in again.text
    assert world.sign_ins(acme) == [(200, None, None)]


def test_the_idp_groups_map_to_roles(world: World) -> None:
    acme, _ = world.tenant("acme")
    role_service.add_role(world.db, acme, "admin", "Admin")
    role_service.add_role(world.db, acme, "editor", "Editor")
    role_service.add_rule(world.db, acme, "scim-admins", "admin")
    role_service.add_rule(world.db, acme, "engineering", "editor")
    settings_service.update_settings(world.db, acme, {"role_mode": "multiple"})
    code, _ = code_of(world.post(world.login(world.to_idp("acme"))))
    profile = world.profile(acme, code)
    assert profile["roles"] == ["admin", "editor"]
    assert profile["groups"] == ["scim-admins", "engineering"]


def test_the_relay_state_sent_to_the_idp_is_an_opaque_reference(world: World) -> None:
    world.tenant("acme")
    idp_url = world.to_idp("acme")
    relay = parse_qs(urlsplit(idp_url).query)["RelayState"][0]
    assert relay.startswith("_")
    assert HOST not in relay
    assert "app.example.test" not in idp_url


def test_replaying_the_same_post_is_refused(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    code_of(world.post(post))
    replay = world.post(post)
    refusal(replay, "replay")
    assert [row[:2] for row in world.sign_ins(acme)] == [(200, None), (403, "replay")]


def test_a_changed_relay_state_is_refused(world: World) -> None:
    world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    refusal(world.post(post, RelayState="_another"), "state")


def test_a_tampered_response_is_refused_and_recorded(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    xml = saml.decode_message(post.saml_response).decode()
    forged = xml.replace(">engineering<", ">owners<")
    tampered = IdpPost(post.action, base64.b64encode(forged.encode()).decode(), post.relay_state)
    response = world.post(tampered)
    refusal(response, "signature")
    [(status, check, detail)] = world.sign_ins(acme)
    assert (status, check) == (403, "signature")
    assert detail is not None
    assert "altered after signing" in detail


def test_idp_initiated_is_refused_when_off_and_accepted_when_on(world: World) -> None:
    acme, connection = world.tenant("acme")
    refusal(world.post(world.idp_initiated("acme")), "idp_initiated")
    sso.update_connection(world.db, acme, connection.id, {"allow_idp_initiated": True})
    unsolicited = world.idp_initiated("acme")
    code, _ = code_of(world.post(unsolicited))
    assert world.profile(acme, code)["email"] == "bob@example.test"
    # No InResponseTo to spend: the assertion id alone stops the replay.
    refusal(world.post(unsolicited), "replay")
    code, _ = code_of(world.post(world.idp_initiated("acme", OTHER_HOST)), OTHER_HOST)


def test_idp_initiated_relay_state_to_an_unregistered_url_is_refused(world: World) -> None:
    """An IdP-initiated RelayState is the attacker's to choose: no open redirect."""
    acme, connection = world.tenant("acme")
    sso.update_connection(world.db, acme, connection.id, {"allow_idp_initiated": True})
    response = world.post(world.idp_initiated("acme", "https://evil.example.test/steal"))
    refusal(response, "redirect_uri")


@pytest.mark.parametrize("path", ["/sso/acme/start", "/sso/acme/saml/start"])
def test_a_redirect_uri_not_registered_is_refused_before_the_idp(world: World, path: str) -> None:
    _, connection = world.tenant("acme")
    response = world.http.get(
        path,
        params={"connection": str(connection.id), "redirect_uri": "https://evil.example.test/cb"},
        follow_redirects=False,
    )
    refusal(response, "redirect_uri")
    assert "location" not in response.headers


def test_tenant_a_response_posted_to_tenant_b_is_refused(world: World) -> None:
    world.tenant("acme")
    globex, _ = world.tenant("globex")
    post = world.login(world.to_idp("acme"))
    response = world.post(post, acs_path="/sso/globex/saml/acs")
    refusal(response, "destination")
    assert [row[:2] for row in world.sign_ins(globex)] == [(403, "destination")]


def test_a_response_from_an_idp_the_tenant_does_not_trust_is_refused(world: World) -> None:
    world.tenant("acme")
    initech = tenant_service.create_tenant(world.db, "initech")
    post = world.login(world.to_idp("acme"))
    refusal(world.post(post, acs_path="/sso/initech/saml/acs"), "issuer")
    assert [row[:2] for row in world.sign_ins(initech)] == [(403, "issuer")]


def test_the_metadata_route_publishes_the_tenant_sp(world: World) -> None:
    acme, _ = world.tenant("acme")
    response = world.http.get("/sso/acme/saml/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/samlmetadata+xml")
    urls = sso.sp_urls(world.settings, "acme")
    assert f'entityID="{urls.entity_id}"' in response.text
    assert f'Location="{urls.acs_url}"' in response.text
    keys = sso.sp_keys(world.db, acme, Keyring.from_settings(world.settings, SSO_SP_KEY))
    body = "".join(line for line in keys.cert_pem.splitlines() if "-----" not in line)
    assert body in response.text.replace("\n", "")
    assert world.http.get("/sso/nobody/saml/metadata").status_code == 403


def test_a_connection_given_only_the_metadata_url_fetches_it_and_signs_in(world: World) -> None:
    acme, connection = world.tenant("acme", by_url=True)
    code, _ = code_of(world.post(world.login(world.to_idp("acme"))))
    assert world.profile(acme, code)["email"] == "alice@example.test"
    stored = sso.get_connection(world.db, acme, connection.id).config
    assert stored["idp_entity_id"] == world.idp.entity_id
    assert stored["idp_certificate_expiry"]


def test_an_encrypted_assertion_signs_in_and_a_clear_one_is_refused(world: World) -> None:
    globex, _ = world.tenant("globex", encrypt=True)
    post = world.login(world.to_idp("globex"), "bob")
    assert b"EncryptedAssertion" in saml.decode_message(post.saml_response)
    code, _ = code_of(world.post(post))
    assert world.profile(globex, code)["groups"] == ["readers"]
    world.tenant("acme")
    clear = world.login(world.to_idp("acme"))
    refusal(world.post(clear, acs_path="/sso/globex/saml/acs"), "encryption")


def test_an_assertion_encrypted_for_the_previous_certificate_is_read_until_the_rotation_ends(
    world: World,
) -> None:
    globex, _ = world.tenant("globex", encrypt=True)
    keyring = Keyring.from_settings(world.settings, SSO_SP_KEY)
    old = sso.sp_keys(world.db, globex, keyring)
    sso.rotate_sp_keys(world.db, globex, keyring)
    # The IdP has not fetched the new SP metadata: it still encrypts for the old certificate.
    urls = sso.sp_urls(world.settings, "globex")
    world.idp.register_sp(
        urls.entity_id, urls.acs_url, cert_pem=old.cert_pem, encrypt=True, validate_requests=False
    )
    post = world.login(world.to_idp("globex"), "bob")
    assert b"EncryptedAssertion" in saml.decode_message(post.saml_response)
    code, _ = code_of(world.post(post))
    assert world.profile(globex, code)["groups"] == ["readers"]
    sso.finish_rotation(world.db, globex, keyring)
    refusal(world.post(world.login(world.to_idp("globex"), "bob")), "encryption")
