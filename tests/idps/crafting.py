"""Edit a real IdP response and sign it again with a key the test holds.

The IdP's own responses cover the normal paths; attacks and edge cases the IdP
will not produce (a wrong Audience, an expired assertion, a second assertion)
are made here from one of them, with lxml and xmlsec, and signed again with the
test IdP's key where the case needs a valid signature.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator

import xmlsec
from lxml import etree

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def parse(saml_response: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(base64.b64decode(saml_response), parser)


def encode(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def assertion(root: etree._Element) -> etree._Element:
    return root.find("saml:Assertion", NS)


def strip_signatures(root: etree._Element) -> etree._Element:
    for signature in root.iter("{{{}}}Signature".format(NS["ds"])):
        signature.getparent().remove(signature)
    return root


def _signatures(root: etree._Element) -> Iterator[etree._Element]:
    yield from list(root.iter("{{{}}}Signature".format(NS["ds"])))


def sign(
    element: etree._Element,
    key_pem: str,
    cert_pem: str,
    *,
    method: int = xmlsec.constants.TransformRsaSha256,
    digest: int = xmlsec.constants.TransformSha256,
) -> None:
    """Put an enveloped signature of ``element`` right after its Issuer."""
    template = xmlsec.template.create(element, xmlsec.constants.TransformExclC14N, method)
    issuer = element.find("saml:Issuer", NS)
    issuer.addnext(template)
    ref = xmlsec.template.add_reference(template, digest, uri="#" + element.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(template))
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    key = xmlsec.Key.from_memory(key_pem.encode(), xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(cert_pem.encode(), xmlsec.constants.KeyDataFormatPem)
    ctx.key = key
    ctx.sign(template)


def verify(element: etree._Element, cert_pem: str) -> None:
    """Check the signature right under ``element`` (raises xmlsec.Error when it fails)."""
    signature = element.find("ds:Signature", NS)
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cert_pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    ctx.verify(signature)


def resign(
    root: etree._Element,
    key_pem: str,
    cert_pem: str,
    *,
    method: int = xmlsec.constants.TransformRsaSha256,
    digest: int = xmlsec.constants.TransformSha256,
    response: bool = True,
) -> etree._Element:
    """Drop every signature, then sign the assertion and (by default) the response."""
    strip_signatures(root)
    sign(assertion(root), key_pem, cert_pem, method=method, digest=digest)
    if response:
        sign(root, key_pem, cert_pem, method=method, digest=digest)
    return root


def with_second_assertion(root: etree._Element, name_id: str) -> etree._Element:
    """Signature wrapping: an unsigned copy of the assertion naming someone else,
    placed before the signed one."""
    signed = assertion(root)
    forged = copy.deepcopy(signed)
    for signature in _signatures(forged):
        forged.remove(signature)
    forged.set("ID", "_forged" + signed.get("ID")[1:])
    forged.find("saml:Subject/saml:NameID", NS).text = name_id
    signed.addprevious(forged)
    return root
