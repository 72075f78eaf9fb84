"""A SAML response replayed across two server workers on PostgreSQL is accepted once.

A real scimgate server with two worker processes and a real IdP; the browser is
one HTTP client following redirects across both. The same POST is sent to the
ACS from two threads at once, then once more: the replay cache is a row in the
database, so whichever worker gets each request, exactly one sign-in succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
import sqlalchemy as sa

from scimgate.config import Settings
from scimgate.service import saml, sso
from scimgate.service import tenants as tenant_service
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base
from tests.idps.simplesamlphp import (
    IdpPost,
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)
from tests.live import live_server

HOST = "https://app.example.test/callback"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    skip_or_fail_without_simplesamlphp()
    with running_simplesamlphp(tmp_path_factory.mktemp("simplesamlphp")) as server:
        yield server


@pytest.fixture
def postgres(postgres_url: str) -> str:
    engine = make_engine(postgres_url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()
    return postgres_url


def _prepare(idp: SimpleSamlPhp, database_url: str, public_url: str) -> None:
    """Tenant acme with a SAML connection to the IdP, registered there as an SP."""
    settings = Settings(
        database_url=database_url,
        public_url=public_url,
        dev_mode=True,
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(database_url)
    db = Database(engine)
    tenant = tenant_service.create_tenant(db, "acme")
    metadata = saml.parse_idp_metadata(idp.metadata_xml())
    sso.create_connection(
        db,
        tenant,
        {
            "name": "SimpleSAMLphp",
            "protocol": "saml",
            "jit": True,
            "config": {
                "idp_entity_id": metadata.entity_id,
                "idp_sso_url": metadata.sso_url,
                "idp_certificates": [c.pem for c in metadata.certificates],
            },
        },
    )
    keys = sso.sp_keys(db, tenant, Keyring.from_settings(settings, SSO_SP_KEY))
    urls = sso.sp_urls(settings, "acme")
    idp.register_sp(urls.entity_id, urls.acs_url, cert_pem=keys.cert_pem)
    engine.dispose()


def _post(post: IdpPost) -> httpx2.Response:
    data = {"SAMLResponse": post.saml_response, "RelayState": post.relay_state or ""}
    return httpx2.post(post.action, data=data, timeout=30, trust_env=False)


def test_a_replay_across_two_workers_is_refused(idp: SimpleSamlPhp, postgres: str) -> None:
    with live_server(postgres, workers=2, sso_redirect_uris=HOST) as server:
        public_url = server.base_url
        _prepare(idp, postgres, public_url)
        start = f"{server.base_url}/sso/acme/start?redirect_uri={HOST}&state=s1"
        with httpx2.Client(trust_env=False, timeout=30) as browser:
            post = idp.login(browser, start, "alice", "alicepass")
        assert post.action == f"{public_url}/sso/acme/saml/acs"
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(lambda _: _post(post), range(2))
        third = _post(post)
    statuses = sorted([first.status_code, second.status_code, third.status_code])
    assert statuses == [303, 403, 403]
    refusals = [r for r in (first, second, third) if r.status_code == 403]
    assert all("replay" in r.text for r in refusals)
    [accepted] = [r for r in (first, second) if r.status_code == 303]
    assert accepted.headers["location"].startswith(HOST + "?code=")
    engine = make_engine(postgres)
    with engine.connect() as conn:
        seen = conn.execute(sa.text("SELECT count(*) FROM sso_seen_assertions")).scalar_one()
    engine.dispose()
    assert seen == 1
