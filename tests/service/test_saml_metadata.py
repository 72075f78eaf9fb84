"""IdP metadata for a SAML connection: uploaded, or fetched from its URL within the egress rule."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.events import housekeeping
from scimgate.events.worker import Worker, WorkerOptions
from scimgate.model.entities import Tenant
from scimgate.service import saml, saml_metadata, sso
from scimgate.service.clock import utcnow
from scimgate.service.egress import EgressPolicy
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring
from scimgate.storage.database import Database
from tests.egress import LOOPBACK, PUBLIC_ADDRESS, public_dns
from tests.idps.simplesamlphp import (
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    skip_or_fail_without_simplesamlphp()
    with running_simplesamlphp(tmp_path_factory.mktemp("simplesamlphp")) as server:
        yield server


def test_fetching_reads_entity_id_sso_url_and_certificate_expiry(idp: SimpleSamlPhp) -> None:
    metadata = saml_metadata.fetch_idp_metadata(idp.metadata_url, LOOPBACK)
    assert metadata.entity_id == idp.entity_id
    config = saml_metadata.config_from_metadata(metadata)
    assert config["idp_sso_url"] == idp.sso_url
    expected = saml.certificate(idp.keys.cert_pem).not_after.isoformat()
    assert config["idp_certificate_expiry"] == [expected]


def test_a_loopback_metadata_url_is_refused_by_default(idp: SimpleSamlPhp) -> None:
    with pytest.raises(SsoRejected) as caught:
        saml_metadata.fetch_idp_metadata(idp.metadata_url, EgressPolicy())
    assert caught.value.check == "metadata"
    assert "loopback" in caught.value.detail


def _served(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (httpx.Response(302, headers={"Location": "http://127.0.0.1/"}), "HTTP 302"),
        (httpx.Response(500), "HTTP 500"),
        (httpx.Response(200, content=b"x" * (saml_metadata.MAX_METADATA_BYTES + 1)), "larger"),
        (httpx.Response(200, content=b"<html>not metadata</html>"), "no IdP entity id"),
    ],
    ids=["redirect-not-followed", "server-error", "too-large", "not-metadata"],
)
def test_a_bad_answer_is_refused_in_words(response: httpx.Response, words: str) -> None:
    with pytest.raises(SsoRejected) as caught:
        saml_metadata.fetch_idp_metadata(
            "https://idp.example.test/metadata",
            public_dns("idp.example.test"),
            transport=_served(lambda _: response),
        )
    assert caught.value.check == "metadata"
    assert words in caught.value.detail


def test_a_non_http_url_is_refused() -> None:
    with pytest.raises(SsoRejected) as caught:
        saml_metadata.fetch_idp_metadata("file:///etc/passwd", LOOPBACK)
    assert "not an http(s) URL" in caught.value.detail


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def test_refresh_stores_the_idp_values_in_the_connection(
    idp: SimpleSamlPhp, db: Database, acme: Tenant, settings: Settings
) -> None:
    connection = sso.create_connection(
        db,
        acme,
        {"name": "SSP", "protocol": "saml", "config": {"idp_metadata_url": idp.metadata_url}},
    )
    assert saml_metadata.needs_metadata(connection)
    updated = saml_metadata.refresh_idp_metadata(db, acme, connection, settings, egress=LOOPBACK)
    assert not saml_metadata.needs_metadata(updated)
    stored = sso.get_connection(db, acme, connection.id).config
    assert stored["idp_entity_id"] == idp.entity_id
    assert stored["idp_metadata_url"] == idp.metadata_url
    assert stored["idp_certificates"] == [saml.normalise_certificate(idp.keys.cert_pem)]
    assert "idp_metadata_fetched_at" in stored


def test_an_upload_stores_the_idp_values(idp: SimpleSamlPhp, db: Database, acme: Tenant) -> None:
    connection = sso.create_connection(db, acme, {"name": "SSP", "protocol": "saml"})
    updated = saml_metadata.apply_idp_metadata(db, acme, connection, idp.metadata_xml())
    assert updated.config["idp_sso_url"] == idp.sso_url
    with pytest.raises(SsoRejected):
        saml_metadata.apply_idp_metadata(db, acme, connection, "<!DOCTYPE x []><x/>")


def test_a_plain_http_metadata_url_off_loopback_is_refused(idp: SimpleSamlPhp) -> None:
    """Over plain http anyone on the way could swap in their own signing certificate."""
    served = _served(lambda _: httpx.Response(200, content=idp.metadata_xml().encode()))
    with pytest.raises(SsoRejected) as caught:
        saml_metadata.fetch_idp_metadata(
            "http://idp.example.test/metadata", public_dns("idp.example.test"), transport=served
        )
    assert caught.value.check == "metadata"
    assert "https" in caught.value.detail
    fetched = saml_metadata.fetch_idp_metadata(
        "https://idp.example.test/metadata", public_dns("idp.example.test"), transport=served
    )
    assert fetched.entity_id == idp.entity_id


class MetadataServer:
    """Serves a metadata document on 127.0.0.1 until told to fail with HTTP 503."""

    def __init__(self, xml: str) -> None:
        self.xml = xml.encode()
        self.failing = False
        self.fetches = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.fetches += 1
                self.send_response(503 if served.failing else 200)
                body = b"" if served.failing else served.xml
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(idp: SimpleSamlPhp) -> Iterator[MetadataServer]:
    server = MetadataServer(idp.metadata_xml())
    yield server
    server.close()


def _by_url(db: Database, tenant: Tenant, name: str, url: str) -> sso.Connection:
    fields = {"name": name, "protocol": "saml", "config": {"idp_metadata_url": url}}
    return sso.create_connection(db, tenant, fields)


def _refresh_due(db: Database, now: datetime, limit: int = 10) -> tuple[int, int]:
    return saml_metadata.refresh_due(
        db, now, every=timedelta(hours=24), limit=limit, egress=LOOPBACK
    )


def test_the_schedule_fetches_what_is_due_and_leaves_the_rest(
    served: MetadataServer, db: Database, acme: Tenant
) -> None:
    connection = _by_url(db, acme, "SSP", served.url)
    now = utcnow()
    assert _refresh_due(db, now) == (1, 0)
    assert sso.get_connection(db, acme, connection.id).config["idp_entity_id"]
    assert _refresh_due(db, now + timedelta(hours=23)) == (0, 0)
    assert served.fetches == 1
    assert _refresh_due(db, now + timedelta(hours=25)) == (1, 0)
    assert served.fetches == 2


def test_the_schedule_fetches_at_most_its_limit_per_pass_oldest_first(
    served: MetadataServer, db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    globex = make_tenant("globex")
    first = _by_url(db, acme, "one", served.url)
    _by_url(db, globex, "two", served.url)
    _by_url(db, acme, "three", served.url)
    now = utcnow()
    assert _refresh_due(db, now, limit=2) == (2, 0)
    assert _refresh_due(db, now, limit=2) == (1, 0)
    assert _refresh_due(db, now, limit=2) == (0, 0)
    assert served.fetches == 3
    # The one fetched longest ago goes first once all are due again.
    assert _refresh_due(db, now + timedelta(days=2), limit=1) == (1, 0)
    checked = sso.get_connection(db, acme, first.id).config["idp_metadata_checked_at"]
    assert datetime.fromisoformat(str(checked)) > now


def test_a_failed_refresh_keeps_the_last_good_metadata_and_says_why(
    served: MetadataServer, db: Database, acme: Tenant
) -> None:
    connection = _by_url(db, acme, "SSP", served.url)
    now = utcnow()
    _refresh_due(db, now)
    good = dict(sso.get_connection(db, acme, connection.id).config)
    served.failing = True
    assert _refresh_due(db, now + timedelta(days=2)) == (0, 1)
    failed = sso.get_connection(db, acme, connection.id).config
    assert "HTTP 503" in str(failed["idp_metadata_error"])
    assert failed["idp_certificates"] == good["idp_certificates"]
    assert failed["idp_entity_id"] == good["idp_entity_id"]
    served.failing = False
    assert _refresh_due(db, now + timedelta(days=4)) == (1, 0)
    assert "idp_metadata_error" not in sso.get_connection(db, acme, connection.id).config


def test_the_worker_housekeeping_refreshes_metadata(
    served: MetadataServer, db: Database, acme: Tenant
) -> None:
    connection = _by_url(db, acme, "SSP", served.url)
    options = WorkerOptions(egress=LOOPBACK, sso_metadata_refresh_batch=5)
    assert housekeeping.refresh_idp_metadata(db, utcnow(), options) == 1
    assert sso.get_connection(db, acme, connection.id).config["idp_entity_id"]
    off = WorkerOptions(egress=LOOPBACK, sso_metadata_refresh_batch=0)
    assert housekeeping.refresh_idp_metadata(db, utcnow() + timedelta(days=2), off) == 0


def test_a_worker_pass_fetches_the_metadata_that_is_due(
    served: MetadataServer, db: Database, acme: Tenant
) -> None:
    connection = _by_url(db, acme, "SSP", served.url)
    worker = Worker(
        db, WorkerOptions(egress=LOOPBACK), keyring=Keyring("k", purpose=WEBHOOK_SECRET)
    )
    try:
        worker.run_once()
    finally:
        worker.close()
    assert served.fetches == 1
    assert sso.get_connection(db, acme, connection.id).config["idp_entity_id"]


class Rebinding:
    """A DNS that answers a public address first, then loopback (DNS rebinding)."""

    def __init__(self) -> None:
        self.answers = [PUBLIC_ADDRESS, "127.0.0.1"]

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def test_a_metadata_host_rebound_to_loopback_after_the_check_is_not_connected_to(
    served: MetadataServer,
) -> None:
    port = served.server.server_address[1]
    with pytest.raises(SsoRejected) as caught:
        saml_metadata.fetch_idp_metadata(
            f"https://idp.example.test:{port}/metadata", EgressPolicy(resolve=Rebinding())
        )
    assert "loopback" in caught.value.detail
    assert served.fetches == 0
