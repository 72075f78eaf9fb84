"""Where each identity provider keeps the settings the connection doctor asks to change.

The doctor's rules (``service/doctor.py``) say what is wrong; this module
says where to fix it in the IdP that sent the requests, in the IdP's own
words, with a neutral wording for IdPs it does not know. The menu paths come
from the vendors' setup guides (docs/how-to/connect-*.md).
"""

from __future__ import annotations

from scimgate.model.entities import Tenant
from scimgate.model.idp import ENTRA, GOOGLE, IDP_NAMES, JUMPCLOUD, OKTA, ONELOGIN, PING

# (where the SCIM base URL goes, where the bearer token goes)
_FIELDS: dict[str, tuple[str, str]] = {
    OKTA: (
        "Okta: Applications → your app → Provisioning → Integration → “SCIM connector base URL”",
        "Okta: Applications → your app → Provisioning → Integration → "
        "Authentication Mode “HTTP Header” → “Bearer”",
    ),
    ENTRA: (
        "Microsoft Entra admin center: Enterprise applications → your app → Provisioning → "
        "Admin Credentials → “Tenant URL”",
        "Microsoft Entra admin center: Enterprise applications → your app → Provisioning → "
        "Admin Credentials → “Secret Token”",
    ),
    GOOGLE: (
        "Google Admin console: Apps → Web and mobile apps → your app → Auto-provisioning → "
        "the endpoint URL",
        "Google Admin console: Apps → Web and mobile apps → your app → Auto-provisioning → "
        "the access token",
    ),
    ONELOGIN: (
        "OneLogin: Applications → your app → Configuration → “SCIM Base URL”",
        "OneLogin: Applications → your app → Configuration → “SCIM Bearer Token”",
    ),
    JUMPCLOUD: (
        "JumpCloud: SSO Applications → your app → Identity Management → “Base URL”",
        "JumpCloud: SSO Applications → your app → Identity Management → “Token Key”",
    ),
    PING: (
        "PingFederate: the SCIM connection's “Base URL” (PingOne: the provisioning "
        "connection's SCIM URL)",
        "PingFederate: the SCIM connection's OAuth / bearer token (PingOne: the "
        "provisioning connection's token)",
    ),
}
_ANY = (
    "your identity provider's SCIM settings: the “base URL” (or “tenant URL”) field",
    "your identity provider's SCIM settings: the bearer token field",
)


def idp_name(idp: str | None) -> str:
    """The IdP's name for a sentence ("Okta"), or "your identity provider"."""
    if idp is None or idp not in IDP_NAMES or idp == "unknown":
        return "your identity provider"
    return IDP_NAMES[idp]


def base_url_field(idp: str | None) -> str:
    return _FIELDS.get(idp or "", _ANY)[0]


def token_field(idp: str | None) -> str:
    return _FIELDS.get(idp or "", _ANY)[1]


def new_token_steps(idp: str | None, tenant: Tenant) -> str:
    """How to put a fresh token in place of the one the IdP has."""
    return (
        f"Generate a new token for this tenant (console: SCIM Provisioning → Generate token, "
        f"or “scimgate token create {tenant.slug}”), paste it in {token_field(idp)}, run the IdP's "
        "connection test, then revoke the old token."
    )


def silence_fix(idp: str | None) -> str:
    if idp == OKTA:
        return (
            "In Okta, open your app → Provisioning → To App and check that Create Users, "
            "Update User Attributes and Deactivate Users are enabled, and that people or "
            "groups are assigned on the Assignments tab. Failed pushes are listed under "
            "Dashboard → Tasks."
        )
    if idp == ENTRA:
        return (
            "In Entra, open your app → Provisioning: the Provisioning Status must be On, and "
            "users or groups must be assigned under Users and groups (with Scope “Sync only "
            "assigned users and groups”). A job in quarantine shows it on the Provisioning "
            "page; the Provisioning logs say why. Entra runs a cycle about every 40 minutes."
        )
    return (
        f"Check in {idp_name(idp)} that provisioning is switched on for this app and that "
        "users or groups are assigned to it, then look at its provisioning log for errors."
    )


def members_fix(idp: str | None) -> str:
    if idp == OKTA:
        return (
            "Okta pushes a group's members only if they are assigned to this app. Assign the "
            "group on the app's Assignments tab (not only under Push Groups), then on Push "
            "Groups choose the group → Push Now."
        )
    if idp == ENTRA:
        return (
            "Entra provisions the members of an assigned group only when they are in scope: "
            "assign the group under Users and groups, set Scope to “Sync only assigned users "
            "and groups”, and note that members of nested groups are not provisioned."
        )
    return (
        f"Check in {idp_name(idp)} that the group's members are assigned to this app and "
        "that group membership is part of what it pushes."
    )


def user_name_case_fix(idp: str | None) -> str:
    if idp == OKTA:
        return (
            "In Okta, make the userName sent to this app lower-case: app → Sign On → "
            "Credentials Details → Application username format “Custom” with "
            "String.toLowerCase(user.login), and make sure no two Okta users differ only by "
            "case."
        )
    if idp == ENTRA:
        return (
            "In Entra, map userName with the expression ToLower([userPrincipalName]) "
            "(Provisioning → Mappings → Provision Microsoft Entra ID Users), keep userName "
            "as matching precedence 1, and make sure no two users differ only by case."
        )
    return (
        f"In {idp_name(idp)}, send userName in one case (lower-case is safest) and match "
        "existing users by userName before creating them."
    )


def rate_limit_fix(idp: str | None, configured: float) -> str:
    common = (
        f"This is a setting of scimgate, not of the IdP: raise SCIMGATE_RATE_LIMIT_PER_SECOND "
        f"(now {configured:g}) and SCIMGATE_RATE_LIMIT_BURST above the rate shown, or set the "
        "rate to 0 to switch the limit off."
    )
    if idp == ENTRA:
        return (
            common + " Entra expects at least 25 requests per second per tenant and puts a "
            "job that keeps failing in quarantine; it cannot be slowed down from its side."
        )
    if idp == OKTA:
        return (
            common + " Okta honours Retry-After and tries a push 10 times, so pushes arrive "
            "late rather than never, but a large group push can still fail."
        )
    return common


def refused_value_fix(idp: str | None, scim_type: str | None) -> str:
    who = idp_name(idp)
    if scim_type == "invalidSyntax":
        return (
            f"{who} sends a body that is not valid SCIM JSON. Check custom attribute "
            "expressions and, for OneLogin, the SCIM JSON template of the app."
        )
    if scim_type == "mutability":
        return f"{who} writes an attribute that cannot be changed (such as id); stop mapping it."
    return (
        f"Check the attribute mappings in {who}: an attribute mapped to this app is empty "
        "or has the wrong type for some users (userName must be present and unique; "
        "emails must be addresses; active must be true or false)."
    )
