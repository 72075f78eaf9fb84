"""A connection is checked when the host API creates or changes it: 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from scimgate.config import Settings
from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.storage.database import Database
from tests.api.conftest import HostApi, assert_problem
from tests.idps.keys import make_key_pair

CONNECTIONS = "/tenants/acme/sso/connections"
CERT = make_key_pair("idp.example.test").cert_pem
SAML = {
    "idp_entity_id": "https://idp.example.test/saml",
    "idp_sso_url": "https://idp.example.test/sso",
    "idp_certificates": [CERT],
}
OIDC = {"issuer": "https://login.example.test", "client_id": "scimgate"}


def _saml(**config: Any) -> dict[str, Any]:
    return {"name": "IdP", "protocol": "saml", "config": {**SAML, **config}}


def _without(config: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != key}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "IdP", "protocol": "saml"}, "config.idp_entity_id is required"),
        (
            {"name": "IdP", "protocol": "saml", "config": _without(SAML, "idp_sso_url")},
            "config.idp_sso_url is required",
        ),
        (_saml(idp_sso_url="http://idp.example.test/sso"), "must use https"),
        (_saml(idp_sso_url="/sso"), "absolute https URL"),
        (_saml(idp_certificates=[]), "at least one certificate"),
        (_saml(idp_certificates=["not a certificate"]), "idp_certificates[1] is not a readable"),
        (_saml(want_assertions_signed=True), "unknown config keys"),
        (_saml(idp_metadata_xml="<x/>"), "config.idp_metadata_xml"),
        (
            {"name": "IdP", "protocol": "saml", "config": {"idp_metadata_url": "ftp://x/md"}},
            "config.idp_metadata_url must be an absolute https URL",
        ),
        (
            {"name": "IdP", "protocol": "oidc", "config": OIDC},
            "needs its client secret",
        ),
        (
            {
                "name": "IdP",
                "protocol": "oidc",
                "config": _without(OIDC, "client_id"),
                "clientSecret": "s",
            },
            "config.client_id is required",
        ),
        (
            {
                "name": "IdP",
                "protocol": "oidc",
                "config": {**OIDC, "issuer": "login"},
                "clientSecret": "s",
            },
            "config.issuer must be an absolute https URL",
        ),
        (
            {
                "name": "IdP",
                "protocol": "oidc",
                "config": {**OIDC, "idp_sso_url": "https://x"},
                "clientSecret": "s",
            },
            "unknown config keys for a oidc connection: idp_sso_url",
        ),
    ],
)
def test_an_incomplete_or_wrong_connection_is_refused_in_words(
    api: HostApi, body: dict[str, Any], words: str
) -> None:
    response = api.post(CONNECTIONS, body)
    assert_problem(response, 400)
    assert words in response.json()["detail"]
    assert api.ok(CONNECTIONS)["items"] == []


def test_complete_connections_are_accepted(api: HostApi) -> None:
    saml = api.created(CONNECTIONS, _saml())
    assert saml["config"]["idp_certificates"] == [CERT.replace("\r", "")]
    by_url = {"idp_metadata_url": "https://idp.example.test/metadata"}
    api.created(CONNECTIONS, {"name": "by url", "protocol": "saml", "config": by_url})
    oidc = {"name": "OP", "protocol": "oidc", "config": OIDC, "clientSecret": "s3cret"}
    api.created(CONNECTIONS, oidc)
    loopback = _saml(idp_sso_url="http://127.0.0.1:8080/sso")  # dev mode allows it
    api.created(CONNECTIONS, {**loopback, "name": "local"})


def test_a_change_is_checked_against_the_whole_connection(api: HostApi) -> None:
    made = api.created(CONNECTIONS, _saml())
    path = f"{CONNECTIONS}/{made['id']}"
    broken = api.patch(path, {"config": _without(SAML, "idp_certificates")})
    assert_problem(broken, 400)
    assert "at least one certificate" in broken.json()["detail"]
    unknown = api.patch(path, {"config": {**SAML, "surprise": 1}})
    assert_problem(unknown, 400)
    assert "surprise" in unknown.json()["detail"]
    assert_problem(api.patch(path, {"protocol": "oidc"}), 422)  # fixed at creation
    assert api.ok(path)["config"]["idp_entity_id"] == SAML["idp_entity_id"]
    assert api.patch(path, {"enabled": False}).json()["enabled"] is False


def test_a_connection_stored_incomplete_can_still_be_turned_off(
    api: HostApi, db: Database, acme: Tenant
) -> None:
    stored = sso.create_connection(db, acme, {"name": "old", "protocol": "saml"})
    path = f"{CONNECTIONS}/{stored.id}"
    assert api.patch(path, {"enabled": False, "name": "old, off"}).json()["enabled"] is False
    assert_problem(api.patch(path, {"config": {"group_attribute": "memberOf"}}), 400)


def _metadata_document(cert_pem: str) -> str:
    body = "".join(line for line in cert_pem.splitlines() if "-----" not in line)
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.test/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{body}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="https://idp.example.test/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def test_a_metadata_document_is_read_into_the_idp_values(api: HostApi) -> None:
    xml = _metadata_document(CERT)
    made = api.created(
        CONNECTIONS, {"name": "IdP", "protocol": "saml", "config": {"idp_metadata_xml": xml}}
    )
    assert made["config"]["idp_entity_id"] == "https://idp.example.test/saml"
    assert made["config"]["idp_sso_url"] == "https://idp.example.test/sso"
    assert "idp_metadata_xml" not in made["config"]


def test_plain_http_to_loopback_is_refused_outside_dev_mode(
    db: Database, acme: Tenant, settings: Settings
) -> None:
    production = settings.model_copy(update={"dev_mode": False})
    fields = _saml(idp_sso_url="http://127.0.0.1:8080/sso")
    with pytest.raises(InvalidValue, match="must use https"):
        sso.create_connection(db, acme, fields, settings=production)
    assert sso.create_connection(db, acme, fields, settings=settings).config["idp_sso_url"]


def _published(api: HostApi) -> str:
    response = api.http.get("/sso/acme/saml/metadata")
    assert response.status_code == 200, response.text
    return response.text.replace("\n", "")


def _body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def test_an_sp_key_rotation_publishes_both_certificates_until_finished(api: HostApi) -> None:
    rotate = "/tenants/acme/sso/sp-keys/rotate"
    first = _published(api)
    started = api.post(rotate, {}).json()
    assert started["rotating"] is True
    old, new = started["previousCertificate"], started["certificate"]
    assert _body(old) in first
    during = _published(api)
    assert _body(old) in during
    assert _body(new) in during
    assert_problem(api.post(rotate, {}), 409)  # one rotation at a time
    finished = api.post(rotate, {"finish": True}).json()
    assert finished == {"certificate": new, "previousCertificate": None, "rotating": False}
    after = _published(api)
    assert _body(new) in after
    assert _body(old) not in after
    assert_problem(api.post(rotate, {"finish": True}), 409)
    assert_problem(api.post(rotate, {"finish": "yes"}), 422)
