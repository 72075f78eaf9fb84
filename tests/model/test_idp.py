"""Telling which IdP sent a request, from its User-Agent and its shape."""

from __future__ import annotations

import pytest

from scimgate.model.idp import (
    ENTRA,
    GOOGLE,
    IDP_NAMES,
    JUMPCLOUD,
    OKTA,
    ONELOGIN,
    PING,
    RIPPLING,
    SAILPOINT,
    UNKNOWN,
    detect_idp,
)

GUID_FILTER = 'userName eq "0f3bdb3a-2b2c-4a2e-9a77-5d3b7ad2a111"'


def detect(
    user_agent: str | None = None,
    method: str = "GET",
    path: str = "/scim/v2/acme/Users",
    query: dict[str, str] | None = None,
    content_type: str | None = None,
) -> str:
    headers = {}
    if user_agent is not None:
        headers["user-agent"] = user_agent
    if content_type is not None:
        headers["content-type"] = content_type
    return detect_idp(headers, method, path, query or {})


@pytest.mark.parametrize(
    ("user_agent", "idp"),
    [
        ("Okta SCIM Client 1.0.0", OKTA),
        ("Okta SCIM client 1.2.3", OKTA),
        ("Google-Auto-Provisioning", GOOGLE),
        ("Microsoft Azure AD SCIM provisioning 1.0.0", ENTRA),
        ("OneLogin SCIM", ONELOGIN),
        ("JumpCloud SCIM", JUMPCLOUD),
        ("Apache-HttpClient/4.5.13 (Java/11.0.19)", PING),
        ("PingOne", PING),
        ("Rippling SCIM", RIPPLING),
        ("SailPoint IdentityNow", SAILPOINT),
        ("curl/8.5.0", UNKNOWN),
    ],
)
def test_the_user_agent_names_the_idp(user_agent: str, idp: str) -> None:
    assert detect(user_agent) == idp


def test_entra_without_a_user_agent_is_known_by_its_shapes() -> None:
    assert detect(query={"filter": GUID_FILTER}) == ENTRA
    assert detect(query={"excludedAttributes": "members"}, path="/scim/v2/a/Groups") == ENTRA
    assert detect(method="PATCH", content_type="application/scim+json; charset=utf-8") == ENTRA


def test_pingfederate_connection_check_is_known_by_its_path() -> None:
    assert detect(path="/scim/v2/acme/Users/0") == PING
    assert detect("Java/17", path="/scim/v2/acme/Users/0") == PING


def test_an_unknown_agent_is_not_guessed_from_shapes() -> None:
    assert detect("my-sync-script", query={"filter": GUID_FILTER}) == UNKNOWN
    assert detect() == UNKNOWN
    assert detect(content_type="application/json") == UNKNOWN


def test_every_idp_has_a_display_name() -> None:
    for idp in (OKTA, ENTRA, GOOGLE, ONELOGIN, JUMPCLOUD, PING, RIPPLING, SAILPOINT, UNKNOWN):
        assert IDP_NAMES[idp]
