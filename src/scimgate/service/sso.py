"""Single sign-on per tenant: connections, the SP key pair, sign-ins in flight, the handoff.

A tenant has zero or more connections, each to one SAML or OIDC IdP. A sign-in
runs: the host app sends the browser to ``/sso/{tenant}/start``; ``begin``
records where it must come back to (``SCIMGATE_SSO_REDIRECT_URIS``, exact
match) under the protocol's own reference (the AuthnRequest ID, the OIDC
``state``); the IdP answers; the adapter verifies the answer, ``take_pending``
gives the request back once, ``remember_assertion`` refuses a replayed
assertion, and ``complete_sign_in`` (``service/sign_in.py``) signs the person
in and returns the host's redirect URI with a one-time code, which the host
exchanges server-side with ``exchange_code``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scimgate.config import Settings
from scimgate.errors import Conflict, InvalidGrant, InvalidValue, NotFound, SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import (
    MATCH_BY_SUBJECT,
    MATCH_MODES,
    PROTOCOLS,
    Connection,
    ExternalIdentity,
    Pending,
)
from scimgate.service import sso_config
from scimgate.service.clock import utcnow
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring
from scimgate.service.sign_in import (
    ClientInfo,
    allowed_redirects,
    check_redirect,
    complete_sign_in,
    hash_code,
    record_refusal,
)
from scimgate.service.sso_keys import (
    SpKeys,
    finish_rotation,
    rotate_sp_keys,
    sp_certificates,
    sp_keys,
)
from scimgate.storage.database import Database

__all__ = [
    "SSO_CLIENT_SECRET",
    "SSO_SP_KEY",
    "ClientInfo",
    "Connection",
    "ConnectionNotFound",
    "ExternalIdentity",
    "Pending",
    "SpKeys",
    "SpUrls",
    "allowed_redirects",
    "begin",
    "check_redirect",
    "client_secret",
    "complete_sign_in",
    "create_connection",
    "delete_connection",
    "exchange_code",
    "finish_rotation",
    "get_connection",
    "list_connections",
    "new_protocol_ref",
    "peek_pending",
    "pick_connection",
    "record_refusal",
    "remember_assertion",
    "rotate_sp_keys",
    "sp_certificates",
    "sp_keys",
    "sp_urls",
    "take_pending",
    "update_connection",
]

PENDING_LIFETIME = timedelta(minutes=10)
TRIAL = "trial"  # the mark a test sign-in's pending data carries
_MAX_REF = 256
_MAX_STATE = 1024
_BOOLEAN_FIELDS = ("enabled", "jit", "jit_requires_scim", "allow_idp_initiated", "groups_to_roles")


class ConnectionNotFound(NotFound):
    default_detail = "SSO connection not found"


@dataclass(frozen=True, slots=True)
class SpUrls:
    """What the IdP's administrator copies into the IdP for a tenant."""

    entity_id: str
    acs_url: str
    metadata_url: str
    oidc_callback_url: str


def sp_urls(settings: Settings, tenant_slug: str) -> SpUrls:
    base = f"{settings.public_base}/sso/{tenant_slug}"
    return SpUrls(
        entity_id=f"{base}/saml/metadata",
        acs_url=f"{base}/saml/acs",
        metadata_url=f"{base}/saml/metadata",
        oidc_callback_url=f"{base}/oidc/callback",
    )


# -- connections ----------------------------------------------------------------------


_DEFAULTS: dict[str, bool] = {
    "enabled": True,
    "jit": False,
    "jit_requires_scim": False,
    "allow_idp_initiated": False,
    "groups_to_roles": True,
}


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 200:
        raise InvalidValue("a connection name must have 1-200 characters")
    return name


def _one_of(field: str, allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise InvalidValue(f"{field} must be one of {', '.join(allowed)}")
        return value

    return check


def _boolean(field: str) -> Any:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidValue(f"{field} must be true or false")
        return value

    return check


def _config(value: Any) -> dict[str, Any]:
    config = value or {}
    if not isinstance(config, Mapping):
        raise InvalidValue("config must be an object")
    if "client_secret" in config:
        raise InvalidValue("the client secret goes in client_secret, never in config")
    return dict(config)


_CHECKS: dict[str, Any] = {
    "name": _name,
    "protocol": _one_of("protocol", PROTOCOLS),
    "match_by": _one_of("match_by", MATCH_MODES),
    **{field: _boolean(field) for field in _BOOLEAN_FIELDS},
    "config": _config,
}


def _checked(changes: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The columns of a connection from a caller's fields, each checked."""
    unknown = set(changes) - set(_CHECKS)
    if unknown:
        raise InvalidValue(f"unknown connection fields: {', '.join(sorted(unknown))}")
    defaults: dict[str, Any] = {**_DEFAULTS, "match_by": MATCH_BY_SUBJECT, "config": {}}
    values: dict[str, Any] = {}
    for field, check in _CHECKS.items():
        if field in changes:
            values[field] = check(changes[field])
        elif creating:
            values[field] = check(defaults.get(field))
    return values


def _complete(
    values: dict[str, Any],
    current: Connection | None,
    *,
    has_client_secret: bool,
    settings: Settings | None,
) -> None:
    """Check the connection as it will be once ``values`` are applied (``sso_config``).

    Unknown config keys are always refused; with ``settings`` (the host API and
    the CLI) the connection must also be complete enough to sign anyone in.
    """
    protocol = str(values.get("protocol") or (current.protocol if current else ""))
    config = values.get("config", dict(current.config) if current else {})
    if settings is None:
        sso_config.known_keys(protocol, config)
        return
    values["config"] = sso_config.check_complete(
        protocol, config, has_client_secret=has_client_secret, dev_mode=settings.dev_mode
    )


def create_connection(
    db: Database,
    tenant: Tenant,
    fields: Mapping[str, Any],
    *,
    client_secret: str | None = None,
    keyring: Keyring | None = None,
    settings: Settings | None = None,
) -> Connection:
    """A new connection; ``client_secret`` (OIDC) is sealed with ``keyring`` before it is stored.

    With ``settings`` the connection must be complete (``sso_config.check_complete``).
    """
    values = _checked(fields, creating=True)
    _complete(values, None, has_client_secret=bool(client_secret), settings=settings)
    sealed = _seal(client_secret, keyring)
    with db.tenant(tenant.id, write=True) as repo:
        new_id = repo.sso.insert_connection(values, sealed, utcnow())
        if new_id is None:
            raise Conflict(f"tenant {tenant.slug!r} has a connection named {values['name']!r}")
        found = repo.sso.get_connection(new_id)
    assert found is not None
    return found


def _seal(client_secret: str | None, keyring: Keyring | None) -> str | None:
    if client_secret is None:
        return None
    if keyring is None:
        raise ValueError("a keyring is needed to store a client secret")
    return keyring.seal(client_secret)


def update_connection(
    db: Database,
    tenant: Tenant,
    connection_id: int,
    changes: Mapping[str, Any],
    *,
    client_secret: str | None = None,
    keyring: Keyring | None = None,
    settings: Settings | None = None,
) -> Connection:
    """Change the fields in ``changes``; with ``settings`` a changed ``config`` must leave
    the connection complete."""
    values = _checked(changes, creating=False)
    # Only a change of the IdP side is checked: a broken connection can still be
    # renamed or turned off.
    if "config" in values or "protocol" in values:
        current = get_connection(db, tenant, connection_id)
        has_secret = current.has_client_secret or bool(client_secret)
        _complete(values, current, has_client_secret=has_secret, settings=settings)
    sealed = _seal(client_secret, keyring)
    if sealed is not None:
        values["client_secret"] = sealed
    with db.tenant(tenant.id, write=True) as repo:
        if values:
            done = repo.sso.update_connection(connection_id, values, utcnow())
            if done is None:
                raise Conflict(f"tenant {tenant.slug!r} has a connection named {values['name']!r}")
        found = repo.sso.get_connection(connection_id)
    if found is None:
        raise ConnectionNotFound(f"SSO connection {connection_id} not found")
    return found


def get_connection(db: Database, tenant: Tenant, connection_id: int) -> Connection:
    with db.tenant(tenant.id) as repo:
        found = repo.sso.get_connection(connection_id)
    if found is None:
        raise ConnectionNotFound(f"SSO connection {connection_id} not found")
    return found


def list_connections(db: Database, tenant: Tenant) -> list[Connection]:
    with db.tenant(tenant.id) as repo:
        return repo.sso.list_connections()


def delete_connection(db: Database, tenant: Tenant, connection_id: int) -> None:
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.sso.delete_connection(connection_id):
            raise ConnectionNotFound(f"SSO connection {connection_id} not found")


def client_secret(db: Database, tenant: Tenant, connection: Connection, keyring: Keyring) -> str:
    """The OIDC client secret in clear (``keyring`` of purpose ``SSO_CLIENT_SECRET``)."""
    with db.tenant(tenant.id) as repo:
        sealed = repo.sso.client_secret(connection.id)
    if sealed is None:
        return ""
    return keyring.open(sealed)


def _domains(connection: Connection) -> list[str]:
    raw = connection.config.get("domains")
    if not isinstance(raw, list):
        return []
    return [str(d).lower().lstrip("@") for d in raw]


def pick_connection(
    db: Database, tenant: Tenant, *, connection_id: int | None = None, email: str | None = None
) -> Connection:
    """The connection a sign-in goes through: the one named, the one whose ``domains``
    hold the email's domain, or the tenant's only enabled one."""
    if connection_id is not None:
        with db.tenant(tenant.id) as repo:
            chosen = repo.sso.get_connection(connection_id)
        if chosen is None:
            raise SsoRejected(
                "connection", f"tenant {tenant.slug!r} has no connection {connection_id}"
            )
        if not chosen.enabled:
            raise SsoRejected("connection_disabled", f"the connection {chosen.name!r} is off")
        return chosen
    usable = [c for c in list_connections(db, tenant) if c.enabled]
    if email and "@" in email:
        domain = email.rsplit("@", 1)[1].lower()
        by_domain = [c for c in usable if domain in _domains(c)]
        if len(by_domain) == 1:
            return by_domain[0]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise SsoRejected("connection", f"tenant {tenant.slug!r} has no enabled SSO connection")
    raise SsoRejected(
        "connection",
        f"tenant {tenant.slug!r} has {len(usable)} SSO connections; "
        "say which with connection= or email=",
    )


# -- sign-ins in flight ------------------------------------------------------------------


def begin(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    *,
    redirect_uri: str,
    host_state: str | None,
    protocol_ref: str,
    data: Mapping[str, str],
    settings: Settings,
    trial: bool = False,
) -> None:
    """Record a sign-in the SP starts; refuses a redirect URI the host app did not register.

    A ``trial`` (the console's Test sign-in, ``service/sso_trial.py``) comes back to
    the console's own ``redirect_uri`` rather than to the host app.
    """
    if not trial:
        check_redirect(settings, redirect_uri, tenant)
    if not connection.enabled:
        raise SsoRejected("connection_disabled", f"the connection {connection.name!r} is off")
    if not protocol_ref or len(protocol_ref) > _MAX_REF:
        raise SsoRejected("state", "the sign-in reference is empty or too long")
    if host_state is not None and len(host_state) > _MAX_STATE:
        raise SsoRejected("state", f"state is longer than {_MAX_STATE} characters")
    pending = Pending(
        connection_id=connection.id,
        protocol_ref=protocol_ref,
        redirect_uri=redirect_uri,
        host_state=host_state,
        data={**data, TRIAL: "1"} if trial else dict(data),
        expires_at=utcnow() + PENDING_LIFETIME,
    )
    with db.tenant(tenant.id, write=True) as repo:
        repo.sso.add_pending(pending)


def new_protocol_ref() -> str:
    """A fresh unguessable reference (an OIDC ``state``; SAML IDs must not start with a digit)."""
    return "_" + secrets.token_hex(20)


def take_pending(
    db: Database, tenant: Tenant, connection: Connection, protocol_ref: str
) -> Pending | None:
    """The sign-in recorded under ``protocol_ref``, once; None when unknown, used or expired."""
    with db.tenant(tenant.id, write=True) as repo:
        return repo.sso.take_pending(connection.id, protocol_ref, utcnow())


def peek_pending(db: Database, tenant: Tenant, protocol_ref: str) -> Pending | None:
    """The pending sign-in under ``protocol_ref``, without taking it.

    The ACS URL and the OIDC callback are per tenant, not per connection: the
    SAML InResponseTo or the OIDC ``state`` names the sign-in, whose
    ``connection_id`` says which connection's keys verify the answer. Only
    ``take_pending`` (after verification) uses it up.
    """
    with db.tenant(tenant.id) as repo:
        return repo.sso.peek_pending(protocol_ref, utcnow())


def remember_assertion(
    db: Database, tenant: Tenant, assertion_id: str, not_after: datetime
) -> bool:
    """Record an assertion id until ``not_after``; False when it was seen before (a replay)."""
    with db.tenant(tenant.id, write=True) as repo:
        return repo.sso.remember_assertion(assertion_id, not_after)


# -- the host app's exchange ------------------------------------------------------------


def _profile_name(doc: Mapping[str, Any]) -> dict[str, Any]:
    name = doc.get("name") if isinstance(doc.get("name"), dict) else {}
    assert isinstance(name, dict)
    return {
        "givenName": name.get("givenName"),
        "familyName": name.get("familyName"),
        "formatted": name.get("formatted") or doc.get("displayName"),
    }


def _primary_email(doc: Mapping[str, Any]) -> str | None:
    emails = [e for e in doc.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    primary = [e for e in emails if e.get("primary") is True]
    chosen = primary or emails
    return str(chosen[0]["value"]) if chosen else None


def exchange_code(db: Database, code: str, *, caller_tenant_id: int | None) -> dict[str, Any]:
    """The profile a one-time code stands for; the code is used up.

    ``caller_tenant_id`` is the API key's tenant (None: an operator key, which
    may exchange any tenant's code). A code that is unknown, used, expired or
    another tenant's raises ``InvalidGrant``, the same for each; so does one
    whose user was disabled between the sign-in and the exchange.
    """
    code_hash = hash_code(code)
    with db.directory() as directory:
        tenant = directory.sso_code_tenant(code_hash)
    if tenant is None or (caller_tenant_id is not None and tenant.id != caller_tenant_id):
        raise InvalidGrant()
    with db.tenant(tenant.id, write=True) as repo:
        issued = repo.sso.use_code(code_hash, utcnow())
        if issued is None:
            raise InvalidGrant()
        user = repo.users.get(issued.user_id)
        connection = repo.sso.get_connection(issued.connection_id)
        if user is None or connection is None:
            raise InvalidGrant("the user or connection of this code is gone")
        if not user.enabled:
            # Deactivated (by the IdP, a deletion or the tenant's rules) since the sign-in.
            raise InvalidGrant("the user of this code has been disabled since the sign-in")
        roles = repo.roles.roles_of([user.id]).get(user.id, [])
    return {
        "userId": user.id,
        "tenant": tenant.slug,
        "email": _primary_email(user.doc),
        "userName": user.user_name,
        "name": _profile_name(user.doc),
        "enabled": user.enabled,
        "roles": sorted(roles),
        "groups": list(issued.profile.get("groups") or []),  # type: ignore[call-overload]
        "connection": {
            "id": connection.id,
            "name": connection.name,
            "protocol": connection.protocol,
        },
        "claims": dict(issued.profile.get("claims") or {}),  # type: ignore[call-overload]
    }
