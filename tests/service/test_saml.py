"""The SAML adapter against a real IdP (SimpleSAMLphp): sign-in and the attacks it refuses.

Responses come from the IdP's own login form. Cases the IdP will not produce are
made from one of its responses and signed again with the test IdP's key
(tests/idps/crafting.py), so each refusal below comes from the check it names.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx2
import lxml.etree
import pytest
import xmlsec

from scimgate.errors import SsoRejected
from scimgate.service import saml
from tests.idps import crafting
from tests.idps.keys import KeyPair, make_key_pair
from tests.idps.simplesamlphp import (
    RSA_SHA1,
    IdpPost,
    SimpleSamlPhp,
    running_simplesamlphp,
    skip_or_fail_without_simplesamlphp,
)

PUBLIC_URL = "https://scim.example.test"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    skip_or_fail_without_simplesamlphp()
    with running_simplesamlphp(tmp_path_factory.mktemp("simplesamlphp")) as server:
        yield server


@pytest.fixture(scope="module")
def sp_keys() -> KeyPair:
    return make_key_pair("sp.scim.example.test")


def connect(
    idp: SimpleSamlPhp,
    keys: KeyPair,
    slug: str,
    *,
    encrypt: bool = False,
    sign_response: bool = True,
    sign_assertion: bool = True,
    signature_algorithm: str | None = None,
    **policy: object,
) -> saml.SamlConnection:
    """A connection for tenant ``slug``, registered with the IdP as its SP."""
    sp = saml.ServiceProvider(
        entity_id=f"{PUBLIC_URL}/sso/{slug}/saml/metadata",
        acs_url=f"{PUBLIC_URL}/sso/{slug}/saml/acs",
        cert_pem=keys.cert_pem,
        key_pem=keys.key_pem,
    )
    idp.register_sp(
        sp.entity_id,
        sp.acs_url,
        cert_pem=keys.cert_pem,
        encrypt=encrypt,
        sign_response=sign_response,
        sign_assertion=sign_assertion,
        signature_algorithm=signature_algorithm,
    )
    metadata = saml.parse_idp_metadata(idp.metadata_xml())
    return saml.SamlConnection(sp, metadata.provider(), saml.Policy(**policy))  # type: ignore[arg-type]


def sign_in(
    idp: SimpleSamlPhp, conn: saml.SamlConnection, user: str = "alice"
) -> tuple[saml.AuthnRedirect, IdpPost]:
    redirect = saml.authn_request(conn, relay_state="ref-1")
    with httpx2.Client() as client:
        post = idp.login(client, redirect.url, user, f"{user}pass")
    return redirect, post


@pytest.fixture(scope="module")
def acme(idp: SimpleSamlPhp, sp_keys: KeyPair) -> saml.SamlConnection:
    return connect(idp, sp_keys, "acme")


@pytest.fixture(scope="module")
def acme_login(idp: SimpleSamlPhp, acme: saml.SamlConnection) -> tuple[saml.AuthnRedirect, IdpPost]:
    return sign_in(idp, acme)


def verify(
    conn: saml.SamlConnection,
    response: str,
    request_id: str | None,
    *,
    allow_idp_initiated: bool = False,
    now: dt.datetime | None = None,
) -> saml.VerifiedResponse:
    return saml.verify_response(
        conn, response, request_id=request_id, allow_idp_initiated=allow_idp_initiated, now=now
    )


def refused(
    conn: saml.SamlConnection, response: str, request_id: str | None, **kwargs: object
) -> SsoRejected:
    with pytest.raises(SsoRejected) as caught:
        verify(conn, response, request_id, **kwargs)  # type: ignore[arg-type]
    return caught.value


def resigned(idp: SimpleSamlPhp, root: lxml.etree._Element) -> str:
    return crafting.encode(crafting.resign(root, idp.keys.key_pem, idp.keys.cert_pem))


# -- the libraries ------------------------------------------------------------------


def test_xmlsec_and_lxml_share_one_libxml2() -> None:
    """A lock that moves one without the other breaks here (or at the import above)."""
    assert xmlsec.get_libxml_version() == lxml.etree.LIBXML_VERSION


def test_an_xmlsec_signature_round_trips(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    root = crafting.resign(crafting.parse(post.saml_response), idp.keys.key_pem, idp.keys.cert_pem)
    crafting.verify(crafting.assertion(root), idp.keys.cert_pem)
    crafting.verify(root, idp.keys.cert_pem)
    result = verify(acme, crafting.encode(root), redirect.request_id)
    assert result.identity.subject == "alice@example.test"


# -- metadata -----------------------------------------------------------------------


def test_idp_metadata_gives_entity_id_sso_url_and_certificate_expiry(
    idp: SimpleSamlPhp,
) -> None:
    metadata = saml.parse_idp_metadata(idp.metadata_xml())
    assert metadata.entity_id == idp.entity_id
    assert metadata.sso_url == idp.sso_url
    [cert] = metadata.certificates
    expected = saml.certificate(idp.keys.cert_pem)
    assert cert.not_after == expected.not_after
    assert cert.sha256 == expected.sha256
    assert not cert.expires_within(30)
    assert cert.expires_within(400)


def test_idp_metadata_with_a_dtd_is_refused(idp: SimpleSamlPhp) -> None:
    xml = idp.metadata_xml()
    evil = xml.replace(
        "<md:EntityDescriptor",
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor',
        1,
    )
    with pytest.raises(SsoRejected) as caught:
        saml.parse_idp_metadata(evil)
    assert caught.value.check == "xml"


def test_metadata_without_a_redirect_endpoint_is_refused() -> None:
    xml = (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:x">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
        "</md:EntityDescriptor>"
    )
    with pytest.raises(SsoRejected) as caught:
        saml.parse_idp_metadata(xml)
    assert caught.value.check == "metadata"


def test_sp_metadata_publishes_entity_id_acs_and_both_certificates_during_rotation(
    acme: saml.SamlConnection,
) -> None:
    previous = make_key_pair("previous.sp.scim.example.test")
    conn = dataclasses.replace(
        acme, sp=dataclasses.replace(acme.sp, previous_cert_pem=previous.cert_pem)
    )
    xml = saml.sp_metadata(conn.sp)
    assert f'entityID="{acme.sp.entity_id}"' in xml
    assert f'Location="{acme.sp.acs_url}"' in xml
    assert 'AuthnRequestsSigned="true"' in xml
    assert 'WantAssertionsSigned="true"' in xml
    for pem in (acme.sp.cert_pem, previous.cert_pem):
        body = "".join(line for line in pem.splitlines() if "-----" not in line)
        assert body in xml.replace("\n", "")


def test_connection_from_config_reads_the_stored_keys(
    idp: SimpleSamlPhp, acme: saml.SamlConnection
) -> None:
    config = {
        "idp_entity_id": idp.entity_id,
        "idp_sso_url": idp.sso_url,
        "idp_certificates": [idp.keys.cert_pem],
        "want_encrypted": True,
        "group_attribute": "memberOf",
    }
    conn = saml.connection_from_config(config, acme.sp)
    assert conn.idp.entity_id == idp.entity_id
    assert conn.policy.want_encrypted
    assert conn.policy.want_assertion_signed
    assert conn.policy.attributes.groups == "memberOf"
    with pytest.raises(SsoRejected) as caught:
        saml.connection_from_config({**config, "idp_certificates": []}, acme.sp)
    assert caught.value.check == "metadata"


# -- sign-in ------------------------------------------------------------------------


def test_sp_initiated_sign_in_yields_the_identity_and_the_ids_to_remember(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    assert post.action == acme.sp.acs_url
    assert post.relay_state == "ref-1"
    assert saml.peek(post.saml_response) == saml.Peek(acme.idp.entity_id, redirect.request_id)
    result = verify(acme, post.saml_response, redirect.request_id)
    identity = result.identity
    assert identity.subject == "alice@example.test"
    assert identity.email == "alice@example.test"
    assert (identity.given_name, identity.family_name) == ("Alice", "Liddell")
    assert identity.display_name == "Alice Liddell"
    assert identity.groups == ("scim-admins", "engineering")
    assert identity.claims["uid"] == ["alice"]
    assert result.in_response_to == redirect.request_id
    assert result.assertion_id.startswith("_")
    now = dt.datetime.now(dt.UTC)
    assert now < result.not_on_or_after < now + dt.timedelta(minutes=10)
    assert result.keep_until == result.not_on_or_after + saml.DEFAULT_CLOCK_SKEW


def test_the_idp_refuses_an_authn_request_signed_by_another_key(
    idp: SimpleSamlPhp, acme: saml.SamlConnection
) -> None:
    """The IdP checks our AuthnRequest signatures, so the fixture proves we sign them."""
    stranger = make_key_pair("stranger")
    forged = dataclasses.replace(
        acme, sp=dataclasses.replace(acme.sp, cert_pem=stranger.cert_pem, key_pem=stranger.key_pem)
    )
    redirect = saml.authn_request(forged, relay_state="x")
    with httpx2.Client() as client:
        page = client.get(redirect.url, follow_redirects=True)
    assert "SAMLResponse" not in page.text
    assert "AuthState" not in page.text


def test_an_encrypted_assertion_is_decrypted(idp: SimpleSamlPhp, sp_keys: KeyPair) -> None:
    globex = connect(idp, sp_keys, "globex", encrypt=True, sign_response=False, want_encrypted=True)
    redirect, post = sign_in(idp, globex, "bob")
    assert b"EncryptedAssertion" in base64.b64decode(post.saml_response)
    assert b"bob@example.test" not in base64.b64decode(post.saml_response)
    result = verify(globex, post.saml_response, redirect.request_id)
    assert result.identity.subject == "bob@example.test"
    assert result.identity.groups == ("readers",)


def test_a_clear_assertion_is_refused_when_encryption_is_required(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    strict = dataclasses.replace(acme, policy=saml.Policy(want_encrypted=True))
    assert refused(strict, post.saml_response, redirect.request_id).check == "encryption"


def test_idp_initiated_is_refused_unless_the_connection_allows_it(
    idp: SimpleSamlPhp, acme: saml.SamlConnection
) -> None:
    with httpx2.Client() as client:
        post = idp.idp_initiated(client, acme.sp.entity_id, "bob", "bobpass", relay_state="r")
    assert saml.peek_in_response_to(post.saml_response) is None
    rejection = refused(acme, post.saml_response, None)
    assert rejection.check == "idp_initiated"
    result = verify(acme, post.saml_response, None, allow_idp_initiated=True)
    assert result.identity.subject == "bob@example.test"
    assert result.in_response_to is None


# -- attacks ------------------------------------------------------------------------


def test_an_unsigned_response_is_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    root = crafting.strip_signatures(crafting.parse(post.saml_response))
    rejection = refused(acme, crafting.encode(root), redirect.request_id)
    assert rejection.check == "signature"
    assert "not signed" in rejection.detail


def test_a_signed_response_around_an_unsigned_assertion_is_refused(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    """Only the Response is signed: the default policy wants the assertion signed."""
    redirect, post = acme_login
    root = crafting.strip_signatures(crafting.parse(post.saml_response))
    crafting.sign(root, idp.keys.key_pem, idp.keys.cert_pem)
    rejection = refused(acme, crafting.encode(root), redirect.request_id)
    assert rejection.check == "signature"
    assert "assertion is not signed" in rejection.detail
    lenient = dataclasses.replace(
        acme, policy=saml.Policy(want_assertion_signed=False, want_response_signed=True)
    )
    assert verify(lenient, crafting.encode(root), redirect.request_id).identity.groups


def test_signature_wrapping_with_a_second_unsigned_assertion_is_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    root = crafting.with_second_assertion(crafting.parse(post.saml_response), "mallory@evil.test")
    rejection = refused(acme, crafting.encode(root), redirect.request_id)
    assert rejection.check == "signature"
    assert "exactly one assertion" in rejection.detail


def test_an_attribute_changed_after_signing_is_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    xml = base64.b64decode(post.saml_response).decode()
    assert ">readers<" not in xml
    assert ">engineering<" in xml
    tampered = base64.b64encode(xml.replace(">engineering<", ">owners<").encode()).decode()
    rejection = refused(acme, tampered, redirect.request_id)
    assert rejection.check == "signature"
    assert "altered after signing" in rejection.detail


def test_a_response_signed_by_another_key_is_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    other = make_key_pair("other-idp")
    root = crafting.resign(crafting.parse(post.saml_response), other.key_pem, other.cert_pem)
    assert refused(acme, crafting.encode(root), redirect.request_id).check == "signature"


def test_a_sha1_signature_from_the_idp_is_refused(idp: SimpleSamlPhp, sp_keys: KeyPair) -> None:
    legacy = connect(idp, sp_keys, "legacy", signature_algorithm=RSA_SHA1)
    redirect, post = sign_in(idp, legacy)
    assert b"rsa-sha1" in base64.b64decode(post.saml_response)
    rejection = refused(legacy, post.saml_response, redirect.request_id)
    assert rejection.check == "algorithm"
    assert "SHA-1" in rejection.detail


def test_a_sha1_digest_is_refused(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    root = crafting.resign(
        crafting.parse(post.saml_response),
        idp.keys.key_pem,
        idp.keys.cert_pem,
        digest=xmlsec.constants.TransformSha1,
    )
    assert refused(acme, crafting.encode(root), redirect.request_id).check == "algorithm"


def _edited(idp: SimpleSamlPhp, post: IdpPost, path: str, attribute: str | None, value: str) -> str:
    root = crafting.parse(post.saml_response)
    nodes = [root] if path == "." else root.findall(path, crafting.NS)
    assert nodes, path
    for node in nodes:
        if attribute is None:
            node.text = value
        else:
            node.set(attribute, value)
    return resigned(idp, root)


AUDIENCE = "saml:Assertion/saml:Conditions/saml:AudienceRestriction/saml:Audience"
CONFIRMATION = "saml:Assertion/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData"
CONDITIONS = "saml:Assertion/saml:Conditions"


def test_a_wrong_audience_is_refused_naming_both_values(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    response = _edited(idp, post, AUDIENCE, None, "https://other.example.test/sp")
    rejection = refused(acme, response, redirect.request_id)
    assert rejection.check == "audience"
    assert rejection.detail == (
        "the assertion's Audience is https://other.example.test/sp, "
        f"this connection expects {acme.sp.entity_id}"
    )


@pytest.mark.parametrize(
    "destination",
    ["https://other.example.test/acs", f"{PUBLIC_URL}/sso/acme/saml/acs-elsewhere"],
    ids=["another-host", "our-acs-as-a-prefix"],
)
def test_a_wrong_destination_is_refused(
    idp: SimpleSamlPhp,
    acme: saml.SamlConnection,
    acme_login: tuple[saml.AuthnRedirect, IdpPost],
    destination: str,
) -> None:
    redirect, post = acme_login
    rejection = refused(
        acme, _edited(idp, post, ".", "Destination", destination), redirect.request_id
    )
    assert rejection.check == "destination"
    assert destination in rejection.detail
    assert acme.sp.acs_url in rejection.detail


@pytest.mark.parametrize(
    "recipient",
    [
        "https://other.example.test/acs",
        f"https://evil.example.test/?{PUBLIC_URL}/sso/acme/saml/acs",
    ],
    ids=["another-host", "our-acs-inside-it"],
)
def test_a_wrong_recipient_is_refused(
    idp: SimpleSamlPhp,
    acme: saml.SamlConnection,
    acme_login: tuple[saml.AuthnRedirect, IdpPost],
    recipient: str,
) -> None:
    redirect, post = acme_login
    response = _edited(idp, post, CONFIRMATION, "Recipient", recipient)
    rejection = refused(acme, response, redirect.request_id)
    assert rejection.check == "recipient"
    assert recipient in rejection.detail


def test_an_expired_assertion_is_refused(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = crafting.parse(post.saml_response)
    for path in (CONDITIONS, CONFIRMATION):
        for node in root.findall(path, crafting.NS):
            node.set("NotOnOrAfter", past)
    assert refused(acme, resigned(idp, root), redirect.request_id).check == "expired"


def test_an_assertion_is_expired_on_a_clock_past_its_lifetime_and_skew(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    accepted = verify(acme, post.saml_response, redirect.request_id)
    late = accepted.not_on_or_after + saml.DEFAULT_CLOCK_SKEW + dt.timedelta(seconds=1)
    rejection = refused(acme, post.saml_response, redirect.request_id, now=late)
    assert rejection.check == "expired"
    assert "clock skew allowed: 120 s" in rejection.detail
    within = accepted.not_on_or_after + saml.DEFAULT_CLOCK_SKEW - dt.timedelta(seconds=1)
    assert verify(acme, post.saml_response, redirect.request_id, now=within)


def test_an_assertion_is_not_yet_valid_on_a_clock_behind_the_idp(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    early = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    rejection = refused(acme, post.saml_response, redirect.request_id, now=early)
    assert rejection.check == "not_yet_valid"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = _edited(idp, post, CONDITIONS, "NotBefore", soon)
    assert refused(acme, response, redirect.request_id).check == "not_yet_valid"


def test_a_response_to_a_request_we_did_not_send_is_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    unknown = refused(acme, post.saml_response, None, allow_idp_initiated=True)
    assert unknown.check == "in_response_to"
    assert redirect.request_id in unknown.detail
    other = refused(acme, post.saml_response, "ONELOGIN_another_request")
    assert other.check == "in_response_to"


def test_tenant_a_response_posted_to_tenant_b_is_refused(
    idp: SimpleSamlPhp, sp_keys: KeyPair, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    """Same IdP, same keys, same settings: only the tenant's own URLs tell them apart."""
    redirect, post = acme_login
    initech = connect(idp, sp_keys, "initech")
    rejection = refused(initech, post.saml_response, redirect.request_id)
    assert rejection.check == "destination"
    assert "/sso/acme/saml/acs" in rejection.detail
    assert "/sso/initech/saml/acs" in rejection.detail


XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0">'
    "&x;</samlp:Response>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0">'
    "&d;</samlp:Response>"
)


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_xml_with_a_dtd_is_refused_before_parsing(acme: saml.SamlConnection, xml: str) -> None:
    response = base64.b64encode(xml.encode()).decode()
    rejection = refused(acme, response, None)
    assert rejection.check == "xml"
    assert "document type declaration" in rejection.detail
    with pytest.raises(SsoRejected):
        saml.peek_in_response_to(response)


@pytest.mark.parametrize(
    ("message", "words"),
    [("", "no SAMLResponse"), ("not base64 at all!", "not valid base64"), ("PGE+", "well-formed")],
)
def test_a_malformed_message_is_refused_in_words(
    acme: saml.SamlConnection, message: str, words: str
) -> None:
    rejection = refused(acme, message, None)
    assert rejection.check == "xml"
    assert words in rejection.detail


def test_the_idp_fixture_writes_its_config_under_its_own_folder(idp: SimpleSamlPhp) -> None:
    assert Path(idp.root, "config", "config.php").read_text().count(idp.base_url) == 1


def test_only_the_adapter_imports_the_saml_libraries() -> None:
    """Swapping the SAML library touches one module."""
    package = Path(saml.__file__).resolve().parents[1]
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in {"onelogin", "xmlsec", "lxml"} for n in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"service/saml.py"}


def test_a_public_url_without_dots_is_accepted(acme: saml.SamlConnection) -> None:
    """A compose service name or an intranet host as PUBLIC_URL."""
    sp = dataclasses.replace(
        acme.sp,
        entity_id="http://scimgate:8000/sso/acme/saml/metadata",
        acs_url="http://scimgate:8000/sso/acme/saml/acs",
    )
    assert 'Location="http://scimgate:8000/sso/acme/saml/acs"' in saml.sp_metadata(sp)
    redirect = saml.authn_request(dataclasses.replace(acme, sp=sp), relay_state="r")
    assert redirect.url.startswith(acme.idp.sso_url)


def test_peek_falls_back_to_the_assertion_issuer(
    idp: SimpleSamlPhp, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    _, post = acme_login
    root = crafting.parse(post.saml_response)
    root.remove(root.find("saml:Issuer", crafting.NS))
    assert saml.peek(crafting.encode(root)).issuer == idp.entity_id


NAME_ID = "saml:Assertion/saml:Subject/saml:NameID"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


def _without_mail(root: lxml.etree._Element, name_id_format: str) -> lxml.etree._Element:
    statement = root.find("saml:Assertion/saml:AttributeStatement", crafting.NS)
    for attribute in statement.findall("saml:Attribute", crafting.NS):
        if attribute.get("Name") == "mail":
            statement.remove(attribute)
    root.find(NAME_ID, crafting.NS).set("Format", name_id_format)
    return root


def test_a_persistent_name_id_is_never_taken_for_an_email(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    """An identifier an IdP lets people choose must not become the email a user is matched by."""
    redirect, post = acme_login
    root = _without_mail(crafting.parse(post.saml_response), PERSISTENT)
    identity = verify(acme, resigned(idp, root), redirect.request_id).identity
    assert (identity.subject, identity.email) == ("alice@example.test", None)


def test_an_unspecified_name_id_that_is_an_address_still_gives_the_email(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    redirect, post = acme_login
    root = _without_mail(crafting.parse(post.saml_response), UNSPECIFIED)
    identity = verify(acme, resigned(idp, root), redirect.request_id).identity
    assert identity.email == "alice@example.test"


def test_a_comment_inside_the_name_id_does_not_cut_it_short(
    idp: SimpleSamlPhp, acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost]
) -> None:
    """The IdP signed ``alice@example.test<!---->.evil.test``: that whole value is the subject."""
    redirect, post = acme_login
    root = crafting.parse(post.saml_response)
    name_id = root.find(NAME_ID, crafting.NS)
    comment = lxml.etree.Comment("")
    comment.tail = ".evil.test"
    name_id.append(comment)
    identity = verify(acme, resigned(idp, root), redirect.request_id).identity
    assert identity.subject == "alice@example.test.evil.test"
    assert identity.email == "alice@example.test"  # the mail attribute, not the NameID


def _hide(root: lxml.etree._Element, forged: lxml.etree._Element, where: str) -> None:
    signed = crafting.assertion(root)
    wrapper = lxml.etree.Element("{urn:example:wrapper}Wrapper")
    if where == "extensions":
        extensions = lxml.etree.Element("{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
        extensions.append(forged)
        root.find("saml:Issuer", crafting.NS).addnext(extensions)
    elif where == "wrapped":
        wrapper.append(forged)
        signed.addprevious(wrapper)
    elif where == "signed-one-wrapped":
        forged.set("ID", signed.get("ID"))
        signed.addprevious(forged)
        root.remove(signed)
        wrapper.append(signed)
        forged.addnext(wrapper)
    else:  # inside the signature, where a verifier reads no content
        signature = signed.find("ds:Signature", crafting.NS)
        lxml.etree.SubElement(signature, "{http://www.w3.org/2000/09/xmldsig#}Object").append(
            forged
        )


@pytest.mark.parametrize("where", ["extensions", "wrapped", "signed-one-wrapped", "signature"])
def test_signature_wrapping_variants_are_refused(
    acme: saml.SamlConnection, acme_login: tuple[saml.AuthnRedirect, IdpPost], where: str
) -> None:
    """A forged assertion hidden anywhere beside the signed one: never read, always refused."""
    redirect, post = acme_login
    root = crafting.parse(post.saml_response)
    forged = crafting.assertion(
        crafting.with_second_assertion(crafting.parse(post.saml_response), "mallory@evil.test")
    )
    _hide(root, forged, where)
    rejection = refused(acme, crafting.encode(root), redirect.request_id)
    assert rejection.check == "signature"
