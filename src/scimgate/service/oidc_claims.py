"""The claims of a verified OIDC ID token: the checks of OIDC Core §3.1.3.7, and the person.

``service.oidc`` verifies the signature first; what is left is plain data,
checked here: ``iss``, ``aud``/``azp``, ``exp``/``iat``/``nbf`` within the
clock skew, ``nonce`` and ``sub``, then the claims turned into an
``ExternalIdentity``. Each failure is an ``SsoRejected`` naming its check.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from scimgate.errors import SsoRejected
from scimgate.model.sso import ExternalIdentity

__all__ = ["check_claims", "identity_from_claims"]


def identity_from_claims(claims: Mapping[str, Any], groups_claim: str) -> ExternalIdentity:
    """The person the claims describe; groups from ``groups_claim``.

    A provider that has too many groups to put in a token (Entra ID past 200)
    names a source for them in ``_claim_names`` instead (OIDC Core §5.6.2).
    scimgate does not fetch such sources, and signing the person in with no
    groups would strip the roles their groups give them, so it is refused.
    """
    groups = claims.get(groups_claim)
    sources = claims.get("_claim_names")
    if groups is None and isinstance(sources, dict) and groups_claim in sources:
        raise SsoRejected(
            "groups_overage",
            f"the IdP left the {groups_claim!r} claim out (the person is in too many "
            "groups) and points elsewhere for it; send fewer groups (only those "
            "assigned to the application) or turn off group to role mapping",
        )
    if isinstance(groups, str):
        groups = [groups]
    return ExternalIdentity(
        subject=str(claims["sub"]),
        email=_text(claims.get("email")) if not _unverified(claims) else None,
        given_name=_text(claims.get("given_name")),
        family_name=_text(claims.get("family_name")),
        display_name=_text(claims.get("name")),
        groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
        claims=dict(claims),
    )


def _unverified(claims: Mapping[str, Any]) -> bool:
    """Whether the provider says the email is not the person's (OIDC Core §5.1).

    Many providers let anyone put any address on an account and say so with
    ``email_verified`` false; matching or writing such an address would hand the
    person whatever account holds it. Some send the flag as text.
    """
    flag = claims.get("email_verified")
    return flag is False or (isinstance(flag, str) and flag.strip().lower() == "false")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise SsoRejected(
            "audience",
            f"the ID token is meant for {audience!r}; this connection's client id is {client_id}",
        )
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise SsoRejected(
            "audience",
            f"the ID token was issued to party {azp!r}, not to this client ({client_id})",
        )


def _number(claims: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SsoRejected("claims", f"the ID token's {name} claim is missing or not a number")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float, skew: int) -> None:
    expires = _number(claims, "exp", required=True)
    assert expires is not None
    if now >= expires + skew:
        raise SsoRejected("expired", f"the ID token expired {int(now - expires)} seconds ago")
    issued = _number(claims, "iat", required=True)
    not_before = _number(claims, "nbf", required=False)
    for name, moment in (("issued", issued), ("valid from", not_before)):
        if moment is not None and moment > now + skew:
            raise SsoRejected(
                "not_yet_valid",
                f"the ID token is {name} {int(moment - now)} seconds in the future "
                "(are the clocks in step?)",
            )


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str, now: float, skew: int
) -> None:
    if claims.get("iss") != issuer:
        raise SsoRejected(
            "issuer",
            f"the ID token's issuer is {claims.get('iss')!r}; this connection expects {issuer}",
        )
    _check_audience(claims, client_id)
    _check_times(claims, now, skew)
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
        raise SsoRejected("nonce", "the ID token's nonce is not the one this sign-in sent")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SsoRejected("claims", "the ID token has no subject (sub)")
