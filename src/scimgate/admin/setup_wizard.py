"""What the setup wizard says for each IdP: where to paste each value, what to map, what to push.

The short steps here carry the tenant's own values (the page fills them in);
the full guide (``docs/how-to/connect-<name>.md``, shared with the console) is
shown below them with the example tenant's URL replaced by this tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from scimgate.admin.setup_guides import GUIDES, guide_text, render_markdown

_EXAMPLE_SCIM_URL = "{PUBLIC_URL}/scim/v2/acme"
_EMAIL_AS_USERNAME = ("the work email (primary email)", "userName")
_NAMES = ("first name / last name", "name.givenName / name.familyName")


@dataclass(frozen=True, slots=True)
class IdpSteps:
    key: str
    name: str
    scim_where: str  # where the SCIM settings are in that IdP's admin console
    url_label: str  # what that IdP calls the SCIM base URL
    bearer_label: str  # and the bearer token
    scim_after: tuple[str, ...]  # what to do once both are pasted
    attributes: tuple[tuple[str, str], ...]  # (IdP attribute, SCIM attribute)
    groups: str
    sso_where: str
    test_user: str


IDPS: dict[str, IdpSteps] = {
    s.key: s
    for s in (
        IdpSteps(
            key="okta",
            name="Okta",
            scim_where=(
                "Admin Console → Applications → Create App Integration → SAML 2.0; then "
                "General → App Settings → Provisioning: SCIM, and open Provisioning → Integration."
            ),
            url_label="SCIM connector base URL",
            bearer_label="Authorization (Authentication Mode: HTTP Header)",
            scim_after=(
                "Unique identifier field for users: userName.",
                "Supported provisioning actions: Push New Users, Push Profile Updates, "
                "Push Groups.",
                "Click Test Connector Configuration, then Save.",
                "Provisioning → To App: enable Create Users, Update User Attributes and "
                "Deactivate Users. Leave Sync Password off.",
            ),
            attributes=(
                ("userName (the Okta login)", "userName"),
                _NAMES,
                ("email", 'emails[type eq "work"].value'),
                ("displayName", "displayName"),
            ),
            groups="Push Groups tab → + Push Groups → find the group by name → Save.",
            sso_where="General → SAML Settings → Edit.",
            test_user="Assignments → Assign → Assign to People: pick yourself or a test user.",
        ),
        IdpSteps(
            key="entra",
            name="Microsoft Entra ID",
            scim_where=(
                "Entra admin center → Enterprise applications → New application → Create your "
                "own application (non-gallery); in it, Provisioning → Get started → "
                "Provisioning Mode: Automatic → Admin Credentials."
            ),
            url_label="Tenant URL",
            bearer_label="Secret Token (never leave it blank)",
            scim_after=(
                "Click Test Connection, then Save.",
                "Mappings → Provision Microsoft Entra ID Users: keep userPrincipalName → userName "
                "with matching precedence 1.",
                "Settings → Scope: Sync only assigned users and groups; Provisioning Status: On.",
            ),
            attributes=(
                ("userPrincipalName", "userName"),
                ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', "active"),
                ("mail", 'emails[type eq "work"].value'),
                ("givenName / surname", "name.givenName / name.familyName"),
                ("objectId", "externalId"),
            ),
            groups=(
                "Mappings → Provision Microsoft Entra ID Groups: Enabled, with displayName → "
                "displayName, objectId → externalId, members → members. Then assign the groups "
                "under Users and groups."
            ),
            sso_where="Single sign-on → SAML → Basic SAML Configuration → Edit.",
            test_user=(
                "Users and groups → Add user/group, then Provisioning → Provision on demand for "
                "that user (the regular cycle runs about every 40 minutes)."
            ),
        ),
        IdpSteps(
            key="google",
            name="Google Workspace",
            scim_where=(
                "Google Admin console → Apps → Web and mobile apps → your SAML app → "
                "Auto-provisioning → Turn on auto-provisioning."
            ),
            url_label="Endpoint URL",
            bearer_label="Access token",
            scim_after=(
                "Continue: Google checks the connection with one request.",
                "Choose the provisioning scope (groups or organizational units) and the "
                "deprovisioning actions, then Finish.",
            ),
            attributes=(_EMAIL_AS_USERNAME, _NAMES, ("display name", "displayName")),
            groups=(
                "Google provisions the users in the scope you chose; the groups of that scope "
                "arrive with their members."
            ),
            sso_where="Apps → Web and mobile apps → Add app → Add custom SAML app.",
            test_user="Turn the app ON for the organizational unit or group of a test user.",
        ),
        IdpSteps(
            key="onelogin",
            name="OneLogin",
            scim_where=(
                "Applications → Add App → SCIM Provisioner with SAML (SCIM v2 Enterprise); "
                "then its Configuration tab."
            ),
            url_label="SCIM Base URL",
            bearer_label="SCIM Bearer Token",
            scim_after=(
                "Click Enable under API Status.",
                "Provisioning tab: Enable provisioning; choose what happens on delete and "
                "suspension (Suspend).",
            ),
            attributes=(
                ("Email", "userName"),
                _NAMES,
                ("Email", 'emails[type eq "work"].value'),
            ),
            groups=(
                "Parameters → Groups → Include in User Provisioning; then Rules: set Groups "
                "in this app from the OneLogin roles or groups to send."
            ),
            sso_where="Configuration tab → the SAML fields.",
            test_user="Users → a test user → Applications → + → this app.",
        ),
        IdpSteps(
            key="jumpcloud",
            name="JumpCloud",
            scim_where=(
                "SSO Applications → + Add New Application → Custom Application; then Identity "
                "Management → SCIM 2.0."
            ),
            url_label="Base URL",
            bearer_label="Token Key (Bearer)",
            scim_after=("Click Test Connection, then Activate.",),
            attributes=(_EMAIL_AS_USERNAME, _NAMES, ("displayname", "displayName")),
            groups="Enable Group Management; the user groups bound to the app are pushed.",
            sso_where="SSO tab → the SAML fields.",
            test_user="User Groups tab → bind a group that holds a test user.",
        ),
        IdpSteps(
            key="ping",
            name="PingFederate / PingOne",
            scim_where=(
                "PingOne: Integrations → Provisioning → + New connection → SCIM Outbound. "
                "PingFederate: SP Connections → Outbound Provisioning → SCIM connector."
            ),
            url_label="SCIM BASE URL",
            bearer_label="OAuth 2 Bearer Token",
            scim_after=(
                "Turn on Create, Update and Disable users; Remove action: Disable.",
                "Add a rule choosing the users and groups to send.",
            ),
            attributes=(
                ("Username (or email)", "userName"),
                _NAMES,
                ("Email Address", 'emails[type eq "work"].value'),
            ),
            groups="In the provisioning rule, add Group Provisioning with the groups to push.",
            sso_where="PingOne: Applications → + → SAML Application.",
            test_user="Put a test user in the population or group the rule sends.",
        ),
        IdpSteps(
            key="rippling",
            name="Rippling",
            scim_where=(
                "App Shop → Custom App → Create New App; tick SCIM as the provisioning method."
            ),
            url_label="SCIM base URL",
            bearer_label="Bearer token",
            scim_after=("Under Access rules, choose who gets the app (department, team or role).",),
            attributes=(
                ("Work email", "userName"),
                _NAMES,
                ("Employee id", "externalId"),
            ),
            groups="If the integration offers Group push, pick the Rippling groups to send.",
            sso_where="The custom app's SAML single sign-on step.",
            test_user="Grant a test employee access to the app.",
        ),
        IdpSteps(
            key="other",
            name="Another SCIM 2.0 client",
            scim_where="Find the IdP's outbound SCIM 2.0 (or 'SCIM provisioning') settings.",
            url_label="SCIM base URL (no trailing slash)",
            bearer_label="Bearer token (header Authorization: Bearer …)",
            scim_after=(
                "Turn on create, update and deactivate for users, and group push if offered.",
            ),
            attributes=(
                _EMAIL_AS_USERNAME,
                _NAMES,
                ("a stable id of the user", "externalId"),
            ),
            groups="Send groups as SCIM Groups with their members.",
            sso_where="The IdP's SAML or OIDC application settings.",
            test_user="Assign a test user to the application.",
        ),
    )
}


@lru_cache(maxsize=256)
def filled_guide(idp: str, scim_url: str) -> tuple[str, Markup] | None:
    """The IdP's full setup guide with this tenant's SCIM URL in place of the example's."""
    name = GUIDES.get(idp)
    text = guide_text(name) if name else None
    if text is None:
        return None
    return render_markdown(text.replace(_EXAMPLE_SCIM_URL, scim_url), default_title=name or idp)
