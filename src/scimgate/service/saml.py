"""SAML 2.0 service provider: the one module that touches python3-saml, xmlsec and lxml.

A pure adapter, no database: it reads IdP metadata, writes SP metadata, builds
the signed AuthnRequest redirect and verifies a POSTed response into an
``ExternalIdentity``. Every refusal is an ``SsoRejected`` whose ``check`` names
the rule and whose detail says, in words, what was found and what was expected.

python3-saml does the XML work (schema, XML signatures, decryption). Its
defaults are loose, so the settings below are strict, and on top of it this
module refuses DTDs and entities before any parser sees a message, compares
Destination and Recipient exactly (the library compares by prefix and
substring), bounds the clock skew with its own clock, refuses a response that
answers a request this service did not send, and refuses IdP-initiated responses
unless the connection allows them. Replay (one use per assertion id) needs
storage, so the caller keeps it, with ``VerifiedResponse.keep_until``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml
import xmlsec
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from scimgate.errors import SsoRejected
from scimgate.model.sso import ExternalIdentity
from scimgate.service.saml_values import (
    NAMEID_UNSPECIFIED,
    AttributeNames,
    Certificate,
    certificate,
    identity_from_attributes,
    normalise_certificate,
)

DEFAULT_CLOCK_SKEW = dt.timedelta(minutes=2)
# A SAML response with a few dozen attributes is a few kilobytes; this leaves room
# for many groups and stops a huge body before base64 decoding and parsing.
MAX_MESSAGE_CHARS = 512 * 1024

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@dataclass(frozen=True, slots=True)
class IdentityProvider:
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    certificates: tuple[Certificate, ...]

    def provider(self) -> IdentityProvider:
        return IdentityProvider(
            self.entity_id, self.sso_url, tuple(c.pem for c in self.certificates)
        )


@dataclass(frozen=True, slots=True)
class ServiceProvider:
    """The tenant's side: its URLs and its key pair (the previous cert during a rotation)."""

    entity_id: str
    acs_url: str
    cert_pem: str
    key_pem: str
    previous_cert_pem: str | None = None
    # Decrypts what an IdP still encrypts with the previous certificate.
    previous_key_pem: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    want_response_signed: bool = False
    want_assertion_signed: bool = True
    want_encrypted: bool = False
    clock_skew: dt.timedelta = DEFAULT_CLOCK_SKEW
    name_id_format: str = NAMEID_UNSPECIFIED
    attributes: AttributeNames = field(default_factory=AttributeNames)


@dataclass(frozen=True, slots=True)
class SamlConnection:
    sp: ServiceProvider
    idp: IdentityProvider
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True, slots=True)
class AuthnRedirect:
    url: str
    request_id: str


@dataclass(frozen=True, slots=True)
class VerifiedResponse:
    identity: ExternalIdentity
    assertion_id: str
    issuer: str
    in_response_to: str | None
    not_on_or_after: dt.datetime
    # Until when the assertion id must stay in the replay cache: past it the
    # assertion is refused as expired anyway.
    keep_until: dt.datetime


# -- configuration ------------------------------------------------------------------


def connection_from_config(
    config: Mapping[str, object], sp: ServiceProvider, *, clock_skew: dt.timedelta | None = None
) -> SamlConnection:
    """Build the adapter's view of a connection from its stored ``config`` mapping."""
    certificates = config.get("idp_certificates") or []
    if isinstance(certificates, str):
        certificates = [certificates]
    if not isinstance(certificates, Sequence):
        raise SsoRejected("metadata", "the connection's IdP certificates are not a list")
    idp = IdentityProvider(
        entity_id=_required_text(config, "idp_entity_id"),
        sso_url=_required_text(config, "idp_sso_url"),
        certificates=tuple(normalise_certificate(str(c)) for c in certificates),
    )
    if not idp.certificates:
        raise SsoRejected("metadata", "the connection has no IdP signing certificate")
    policy = Policy(
        want_response_signed=bool(config.get("want_response_signed", False)),
        want_assertion_signed=bool(config.get("want_assertion_signed", True)),
        want_encrypted=bool(config.get("want_encrypted", False)),
        clock_skew=clock_skew or DEFAULT_CLOCK_SKEW,
        name_id_format=str(config.get("name_id_format") or NAMEID_UNSPECIFIED),
        attributes=AttributeNames(
            groups=str(config.get("group_attribute") or "groups"),
            email=_optional_text(config, "email_attribute"),
            given_name=_optional_text(config, "given_name_attribute"),
            family_name=_optional_text(config, "family_name_attribute"),
        ),
    )
    return SamlConnection(sp=sp, idp=idp, policy=policy)


def _required_text(config: Mapping[str, object], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SsoRejected("metadata", f"the connection has no {key.replace('_', ' ')}")
    return value.strip()


def _optional_text(config: Mapping[str, object], key: str) -> str | None:
    value = config.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


# Building python3-saml's settings reformats the keys and certificates, a sizeable
# part of a verification (bench/README.md); a connection's settings never change.
@functools.lru_cache(maxsize=256)
def _settings(conn: SamlConnection) -> OneLogin_Saml2_Settings:
    policy = conn.policy
    if not (policy.want_assertion_signed or policy.want_response_signed):
        raise SsoRejected(
            "signature", "the connection requires no signature; it must require at least one"
        )
    data = {
        "strict": True,
        "debug": False,
        "sp": _sp_settings(conn.sp, policy.name_id_format),
        "idp": {
            "entityId": conn.idp.entity_id,
            "singleSignOnService": {"url": conn.idp.sso_url, "binding": C.BINDING_HTTP_REDIRECT},
            "x509certMulti": {"signing": list(conn.idp.certificates)},
        },
        "security": {
            "authnRequestsSigned": True,
            "wantAssertionsSigned": policy.want_assertion_signed,
            "wantMessagesSigned": policy.want_response_signed,
            "wantAssertionsEncrypted": policy.want_encrypted,
            "wantNameId": True,
            "wantNameIdEncrypted": False,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "rejectUnsolicitedResponsesWithInResponseTo": True,
            "signatureAlgorithm": RSA_SHA256,
            "digestAlgorithm": SHA256,
            # PUBLIC_URL may name a host without dots (a compose service, an intranet name).
            "allowSingleLabelDomains": True,
            "signMetadata": False,
        },
    }
    try:
        return OneLogin_Saml2_Settings(data, sp_validation_only=False)
    except OneLogin_Saml2_Error as exc:
        raise SsoRejected("metadata", f"the connection's SAML settings are invalid: {exc}") from exc


def _sp_settings(sp: ServiceProvider, name_id_format: str) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "entityId": sp.entity_id,
        "assertionConsumerService": {"url": sp.acs_url, "binding": C.BINDING_HTTP_POST},
        "NameIDFormat": name_id_format,
        "x509cert": sp.cert_pem,
        "privateKey": sp.key_pem,
    }
    if sp.previous_cert_pem:
        # python3-saml publishes this one beside the current certificate.
        settings["x509certNew"] = sp.previous_cert_pem
    return settings


def _request_data(acs_url: str, post: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The request as python3-saml wants it, built from our own ACS URL, never from the
    Host header: Destination and Recipient are compared with what we publish."""
    url = urlsplit(acs_url)
    return {
        "https": "on" if url.scheme == "https" else "off",
        "http_host": url.netloc,
        "script_name": url.path,
        "get_data": {},
        "post_data": dict(post or {}),
    }


# -- metadata -----------------------------------------------------------------------


def parse_idp_metadata(xml: str | bytes, *, entity_id: str | None = None) -> IdpMetadata:
    """The entity id, redirect SSO URL and signing certificates of an IdP's metadata."""
    data = xml.encode() if isinstance(xml, str) else xml
    refuse_unsafe_xml(data, what="the IdP metadata")
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(data, entity_id=entity_id)
    except Exception as exc:
        raise SsoRejected("metadata", f"the IdP metadata could not be read: {exc}") from exc
    idp = parsed.get("idp") or {}
    found_id = idp.get("entityId")
    sso = (idp.get("singleSignOnService") or {}).get("url")
    certs = [idp["x509cert"]] if idp.get("x509cert") else []
    certs += (idp.get("x509certMulti") or {}).get("signing", [])
    if not found_id:
        raise SsoRejected("metadata", "the IdP metadata names no IdP entity id")
    if not sso:
        raise SsoRejected(
            "metadata", "the IdP metadata has no SingleSignOnService with the HTTP-Redirect binding"
        )
    if not certs:
        raise SsoRejected("metadata", "the IdP metadata has no signing certificate")
    unique = list(dict.fromkeys(normalise_certificate(c) for c in certs))
    return IdpMetadata(
        entity_id=found_id, sso_url=sso, certificates=tuple(certificate(c) for c in unique)
    )


def sp_metadata(sp: ServiceProvider, *, want_assertions_signed: bool = True) -> str:
    """The tenant's SP metadata XML for the IdP: entity id, ACS URL and the certificate(s),
    for signing and for encryption (an IdP encrypts only for connections that ask)."""
    data = {
        "strict": True,
        "sp": _sp_settings(sp, NAMEID_UNSPECIFIED),
        "security": {
            "authnRequestsSigned": True,
            "wantAssertionsSigned": want_assertions_signed,
            "wantAssertionsEncrypted": True,
            "signatureAlgorithm": RSA_SHA256,
            "digestAlgorithm": SHA256,
            # PUBLIC_URL may name a host without dots (a compose service, an intranet name).
            "allowSingleLabelDomains": True,
        },
    }
    try:
        settings = OneLogin_Saml2_Settings(data, sp_validation_only=True)
    except OneLogin_Saml2_Error as exc:
        raise SsoRejected("metadata", f"the SP settings are invalid: {exc}") from exc
    metadata = settings.get_sp_metadata()
    text = metadata.decode() if isinstance(metadata, bytes) else str(metadata)
    errors = settings.validate_metadata(text)
    if errors:
        raise SsoRejected("metadata", f"the SP metadata is invalid: {', '.join(errors)}")
    return text


# -- sign-in ------------------------------------------------------------------------


def authn_request(conn: SamlConnection, *, relay_state: str) -> AuthnRedirect:
    """The IdP URL carrying a signed AuthnRequest (HTTP-Redirect binding) and its id."""
    auth = OneLogin_Saml2_Auth(_request_data(conn.sp.acs_url), old_settings=_settings(conn))
    url = auth.login(return_to=relay_state, set_nameid_policy=True)
    return AuthnRedirect(url=url, request_id=auth.get_last_request_id())


def refuse_unsafe_xml(data: bytes, *, what: str = "the SAML message") -> None:
    """Refuse DTDs, entity declarations and external references before any parser
    that might expand them sees the document (XXE, billion laughs)."""
    try:
        safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise SsoRejected(
            "xml", f"{what} contains a document type declaration (DTD), which SAML never uses"
        ) from exc
    except EntitiesForbidden as exc:
        raise SsoRejected("xml", f"{what} declares XML entities, which SAML never uses") from exc
    except ExternalReferenceForbidden as exc:
        raise SsoRejected("xml", f"{what} refers to an external resource") from exc
    except ParseError as exc:
        raise SsoRejected("xml", f"{what} is not well-formed XML ({exc})") from exc


def decode_message(saml_response: str) -> bytes:
    if not saml_response:
        raise SsoRejected("xml", "the POST carries no SAMLResponse")
    if len(saml_response) > MAX_MESSAGE_CHARS:
        raise SsoRejected("xml", f"the SAMLResponse is larger than {MAX_MESSAGE_CHARS} characters")
    try:
        data = base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SsoRejected("xml", "the SAMLResponse is not valid base64") from exc
    refuse_unsafe_xml(data)
    return data


@dataclass(frozen=True, slots=True)
class Peek:
    """What a response claims before it is verified: only lookup keys (which connection,
    which pending request); ``verify_response`` then checks them under the signature."""

    issuer: str | None
    in_response_to: str | None


def peek(saml_response: str) -> Peek:
    root = safe_xml.fromstring(
        decode_message(saml_response), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    issuer = root.find(f"{{{C.NS_SAML}}}Issuer")
    if issuer is None:
        # The Response's Issuer is optional; a clear assertion still names it.
        issuer = root.find(f"{{{C.NS_SAML}}}Assertion/{{{C.NS_SAML}}}Issuer")
    text = issuer.text.strip() if issuer is not None and issuer.text else None
    return Peek(issuer=text or None, in_response_to=root.get("InResponseTo") or None)


def peek_in_response_to(saml_response: str) -> str | None:
    return peek(saml_response).in_response_to


def verify_response(
    conn: SamlConnection,
    saml_response: str,
    *,
    request_id: str | None,
    allow_idp_initiated: bool,
    now: dt.datetime | None = None,
) -> VerifiedResponse:
    """Verify a POSTed ``SAMLResponse`` for this connection.

    ``request_id`` is the id of the AuthnRequest this response must answer (None for
    a response no pending request matched). ``now`` is this service's clock.
    """
    decode_message(saml_response)
    settings = _settings(conn)
    try:
        response = _read_response(conn, settings, saml_response)
    except Exception as exc:
        raise _construction_error(exc) from exc
    request = _request_data(conn.sp.acs_url, {"SAMLResponse": saml_response})
    try:
        response.is_valid(request, request_id, raise_exceptions=True)
    except OneLogin_Saml2_ValidationError as exc:
        raise _explain(conn, response, exc) from exc
    except Exception as exc:
        raise SsoRejected("xml", f"the response could not be verified: {exc}") from exc
    return _accept(conn, response, request_id, allow_idp_initiated, now)


def _read_response(
    conn: SamlConnection, settings: OneLogin_Saml2_Settings, saml_response: str
) -> OneLogin_Saml2_Response:
    """The response, its assertion decrypted with the current SP key or, during a
    rotation, the previous one (an IdP that has not fetched the new metadata yet)."""
    try:
        return OneLogin_Saml2_Response(settings, saml_response)
    except (OneLogin_Saml2_ValidationError, OneLogin_Saml2_Error, xmlsec.Error):
        sp = conn.sp
        if not (sp.previous_key_pem and sp.previous_cert_pem):
            raise
    # Only the decryption key differs; the settings built from it are cached as well.
    previous = dataclasses.replace(sp, key_pem=sp.previous_key_pem, cert_pem=sp.previous_cert_pem)
    return OneLogin_Saml2_Response(_settings(dataclasses.replace(conn, sp=previous)), saml_response)


def _construction_error(exc: Exception) -> SsoRejected:
    if isinstance(exc, OneLogin_Saml2_ValidationError | OneLogin_Saml2_Error):
        return SsoRejected("encryption", f"the encrypted assertion could not be decrypted: {exc}")
    if isinstance(exc, xmlsec.Error):
        return SsoRejected(
            "encryption",
            "the encrypted assertion could not be decrypted with this tenant's SP key "
            "(the IdP encrypts for another certificate)",
        )
    return SsoRejected("xml", f"the response could not be read: {exc}")


# python3-saml's validation codes -> our checks; the ones needing words of their own
# are explained in _explain.
V = OneLogin_Saml2_ValidationError
_CHECKS: dict[int, str] = {
    V.UNSUPPORTED_SAML_VERSION: "xml",
    V.MISSING_ID: "xml",
    V.INVALID_XML_FORMAT: "xml",
    V.MISSING_CONDITIONS: "xml",
    V.WRONG_NUMBER_OF_AUTHSTATEMENTS: "xml",
    V.ENCRYPTED_ATTRIBUTES: "xml",
    V.DUPLICATED_ATTRIBUTE_NAME_FOUND: "xml",
    V.STATUS_CODE_IS_NOT_SUCCESS: "status",
    V.WRONG_NUMBER_OF_ASSERTIONS: "signature",
    V.WRONG_SIGNED_ELEMENT: "signature",
    V.ID_NOT_FOUND_IN_SIGNED_ELEMENT: "signature",
    V.DUPLICATED_ID_IN_SIGNED_ELEMENTS: "signature",
    V.INVALID_SIGNED_ELEMENT: "signature",
    V.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS: "signature",
    V.UNEXPECTED_SIGNED_ELEMENTS: "signature",
    V.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE: "signature",
    V.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION: "signature",
    V.NO_SIGNED_ASSERTION: "signature",
    V.NO_SIGNED_MESSAGE: "signature",
    V.NO_SIGNATURE_FOUND: "signature",
    V.INVALID_SIGNATURE: "signature",
    V.DEPRECATED_SIGNATURE_METHOD: "algorithm",
    V.DEPRECATED_DIGEST_METHOD: "algorithm",
    V.WRONG_INRESPONSETO: "in_response_to",
    V.NO_ENCRYPTED_ASSERTION: "encryption",
    V.ASSERTION_TOO_EARLY: "not_yet_valid",
    V.ASSERTION_EXPIRED: "expired",
    V.SESSION_EXPIRED: "expired",
    V.WRONG_DESTINATION: "destination",
    V.EMPTY_DESTINATION: "destination",
    V.WRONG_AUDIENCE: "audience",
    V.WRONG_ISSUER: "issuer",
    V.ISSUER_MULTIPLE_IN_RESPONSE: "issuer",
    V.ISSUER_NOT_FOUND_IN_ASSERTION: "issuer",
    V.NO_NAMEID: "subject",
    V.EMPTY_NAMEID: "subject",
}


# Plain words for the refusals whose library message says too little.
_WORDS: dict[int, str] = {
    V.WRONG_NUMBER_OF_ASSERTIONS: "the response must carry exactly one assertion; a second "
    "assertion beside the signed one is how signature-wrapping attacks smuggle in an identity",
    V.NO_ENCRYPTED_ASSERTION: "the assertion is not encrypted, and this connection requires it",
    V.DEPRECATED_SIGNATURE_METHOD: "the response is signed with a deprecated algorithm (SHA-1): "
    "{exc}; configure the IdP to sign with RSA-SHA256",
    V.DEPRECATED_DIGEST_METHOD: "the response is signed with a deprecated digest (SHA-1): "
    "{exc}; configure the IdP to sign with RSA-SHA256",
    V.INVALID_SIGNATURE: "the signature does not match the signed content or this connection's "
    "IdP certificates (the response was altered after signing, or signed by another key)",
    V.NO_SIGNED_ASSERTION: "the assertion is not signed, and this connection requires it",
    V.NO_SIGNED_MESSAGE: "the response is not signed, and this connection requires it",
    V.NO_SIGNATURE_FOUND: "neither the response nor the assertion is signed",
}


def _explain(
    conn: SamlConnection, response: OneLogin_Saml2_Response, exc: OneLogin_Saml2_ValidationError
) -> SsoRejected:
    code = exc.code
    facts = _Facts.read(response)
    if code == OneLogin_Saml2_ValidationError.WRONG_AUDIENCE:
        return _audience_rejection(conn, facts.audiences)
    if code == OneLogin_Saml2_ValidationError.WRONG_DESTINATION:
        return _destination_rejection(conn, facts.destination)
    if code == OneLogin_Saml2_ValidationError.WRONG_ISSUER:
        return SsoRejected(
            "issuer",
            f"the response was issued by {', '.join(facts.issuers) or 'nobody'}, "
            f"this connection trusts {conn.idp.entity_id}",
        )
    if code == OneLogin_Saml2_ValidationError.WRONG_SUBJECTCONFIRMATION:
        return _subject_confirmation_rejection(conn, response)
    if code in _WORDS:
        return SsoRejected(_CHECKS[code], _WORDS[code].format(exc=exc))
    return SsoRejected(_CHECKS.get(code, "xml"), str(exc))


def _audience_rejection(conn: SamlConnection, audiences: Sequence[str]) -> SsoRejected:
    return SsoRejected(
        "audience",
        f"the assertion's Audience is {', '.join(audiences) or 'missing'}, "
        f"this connection expects {conn.sp.entity_id}",
    )


def _destination_rejection(conn: SamlConnection, destination: str | None) -> SsoRejected:
    return SsoRejected(
        "destination",
        f"the response's Destination is {destination or 'missing'}, "
        f"this connection's ACS URL is {conn.sp.acs_url}",
    )


def _subject_confirmation_rejection(
    conn: SamlConnection, response: OneLogin_Saml2_Response
) -> SsoRejected:
    """python3-saml says only that no SubjectConfirmation was valid; say which rule failed."""
    for data in _bearer_confirmations(response):
        recipient = data.get("Recipient")
        if recipient and recipient != conn.sp.acs_url:
            return SsoRejected(
                "recipient",
                f"the assertion's Recipient is {recipient}, "
                f"this connection's ACS URL is {conn.sp.acs_url}",
            )
        bound = data.get("NotOnOrAfter")
        if bound and _parse_time(bound) <= dt.datetime.now(dt.UTC):
            return SsoRejected(
                "expired", f"the assertion's subject confirmation expired at {bound}"
            )
        start = data.get("NotBefore")
        if start and _parse_time(start) > dt.datetime.now(dt.UTC):
            return SsoRejected(
                "not_yet_valid", f"the assertion's subject confirmation is valid from {start}"
            )
        irt = data.get("InResponseTo")
        if irt:
            return SsoRejected(
                "in_response_to",
                f"the subject confirmation answers request {irt}, the response another one",
            )
    return SsoRejected("recipient", "the assertion has no bearer SubjectConfirmation for this SP")


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a response claims, read to explain a refusal (never trusted for access)."""

    destination: str | None
    audiences: tuple[str, ...]
    issuers: tuple[str, ...]

    @classmethod
    def read(cls, response: OneLogin_Saml2_Response) -> _Facts:
        try:
            audiences = tuple(response.get_audiences())
        except Exception:
            audiences = ()
        try:
            issuers = tuple(response.get_issuers())
        except Exception:
            issuers = ()
        return cls(response.document.get("Destination"), audiences, issuers)


def _bearer_confirmations(response: OneLogin_Saml2_Response) -> list[Any]:
    found = []
    for node in response._query_assertion("/saml:Subject/saml:SubjectConfirmation"):
        method = node.get("Method")
        if method and method != C.CM_BEARER:
            continue
        data = node.find("saml:SubjectConfirmationData", namespaces=C.NSMAP)
        if data is not None:
            found.append(data)
    return found


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(OneLogin_Saml2_Utils.parse_SAML_to_time(value), dt.UTC)


# -- after the library said yes -------------------------------------------------------


def _accept(
    conn: SamlConnection,
    response: OneLogin_Saml2_Response,
    request_id: str | None,
    allow_idp_initiated: bool,
    now: dt.datetime | None,
) -> VerifiedResponse:
    moment = now or dt.datetime.now(dt.UTC)
    _check_exact_urls(conn, response)
    in_response_to = response.get_in_response_to()
    _check_solicitation(in_response_to, request_id, allow_idp_initiated)
    not_on_or_after = _check_lifetime(response, moment, conn.policy.clock_skew)
    subject = response.get_nameid()
    attributes: dict[str, list[str]] = {
        name: [str(v) for v in values] for name, values in response.get_attributes().items()
    }
    return VerifiedResponse(
        identity=identity_from_attributes(
            conn.policy.attributes, subject, response.get_nameid_format(), attributes
        ),
        assertion_id=response.get_assertion_id(),
        issuer=conn.idp.entity_id,
        in_response_to=in_response_to,
        not_on_or_after=not_on_or_after,
        keep_until=not_on_or_after + conn.policy.clock_skew,
    )


def _check_exact_urls(conn: SamlConnection, response: OneLogin_Saml2_Response) -> None:
    destination = response.document.get("Destination")
    if destination is not None and destination != conn.sp.acs_url:
        raise _destination_rejection(conn, destination)
    audiences = response.get_audiences()
    if not audiences or conn.sp.entity_id not in audiences:
        raise _audience_rejection(conn, audiences)
    recipients = [d.get("Recipient") for d in _bearer_confirmations(response)]
    if conn.sp.acs_url not in recipients:
        shown = ", ".join(r for r in recipients if r) or "missing"
        raise SsoRejected(
            "recipient",
            f"the assertion's Recipient is {shown}, this connection's ACS URL is {conn.sp.acs_url}",
        )


def _check_solicitation(
    in_response_to: str | None, request_id: str | None, allow_idp_initiated: bool
) -> None:
    if request_id is not None:
        if in_response_to != request_id:
            raise SsoRejected(
                "in_response_to",
                f"the response answers request {in_response_to or 'none'}, "
                f"the sign-in started with request {request_id}",
            )
        return
    if in_response_to is not None:
        raise SsoRejected(
            "in_response_to",
            f"the response answers request {in_response_to}, which this service did not send "
            "or has already used",
        )
    if not allow_idp_initiated:
        raise SsoRejected(
            "idp_initiated",
            "the response was not requested by this service (IdP-initiated sign-in), "
            "and this connection does not allow IdP-initiated sign-in",
        )


def _check_lifetime(
    response: OneLogin_Saml2_Response, now: dt.datetime, skew: dt.timedelta
) -> dt.datetime:
    """Check every validity bound of the assertion against our clock, within ``skew``;
    return the earliest NotOnOrAfter."""
    starts: list[str] = []
    ends: list[str] = []
    for node in response._query_assertion("/saml:Conditions"):
        starts += [node.get("NotBefore")] if node.get("NotBefore") else []
        ends += [node.get("NotOnOrAfter")] if node.get("NotOnOrAfter") else []
    for data in _bearer_confirmations(response):
        starts += [data.get("NotBefore")] if data.get("NotBefore") else []
        ends += [data.get("NotOnOrAfter")] if data.get("NotOnOrAfter") else []
    if not ends:
        raise SsoRejected(
            "expired", "the assertion has no NotOnOrAfter, so its lifetime is unbounded"
        )
    seconds = int(skew.total_seconds())
    for value in starts:
        if _parse_time(value) > now + skew:
            raise SsoRejected(
                "not_yet_valid",
                f"the assertion is valid from {value}; it is {_iso(now)} here "
                f"(clock skew allowed: {seconds} s)",
            )
    earliest = min(_parse_time(value) for value in ends)
    if earliest + skew <= now:
        raise SsoRejected(
            "expired",
            f"the assertion expired at {_iso(earliest)}; it is {_iso(now)} here "
            f"(clock skew allowed: {seconds} s)",
        )
    return earliest


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
