"""What the setup wizard says about single sign-on for each IdP, for SAML and for OIDC.

Which of this tenant's SP values goes into which field of the IdP's form, where
the IdP's own values are to be found, and which attribute or claim carries the
groups. The wording follows docs/how-to/sso-saml.md and sso-oidc.md, which hold
the longer notes.
"""

from __future__ import annotations

from dataclasses import dataclass

SAML = "saml"
OIDC = "oidc"

_ENTRA_GROUPS = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"


@dataclass(frozen=True, slots=True)
class SamlSteps:
    where: str  # where the IdP's SAML application is made
    entity_id_field: str  # the IdP's name for the SP entity ID
    acs_field: str  # and for the ACS URL
    metadata: str  # where the IdP's metadata (XML or URL) is found
    groups: str  # how to have the groups sent
    group_attribute: str  # the attribute name that carries them


@dataclass(frozen=True, slots=True)
class OidcSteps:
    where: str
    redirect_field: str  # the IdP's name for the redirect URI
    issuer: str  # what the issuer looks like
    groups: str
    groups_claim: str
    scopes: str  # the scopes to ask for, space-separated


@dataclass(frozen=True, slots=True)
class SsoSteps:
    saml: SamlSteps | None
    oidc: OidcSteps | None

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(p for p, steps in ((SAML, self.saml), (OIDC, self.oidc)) if steps)


_GENERIC_OIDC = OidcSteps(
    where="Create a web application (confidential client, authorization code grant).",
    redirect_field="Redirect URI (callback URL)",
    issuer="the issuer URL its discovery document names (…/.well-known/openid-configuration)",
    groups="Have the ID token (or userinfo) carry the person's groups in one claim.",
    groups_claim="groups",
    scopes="openid email profile",
)

SSO_STEPS: dict[str, SsoSteps] = {
    "okta": SsoSteps(
        saml=SamlSteps(
            where="Applications → Create App Integration → SAML 2.0 → General Settings → Next.",
            entity_id_field="Audience URI (SP Entity ID)",
            acs_field=(
                "Single sign-on URL (tick “Use this for Recipient URL and Destination URL”)"
            ),
            metadata="Sign On tab → SAML 2.0 → Metadata URL (or open it and save the XML).",
            groups=(
                "Group Attribute Statements: name groups, filter “Matches regex” .* "
                "(or narrower). Name ID format: EmailAddress."
            ),
            group_attribute="groups",
        ),
        oidc=OidcSteps(
            where="Applications → Create App Integration → OIDC → Web Application.",
            redirect_field="Sign-in redirect URIs",
            issuer="https://{your Okta domain} (or …/oauth2/default for a custom server)",
            groups="Sign On tab → Groups claim type Filter, claim name groups, Matches regex .*",
            groups_claim="groups",
            scopes="openid email profile groups",
        ),
    ),
    "entra": SsoSteps(
        saml=SamlSteps(
            where=(
                "Enterprise applications → your application → Single sign-on → SAML → "
                "Basic SAML Configuration → Edit."
            ),
            entity_id_field="Identifier (Entity ID)",
            acs_field="Reply URL (Assertion Consumer Service URL)",
            metadata=(
                "SAML Certificates → App Federation Metadata Url (or the Federation Metadata XML)."
            ),
            groups=(
                "Attributes & Claims → Add a group claim → Groups assigned to the application. "
                "The values are group object IDs."
            ),
            group_attribute=_ENTRA_GROUPS,
        ),
        oidc=OidcSteps(
            where="App registrations → New registration, platform Web.",
            redirect_field="Redirect URI (Web)",
            issuer="https://login.microsoftonline.com/{directory (tenant) id}/v2.0",
            groups=(
                "Token configuration → Add groups claim → Groups assigned to the application "
                "(ID token). The values are group object IDs."
            ),
            groups_claim="groups",
            scopes="openid email profile",
        ),
    ),
    "google": SsoSteps(
        saml=SamlSteps(
            where="Apps → Web and mobile apps → Add app → Add custom SAML app.",
            entity_id_field="Entity ID",
            acs_field="ACS URL",
            metadata="Google IdP details → Download metadata (Google gives no metadata URL).",
            groups="Attribute mapping → Group membership: choose the groups, app attribute groups.",
            group_attribute="groups",
        ),
        oidc=OidcSteps(
            where="Google Cloud console → APIs & Services → Credentials → OAuth client ID, Web.",
            redirect_field="Authorized redirect URIs",
            issuer="https://accounts.google.com",
            groups="Google sends no groups over OIDC: roles come from SCIM groups instead.",
            groups_claim="groups",
            scopes="openid email profile",
        ),
    ),
    "onelogin": SsoSteps(
        saml=SamlSteps(
            where="Applications → Add App → SAML Custom Connector (Advanced) → Configuration.",
            entity_id_field="Audience (EntityID)",
            acs_field="ACS (Consumer) URL and Recipient",
            metadata="SSO tab → Issuer URL (the metadata URL), or More Actions → SAML Metadata.",
            groups=(
                "Parameters → add groups with “Include in SAML assertion” and "
                "“Multi-value parameter”."
            ),
            group_attribute="groups",
        ),
        oidc=OidcSteps(
            where="Applications → Add App → OpenId Connect (OIDC) → Configuration tab.",
            redirect_field="Redirect URI's",
            issuer="https://{subdomain}.onelogin.com/oidc/2",
            groups="Parameters tab → Groups: choose the field and tick Include in ID token.",
            groups_claim="groups",
            scopes="openid email profile groups",
        ),
    ),
    "jumpcloud": SsoSteps(
        saml=SamlSteps(
            where="SSO Applications → Add New Application → Custom SAML App → SSO tab.",
            entity_id_field="SP Entity ID",
            acs_field="ACS URLs",
            metadata="Save, then Export Metadata (an XML file).",
            groups="Tick “Include group attribute” and name it groups.",
            group_attribute="groups",
        ),
        oidc=OidcSteps(
            where="SSO Applications → Add New Application → Custom OIDC App → SSO tab.",
            redirect_field="Redirect URIs",
            issuer="https://oauth.id.jumpcloud.com/",
            groups="Attribute Mapping → Include group attribute, named groups.",
            groups_claim="groups",
            scopes="openid email profile groups",
        ),
    ),
    "ping": SsoSteps(
        saml=SamlSteps(
            where=(
                "PingOne: Applications → Add Application → SAML Application (or PingFederate: "
                "SP Connections → Create Connection)."
            ),
            entity_id_field="Entity ID (Partner's Entity ID)",
            acs_field="ACS URLs (HTTP-POST)",
            metadata="The application's IDP Metadata URL, or download its metadata.",
            groups="Attribute mapping: groups from Group Names (memberOfGroupNames).",
            group_attribute="groups",
        ),
        oidc=OidcSteps(
            where="PingOne: Applications → Add → OIDC Web App (PingFederate: OAuth Clients).",
            redirect_field="Redirect URIs",
            issuer="https://auth.pingone.com/{environment id}/as",
            groups="Attribute Mappings: add groups from Group Names.",
            groups_claim="groups",
            scopes="openid email profile",
        ),
    ),
    "rippling": SsoSteps(
        saml=SamlSteps(
            where="The custom app's single sign-on (SAML) step.",
            entity_id_field="Entity ID (Audience)",
            acs_field="ACS URL",
            metadata="Rippling shows its IdP metadata (XML) or metadata URL on that step.",
            groups="If Rippling offers a group attribute, send it named groups.",
            group_attribute="groups",
        ),
        oidc=None,
    ),
    "other": SsoSteps(
        saml=SamlSteps(
            where="Create a SAML 2.0 application (service provider) in your IdP.",
            entity_id_field="SP entity ID (Audience)",
            acs_field="ACS URL (HTTP-POST)",
            metadata="The IdP's metadata URL, or its metadata XML file.",
            groups="Send the person's groups in one multi-valued attribute.",
            group_attribute="groups",
        ),
        oidc=_GENERIC_OIDC,
    ),
}
