"""Finishing a single sign-on: the user, their roles, the audit row, events, the one-time code.

The protocol adapters verify the IdP's word (``service/saml.py``,
``service/oidc.py``); from the verified ``ExternalIdentity`` on, SAML and OIDC
are the same here:

1. find the user: by the subject linked to this connection before (or, the
   first time, a user whose userName or externalId is the subject), or by
   email against userName and every ``emails`` value, case-insensitively. Two
   candidates are refused (``ambiguous_user``): accounts are never merged
   silently;
2. nobody found: create the user when the connection has JIT on (and does not
   require SCIM to have provisioned them first, ``jit_requires_scim``);
3. a user the IdP disabled (SCIM ``active`` false) or deleted is refused
   (``disabled_user``; a deleted one is not made again by JIT); one the tenant
   left out for being in no mapped group is refused unless the groups asserted
   now bring it back;
4. the name and email the IdP asserted are written to the user, and its group
   values replace the user's stored ones, which the role rules read like SCIM
   memberships (``storage/lifecycle_sql.py``);
5. one audit row and the events, then a one-time code (stored hashed) for the
   host app to exchange at ``POST /api/v1/sso/token``.

Every step runs in one transaction: a refusal leaves no user, code or event.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from scimgate.config import Settings
from scimgate.errors import InvalidValue, SsoRejected
from scimgate.model.entities import Tenant, TenantSettings
from scimgate.model.filter import parse_filter
from scimgate.model.identity import check_user_name
from scimgate.model.lifecycle import LEFT_MAPPED_GROUPS, USER_CREATED, USER_UPDATED
from scimgate.model.sso import (
    MATCH_BY_EMAIL,
    USER_SIGNED_IN,
    Connection,
    ExternalIdentity,
    IssuedCode,
    Pending,
)
from scimgate.service import lifecycle
from scimgate.service.clock import utcnow
from scimgate.service.resources import render_user
from scimgate.storage.audit import SIGN_IN
from scimgate.storage.database import Database
from scimgate.storage.events import NewEvent
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import UserRow

_MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The browser that signs in, as the HTTP layer saw it (for the audit row)."""

    ip: str | None = None
    user_agent: str | None = None


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def allowed_redirects(settings: Settings) -> tuple[str, ...]:
    """The host app's redirect URIs (``SCIMGATE_SSO_REDIRECT_URIS``), compared exactly."""
    return tuple(u.strip() for u in settings.sso_redirect_uris.split(",") if u.strip())


def setup_return_uri(settings: Settings, tenant: Tenant) -> str:
    """Where the setup wizard's test sign-in comes back to: the tenant's own setup page."""
    return f"{settings.public_base}/setup/tenants/{tenant.slug}/sso/tested"


def check_redirect(settings: Settings, redirect_uri: str, tenant: Tenant | None = None) -> None:
    """Refuse a redirect URI the host app did not register.

    With ``tenant``, that tenant's setup page (``setup_return_uri``) is accepted
    too: the code then comes back to scimgate itself, and only that tenant's
    setup session exchanges it.
    """
    if tenant is not None and redirect_uri == setup_return_uri(settings, tenant):
        return
    allowed = allowed_redirects(settings)
    if redirect_uri not in allowed:
        raise SsoRejected(
            "redirect_uri",
            f"the redirect URI {redirect_uri!r} is not one of the host app's registered "
            "redirect URIs (SCIMGATE_SSO_REDIRECT_URIS)",
        )


def route_of(tenant: Tenant, connection: Connection | None) -> tuple[str, str]:
    """(method, path) of the route that finishes a sign-in through ``connection``."""
    if connection is None:
        return "GET", f"/sso/{tenant.slug}/start"
    if connection.protocol == "oidc":
        return "GET", f"/sso/{tenant.slug}/oidc/callback"
    return "POST", f"/sso/{tenant.slug}/saml/acs"


def _client_note(client: ClientInfo) -> str | None:
    parts = [f"from {client.ip}" if client.ip else "", client.user_agent or ""]
    note = " ".join(p for p in parts if p)
    return note[:500] or None


def audit_row(
    tenant: Tenant,
    connection: Connection | None,
    client: ClientInfo,
    *,
    status: int,
    user_id: str | None = None,
    check: str | None = None,
    detail: str | None = None,
    route: tuple[str, str] | None = None,
) -> dict[str, Any]:
    method, path = route or route_of(tenant, connection)
    return {
        "occurred_at": utcnow(),
        "token_id": None,
        "token_name": connection.name[:200] if connection else None,
        "idp": connection.protocol if connection else "sso",
        "method": method[:8],
        "path": path[:512],
        "resource_type": SIGN_IN,
        "resource_id": user_id,
        "status": status,
        "scim_type": check[:32] if check else None,
        "detail": detail[:_MAX_DETAIL] if detail else None,
        "duration_ms": 0.0,
        "change": _client_note(client),
    }


def record_refusal(
    db: Database,
    tenant: Tenant,
    connection: Connection | None,
    rejection: SsoRejected,
    *,
    client: ClientInfo,
    route: tuple[str, str] | None = None,
) -> None:
    """The audit row of a refused sign-in (the console and ``doctor`` list them); once
    per rejection, however many layers it passes through."""
    if rejection.recorded:
        return
    row = audit_row(
        tenant,
        connection,
        client,
        status=rejection.status,
        check=rejection.check,
        detail=rejection.detail,
        route=route,
    )
    with db.tenant(tenant.id, write=True) as repo:
        repo.sso.record_sign_in(row)
    rejection.recorded = True


# -- finding the user ---------------------------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _users_where(repo: TenantRepository, expression: str) -> list[UserRow]:
    return repo.users.page(parse_filter(expression), None, False, 0, 3).rows


def _has_email(row: UserRow, email: str) -> bool:
    wanted = email.lower()
    emails = row.doc.get("emails")
    values = (
        [e.get("value") for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
    )
    return any(str(v).lower() == wanted for v in [row.user_name, *values] if v is not None)


def _linked(
    repo: TenantRepository, connection: Connection, identity: ExternalIdentity
) -> UserRow | None:
    user_id = repo.sso.user_for_subject(connection.id, identity.subject)
    return repo.users.get(user_id) if user_id is not None else None


def _candidates(
    repo: TenantRepository, connection: Connection, identity: ExternalIdentity
) -> list[UserRow]:
    linked = _linked(repo, connection, identity)
    if connection.match_by == MATCH_BY_EMAIL:
        if not identity.email:
            raise SsoRejected(
                "email",
                "this connection matches users by email, and the IdP sent no email address",
            )
        # A returning person whose linked user still holds the email: no search of
        # every user's emails (they live in the JSON document, without an index).
        if linked is not None and _has_email(linked, identity.email):
            return [linked]
        email = _quoted(identity.email)
        return _users_where(repo, f"userName eq {email} or emails.value eq {email}")
    if linked is not None:
        return [linked]
    subject = _quoted(identity.subject)
    return _users_where(repo, f"userName eq {subject} or externalId eq {subject}")


def _find_user(
    repo: TenantRepository, connection: Connection, identity: ExternalIdentity
) -> UserRow | None:
    found = _candidates(repo, connection, identity)
    if len(found) > 1:
        names = ", ".join(sorted(row.user_name for row in found))
        raise SsoRejected(
            "ambiguous_user",
            f"the IdP's identity matches more than one user ({names}); "
            "scimgate never merges accounts, so an administrator must tell them apart",
        )
    return found[0] if found else None


# -- the user's attributes ------------------------------------------------------------


def _mapped_doc(doc: Mapping[str, Any], identity: ExternalIdentity) -> dict[str, Any]:
    """``doc`` with the name and email the IdP asserted (what it did not assert is kept)."""
    new = dict(doc)
    name = dict(new.get("name") or {})
    if identity.given_name:
        name["givenName"] = identity.given_name
    if identity.family_name:
        name["familyName"] = identity.family_name
    if identity.given_name or identity.family_name:
        formatted = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
        name["formatted"] = formatted
        new["name"] = name
    if identity.display_name:
        new["displayName"] = identity.display_name
    if identity.email:
        new["emails"] = _with_primary_email(new.get("emails"), identity.email)
    return new


def _with_primary_email(emails: Any, email: str) -> list[dict[str, Any]]:
    current = [dict(e) for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
    for entry in current:
        if str(entry.get("value", "")).lower() == email.lower():
            if entry.get("primary") is True and entry.get("value") == email:
                return current
            entry["value"] = email
            entry["primary"] = True
            break
    else:
        current.insert(0, {"value": email, "type": "work", "primary": True})
    for entry in current:
        if entry.get("value") != email:
            entry.pop("primary", None)
    return current


def _user_name(identity: ExternalIdentity) -> str:
    user_name = identity.email or identity.subject
    try:
        check_user_name(user_name)
    except InvalidValue as exc:
        raise SsoRejected("user_name", f"cannot make a userName of {user_name!r}: {exc}") from exc
    return user_name


def _user_event(kind: str, row: UserRow, base_url: str, **extra: Any) -> NewEvent:
    """``user.created`` / ``user.updated`` as SCIM writes them: the full User and its state."""
    body = render_user(row, base_url, None).body
    return lifecycle.user_event(
        kind,
        row.id,
        body,
        enabled=row.enabled,
        deactivationReason=row.deactivation_reason,
        source="sso",
        **extra,
    )


def _create(
    repo: TenantRepository,
    tenant_settings: TenantSettings,
    identity: ExternalIdentity,
    connection: Connection,
    base_url: str,
) -> tuple[UserRow, list[NewEvent]] | None:
    """The new user and its event; None when the userName is taken (by a user made
    by a sign-in of the same person running at the same time, or by someone else)."""
    user_name = _user_name(identity)
    doc = _mapped_doc({"userName": user_name, "active": True}, identity)
    enabled, reason = lifecycle.initial_state(tenant_settings, True)
    now = utcnow()
    user_id = str(uuid.uuid4())
    if not repo.users.insert(
        user_id=user_id,
        user_name=user_name,
        external_id=None,
        display_name=doc.get("displayName"),
        active=True,
        now=now,
        doc=doc,
        enabled=enabled,
        deactivation_reason=reason,
    ):
        return None
    row = UserRow(user_id, user_name, None, True, now, now, 1, doc, enabled, reason)
    connection_ref = {"id": connection.id, "name": connection.name}
    return row, [_user_event(USER_CREATED, row, base_url, connection=connection_ref)]


def _create_or_find(
    repo: TenantRepository,
    tenant_settings: TenantSettings,
    identity: ExternalIdentity,
    connection: Connection,
    base_url: str,
) -> tuple[UserRow, list[NewEvent], bool]:
    """JIT creation; (user, events, created). When the userName is taken meanwhile, the
    user is looked for again: a concurrent first sign-in of the same person made it (its
    transaction has committed by the time the insert gives way), so this one signs in as
    that user. A userName taken by someone the identity does not match is refused."""
    created = _create(repo, tenant_settings, identity, connection, base_url)
    if created is not None:
        return created[0], created[1], True
    row = _find_user(repo, connection, identity)
    if row is None:
        raise SsoRejected(
            "ambiguous_user",
            f"a user named {_user_name(identity)!r} exists but does not match this identity; "
            "scimgate does not merge accounts",
        )
    if not row.enabled and row.deactivation_reason != LEFT_MAPPED_GROUPS:
        raise _disabled(row)
    updated, found = _update(repo, row, identity, base_url)
    return updated, found, False


def _update(
    repo: TenantRepository, row: UserRow, identity: ExternalIdentity, base_url: str
) -> tuple[UserRow, list[NewEvent]]:
    doc = _mapped_doc(row.doc, identity)
    if doc == row.doc:
        return row, []
    now = utcnow()
    display_name = doc.get("displayName")
    if not repo.users.update(
        row.id,
        row.version,
        now=now,
        doc=doc,
        enabled=row.enabled,
        deactivation_reason=row.deactivation_reason,
        user_name=row.user_name,
        external_id=row.external_id,
        display_name=display_name,
        active=row.active,
        current=row,
    ):
        raise SsoRejected("conflict", "the user changed during the sign-in; sign in again")
    updated = replace(row, doc=doc, version=row.version + 1, last_modified=now)
    return updated, [_user_event(USER_UPDATED, updated, base_url)]


def _refuse_unknown(connection: Connection, identity: ExternalIdentity) -> SsoRejected:
    who = identity.email or identity.subject
    if not connection.jit:
        return SsoRejected(
            "jit_off",
            f"no user matches {who!r}, and this connection does not create users at sign-in",
        )
    return SsoRejected(
        "not_provisioned",
        f"no user matches {who!r}; this connection signs in only users SCIM has provisioned",
    )


def _refuse_deleted(
    repo: TenantRepository, connection: Connection, identity: ExternalIdentity
) -> None:
    """SCIM deleted the person this identity names (linked before, or by the userName,
    externalId or email that would match them): the IdP said they are gone, so JIT
    does not make them again under the same name."""
    by_email = connection.match_by == MATCH_BY_EMAIL
    names = [n for n in (identity.email, None if by_email else identity.subject) if n]
    deleted = repo.users.deleted_name(
        user_id=repo.sso.user_for_subject(connection.id, identity.subject),
        user_names=names,
        external_id=None if by_email else identity.subject,
    )
    if deleted is not None:
        raise SsoRejected("disabled_user", f"the user {deleted!r} is disabled (deleted)")


def _disabled(row: UserRow) -> SsoRejected:
    why = row.deactivation_reason or "disabled"
    return SsoRejected("disabled_user", f"the user {row.user_name!r} is disabled ({why})")


# -- the one-time code --------------------------------------------------------------


def _redirect(
    settings: Settings,
    tenant: Tenant,
    connection: Connection,
    pending: Pending | None,
    relay_state: str | None,
) -> tuple[str, str | None]:
    """(redirect URI, host state) the browser goes back to."""
    if pending is not None:
        # Checked again: the URI may have been unregistered while the person was at the IdP.
        check_redirect(settings, pending.redirect_uri, tenant)
        return pending.redirect_uri, pending.host_state
    if not connection.allow_idp_initiated:
        raise SsoRejected(
            "idp_initiated",
            "the IdP started this sign-in, and this connection accepts only sign-ins "
            "the host app started",
        )
    allowed = allowed_redirects(settings)
    if relay_state and urlsplit(relay_state).scheme:
        check_redirect(settings, relay_state)
        return relay_state, None
    if not allowed:
        raise SsoRejected("redirect_uri", "no redirect URI is registered (SSO_REDIRECT_URIS)")
    return allowed[0], relay_state


def _with_code(redirect_uri: str, code: str, state: str | None) -> str:
    query = {"code": code, **({"state": state} if state is not None else {})}
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


def _issue_code(
    repo: TenantRepository,
    settings: Settings,
    user_id: str,
    connection: Connection,
    identity: ExternalIdentity,
) -> str:
    code = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=settings.sso_code_ttl_seconds)
    # Claims are the IdP's: whatever an adapter left in them that JSON has no type
    # for (a datetime, bytes) is kept as text rather than failing the sign-in.
    claims = orjson.loads(orjson.dumps(dict(identity.claims), default=str))
    profile = {"groups": list(identity.groups), "claims": claims}
    repo.sso.add_code(hash_code(code), IssuedCode(user_id, connection.id, profile, expires_at))
    return code


# -- the whole sign-in ------------------------------------------------------------------


def complete_sign_in(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    identity: ExternalIdentity,
    *,
    pending: Pending | None,
    client: ClientInfo,
    settings: Settings,
    relay_state: str | None = None,
) -> str:
    """Sign the identity in (see the module docstring); the URL to send the browser to.

    Raises ``SsoRejected`` (and writes its audit row) when the sign-in is refused.
    """
    try:
        return _sign_in(db, tenant, connection, identity, pending, client, settings, relay_state)
    except SsoRejected as rejection:
        record_refusal(db, tenant, connection, rejection, client=client)
        raise


def _sign_in(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    identity: ExternalIdentity,
    pending: Pending | None,
    client: ClientInfo,
    settings: Settings,
    relay_state: str | None,
) -> str:
    if not connection.enabled:
        raise SsoRejected("connection_disabled", f"the connection {connection.name!r} is off")
    if pending is not None and pending.connection_id != connection.id:
        raise SsoRejected("state", "the sign-in was started through another connection")
    redirect_uri, host_state = _redirect(settings, tenant, connection, pending, relay_state)
    base_url = settings.scim_base_url(tenant.slug)
    with db.tenant(tenant.id, write=True) as repo:
        row, user, jit, found = _admit(repo, connection, identity, base_url)
        found.append(
            lifecycle.user_event(
                USER_SIGNED_IN,
                row.id,
                user,
                connection={
                    "id": connection.id,
                    "name": connection.name,
                    "protocol": connection.protocol,
                },
                jit=jit,
            )
        )
        lifecycle.emit(repo, found)
        repo.sso.record_sign_in(audit_row(tenant, connection, client, status=200, user_id=row.id))
        code = _issue_code(repo, settings, row.id, connection, identity)
    return _with_code(redirect_uri, code, host_state)


def _admit(
    repo: TenantRepository, connection: Connection, identity: ExternalIdentity, base_url: str
) -> tuple[UserRow, dict[str, Any], bool, list[NewEvent]]:
    """Steps 1-4 of the module docstring: (user, its snapshot, made by JIT, events so far)."""
    tenant_settings = TenantSettings.from_dict(repo.app.settings())
    row = _find_user(repo, connection, identity)
    jit = row is None
    if row is None:
        _refuse_deleted(repo, connection, identity)
        if not connection.jit or connection.jit_requires_scim:
            raise _refuse_unknown(connection, identity)
        row, found, jit = _create_or_find(repo, tenant_settings, identity, connection, base_url)
    else:
        # Left out for being in no mapped group: the groups asserted now may map.
        if not row.enabled and row.deactivation_reason != LEFT_MAPPED_GROUPS:
            raise _disabled(row)
        row, found = _update(repo, row, identity, base_url)
    repo.sso.link(connection.id, identity.subject, row.id, utcnow())
    groups_moved = connection.groups_to_roles and repo.sso.set_groups(row.id, identity.groups)
    if jit or groups_moved or not row.enabled:
        found = lifecycle.recompute(repo, tenant_settings, [row.id], found)
    user = repo.users.snapshots([row.id]).get(row.id, row.snapshot())
    if not user.get("enabled"):
        raise SsoRejected(
            "disabled_user",
            f"the user {row.user_name!r} is in no mapped group, and this tenant "
            "deactivates such users",
        )
    return row, user, jit, found


# -- a test sign-in -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trial:
    """What a sign-in of this identity would do, found by doing it and rolling it back."""

    user_name: str
    created: bool
    roles: tuple[str, ...]
    groups: tuple[str, ...]


class _RollBack(Exception):
    def __init__(self, trial: Trial) -> None:
        super().__init__("rolled back")
        self.trial = trial


def trial_sign_in(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    identity: ExternalIdentity,
    settings: Settings,
) -> Trial:
    """The sign-in's own steps on ``identity`` in a transaction that is rolled back:
    the same checks, no user made or changed, no event, no code."""
    if not connection.enabled:
        raise SsoRejected("connection_disabled", f"the connection {connection.name!r} is off")
    try:
        with db.tenant(tenant.id, write=True) as repo:
            row, _, jit, _ = _admit(repo, connection, identity, settings.scim_base_url(tenant.slug))
            roles = repo.roles.roles_of([row.id]).get(row.id, [])
            raise _RollBack(Trial(row.user_name, jit, tuple(sorted(roles)), identity.groups))
    except _RollBack as done:
        return done.trial
