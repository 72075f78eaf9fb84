"""The console's Test sign-in: a real flow through the IdP whose answer comes back to the console.

1. The console issues a ticket (``issue_ticket``, behind its CSRF check) and sends
   the browser to the protocol's start route with it; ``redeem_ticket`` uses it up
   and ``sso.begin(trial=True)`` records a sign-in that returns to the console.
2. The IdP answers the ACS or the OIDC callback, which verifies it as it verifies
   every sign-in: signature, audience, destination, time window, replay,
   InResponseTo or state.
3. ``finish`` then runs the sign-in's own user and role steps in a transaction that
   is rolled back (``sign_in.trial_sign_in``): no user is made or changed, no event
   is sent and no code goes to the host app. ``fail`` takes a refusal instead.
   Either way the outcome is an audit row marked as a test, and a report kept for
   the console under a fresh reference for as long as a pending sign-in lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import PROTOCOL_SAML, Connection, ExternalIdentity, Pending
from scimgate.service import sso
from scimgate.service.clock import utcnow
from scimgate.service.sign_in import ClientInfo, audit_row, trial_sign_in
from scimgate.storage.database import Database

TRIAL_NOTE = "test sign-in from the console"
PASSED, FAILED, UNCHECKED, NOT_REACHED = "passed", "failed", "not checked", "not reached"
_TICKET = "ticket"
_REPORT = "report"


@dataclass(frozen=True, slots=True)
class Step:
    """One check a sign-in passes; ``stage`` groups the checks one verification makes
    together (which of them ran before one failed is not known)."""

    key: str
    label: str
    stage: int
    codes: frozenset[str]
    passed: str


def _step(key: str, label: str, stage: int, codes: str, passed: str) -> Step:
    return Step(key, label, stage, frozenset(codes.split()), passed)


_USER_CODES = "jit_off not_provisioned ambiguous_user disabled_user user_name email conflict"
_SAML_STEPS = (
    _step(
        "signature",
        "Signature",
        1,
        "signature xml encryption issuer status idp metadata",
        "the IdP signed the answer with a certificate this connection trusts",
    ),
    _step("audience", "Audience", 1, "audience", "the Audience is this tenant's SP entity id"),
    _step(
        "destination",
        "Destination and Recipient",
        1,
        "destination recipient",
        "both name this tenant's ACS URL",
    ),
    _step(
        "time",
        "Time window",
        1,
        "expired not_yet_valid",
        "the assertion is valid now, within the allowed clock skew",
    ),
    _step(
        "in_response_to",
        "InResponseTo",
        1,
        "in_response_to idp_initiated state",
        "the response answers the request this test sent",
    ),
    _step("replay", "Replay", 2, "replay", "the assertion's id had not been used before"),
    _step("user", "User", 3, _USER_CODES, ""),
    _step("roles", "Roles", 4, "", ""),
)
_OIDC_STEPS = (
    _step("state", "State", 1, "state", "the state came back as this test sent it"),
    _step(
        "code",
        "Code exchange",
        2,
        "code idp_error metadata",
        "the IdP exchanged the authorization code (PKCE) for tokens",
    ),
    _step(
        "id_token",
        "ID token",
        3,
        "signature algorithm issuer audience nonce expired not_yet_valid claims userinfo "
        "hosted_domain groups_overage",
        "signature (JWKS), issuer, audience, nonce and expiry all hold",
    ),
    _step("user", "User", 4, _USER_CODES, ""),
    _step("roles", "Roles", 5, "", ""),
)

# The latest sign-ins say what failed in a headline; the detail gives the values.
CHECK_TITLES = {
    "signature": "the signature does not verify",
    "xml": "the IdP's answer is not well-formed",
    "encryption": "the encrypted assertion could not be decrypted",
    "issuer": "the issuer is not the trusted IdP",
    "status": "the IdP reported an error",
    "audience": "the Audience is not this tenant's",
    "destination": "the Destination is not this tenant's ACS URL",
    "recipient": "the Recipient is not this tenant's ACS URL",
    "expired": "the assertion has expired",
    "not_yet_valid": "the assertion is not valid yet",
    "replay": "the assertion was used before",
    "in_response_to": "the answer is to no request this service sent",
    "idp_initiated": "IdP-initiated sign-in is off",
    "state": "the sign-in's state does not match",
    "code": "the authorization code was refused",
    "idp_error": "the IdP answered with an error",
    "metadata": "the connection's IdP settings are incomplete",
    "redirect_uri": "the redirect URI is not registered",
    "connection": "no usable connection",
    "connection_disabled": "the connection is off",
    "tenant": "unknown or disabled tenant",
    "jit_off": "no such user, and just-in-time creation is off",
    "not_provisioned": "no such user, and only SCIM-provisioned users may sign in",
    "ambiguous_user": "more than one user matches",
    "disabled_user": "the user is disabled",
    "email": "the IdP sent no email address",
    "user_name": "no valid userName in the identity",
    "nonce": "the ID token's nonce is not this sign-in's",
    "algorithm": "the ID token's algorithm is refused",
    "claims": "the ID token lacks a required claim",
    "userinfo": "the userinfo answer was refused",
    "hosted_domain": "the account is not in the required Google Workspace domain",
    "groups_overage": "the IdP sent a link instead of the groups",
}


def steps_for(protocol: str) -> Sequence[Step]:
    return _SAML_STEPS if protocol == PROTOCOL_SAML else _OIDC_STEPS


def results_path(tenant: Tenant, connection: Connection, ref: str = "") -> str:
    return f"/admin/tenants/{tenant.slug}/sso/{connection.id}/tests/{ref}"


# -- the ticket -----------------------------------------------------------------------


def issue_ticket(db: Database, tenant: Tenant, connection: Connection) -> str:
    """A single-use reference with which the start route begins a test sign-in."""
    ticket = sso.new_protocol_ref()
    _keep(db, tenant, connection, ticket, {_TICKET: "1"})
    return ticket


def redeem_ticket(db: Database, tenant: Tenant, connection: Connection, ticket: str) -> str:
    """Use the ticket up; the console path the test's answer goes back to."""
    pending = sso.take_pending(db, tenant, connection, ticket)
    if pending is None or pending.data.get(_TICKET) != "1":
        raise SsoRejected(
            "state",
            "this test sign-in is unknown, was started already, or is older than ten minutes; "
            "start it again from the console",
        )
    return results_path(tenant, connection)


def is_trial(pending: Pending | None) -> bool:
    return pending is not None and pending.data.get(sso.TRIAL) == "1"


def _keep(
    db: Database, tenant: Tenant, connection: Connection, ref: str, data: dict[str, str]
) -> None:
    pending = Pending(
        connection_id=connection.id,
        protocol_ref=ref,
        redirect_uri="",
        host_state=None,
        data=data,
        expires_at=utcnow() + sso.PENDING_LIFETIME,
    )
    with db.tenant(tenant.id, write=True) as repo:
        repo.sso.add_pending(pending)


# -- the outcome ----------------------------------------------------------------------


def _user_words(
    connection: Connection, identity: ExternalIdentity, created: bool, name: str
) -> str:
    who = identity.email or identity.subject
    if created:
        return f"no user matches {who!r}; just-in-time provisioning would create {name!r}"
    return f"{who!r} matches the existing user {name!r} (by {connection.match_by})"


def _roles_words(connection: Connection, groups: Sequence[str], roles: Sequence[str]) -> str:
    held = ", ".join(roles) if roles else "no role"
    if not connection.groups_to_roles:
        return f"group mapping is off for this connection; the user holds {held}"
    asserted = ", ".join(groups) if groups else "no group"
    return f"the IdP asserted {asserted}, which with the tenant's rules gives {held}"


def finish(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    identity: ExternalIdentity,
    *,
    client: ClientInfo,
    settings: Settings,
) -> str:
    """The verified identity of a test sign-in through the user and role steps, rolled
    back; the console path of its report."""
    try:
        trial = trial_sign_in(db, tenant, connection, identity, settings)
    except SsoRejected as rejection:
        return fail(db, tenant, connection, rejection, client=client)
    words = {
        "user": _user_words(connection, identity, trial.created, trial.user_name),
        "roles": _roles_words(connection, trial.groups, trial.roles),
    }
    steps = [
        {"label": s.label, "state": PASSED, "words": words.get(s.key, s.passed)}
        for s in steps_for(connection.protocol)
    ]
    summary = f"{words['user']}; {words['roles']}"
    row = audit_row(tenant, connection, client, status=200, check="test", detail=summary)
    return _report(db, tenant, connection, row, ok=True, steps=steps)


def fail(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    rejection: SsoRejected,
    *,
    client: ClientInfo,
) -> str:
    """A refused test sign-in: its report (the failed check in words) and audit row."""
    steps = []
    order = steps_for(connection.protocol)
    failed = next((s for s in order if rejection.check in s.codes), None)
    if failed is None:
        title = CHECK_TITLES.get(rejection.check, rejection.check)
        steps.append({"label": title.capitalize(), "state": FAILED, "words": rejection.detail})
    for step in order:
        state = _state(step, failed)
        words = rejection.detail if step is failed else step.passed if state == PASSED else ""
        steps.append({"label": step.label, "state": state, "words": words})
    row = audit_row(
        tenant,
        connection,
        client,
        status=rejection.status,
        check=rejection.check,
        detail=rejection.detail,
    )
    rejection.recorded = True
    return _report(db, tenant, connection, row, ok=False, steps=steps)


def _state(step: Step, failed: Step | None) -> str:
    if failed is None:
        return NOT_REACHED
    if step is failed:
        return FAILED
    if step.stage < failed.stage:
        return PASSED
    return UNCHECKED if step.stage == failed.stage else NOT_REACHED


def _report(
    db: Database,
    tenant: Tenant,
    connection: Connection,
    row: dict[str, object],
    *,
    ok: bool,
    steps: list[dict[str, str]],
) -> str:
    note = row.get("change")
    row["change"] = (f"{TRIAL_NOTE} · {note}" if note else TRIAL_NOTE)[:500]
    with db.tenant(tenant.id, write=True) as repo:
        repo.sso.record_sign_in(row)
    ref = sso.new_protocol_ref()
    report = {
        "ok": ok,
        "at": utcnow().strftime("%Y-%m-%d %H:%M:%S"),
        "connection": connection.name,
        "protocol": connection.protocol,
        "steps": steps,
    }
    _keep(db, tenant, connection, ref, {_REPORT: orjson.dumps(report).decode()})
    return results_path(tenant, connection, ref)


def report(db: Database, tenant: Tenant, connection: Connection, ref: str) -> dict[str, object]:
    """The report of a test sign-in, readable while its reference lives."""
    with db.tenant(tenant.id) as repo:
        kept = repo.sso.peek_pending(ref, utcnow())
    raw = kept.data.get(_REPORT) if kept and kept.connection_id == connection.id else None
    if raw is None:
        raise sso.ConnectionNotFound(
            "this test sign-in's report is unknown or expired (reports are kept ten minutes)"
        )
    loaded: dict[str, object] = orjson.loads(raw)
    return loaded
