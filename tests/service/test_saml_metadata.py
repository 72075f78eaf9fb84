"""IdP metadata for a SAML connection: uploaded, or fetched from its URL within the egress rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import saml, saml_metadata, sso
from scimgate.service.egress import EgressPolicy
from scimgate.storage.database import Database
from tests.egress import LOOPBACK, public_dns
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
