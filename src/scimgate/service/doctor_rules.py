"""The connection doctor's rules: each reads the facts and returns its findings.

``service/doctor.py`` gathers the facts in one transaction and runs every
rule in ``RULES``; the words for each IdP come from ``service/doctor_advice.py``.
Every rule is described in docs/how-to/connection-doctor.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scimgate.config import Settings
from scimgate.model.entities import ScimToken, Tenant
from scimgate.model.identity import fold_user_name
from scimgate.model.idp import ENTRA as ENTRA_IDP
from scimgate.model.idp import UNKNOWN as UNKNOWN_IDP
from scimgate.model.sso import Connection
from scimgate.service import doctor_advice as advice
from scimgate.service.audit import TOKEN_OF_ANOTHER_TENANT
from scimgate.storage.audit import AuditEntry

ERROR = "error"
WARNING = "warning"

WINDOW = timedelta(hours=24)  # how far back failing requests are explained
SILENCE = timedelta(hours=48)  # no request for this long, with a token in place
EXPIRY_NOTICE = timedelta(days=7)  # a token in use expiring this soon
OFTEN = 3  # a refused-value pattern seen this many times deserves words
_MAX_EXAMPLES = 3
RATE_SAMPLE = 2000  # entries read around the 429s to measure the push rate
_RATE_SPAN = 10.0  # seconds over which the push rate is measured

_TAKEN = re.compile(r"""userName (['"])(.*)\1 is already taken""")
_QUOTED = re.compile(r"""(['"]).*?\1""")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the doctor recognised, with the words to explain and fix it."""

    rule: str  # stable code, e.g. "base_url_doubled"
    severity: str  # "error" or "warning"
    title: str
    explanation: str
    fix: str
    idp: str | None = None  # the IdP whose requests show it, when known
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "explanation": self.explanation,
            "fix": self.fix,
            "idp": self.idp,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read, gathered in one transaction."""

    tenant: Tenant
    now: datetime
    base_url: str
    tokens: list[ScimToken]
    failures: list[AuditEntry]  # failing requests in WINDOW, newest first
    last_request: AuditEntry | None
    last_success: dict[str, int]  # IdP -> id of its newest successful request
    last_group_write: AuditEntry | None  # the newest Group request
    group_writes: int  # successful Group writes in the last 7 days
    resources: dict[str, int]
    stored_names: dict[str, str]  # folded userName -> stored userName, for the 409s
    around_429: list[AuditEntry] = field(default_factory=list)
    # The IdP the reader said they use (the setup wizard's choice), for the words of a
    # finding whose requests do not say which IdP sent them.
    chosen_idp: str | None = None

    def idp_or_chosen(self, idp: str | None) -> str | None:
        """The IdP the requests show, else the one the reader chose."""
        if idp is not None and idp != UNKNOWN_IDP:
            return idp
        return self.chosen_idp or idp

    connections: list[Connection] = field(default_factory=list)  # single sign-on

    def fixed_since(self, entries: list[AuditEntry]) -> bool:
        """The IdP of the newest of ``entries`` made a successful request after it."""
        if not entries:
            return False
        last = self.last_success.get(entries[0].idp)
        return last is not None and last > entries[0].id


def taken_name(entry: AuditEntry) -> str | None:
    found = _TAKEN.search(entry.detail or "")
    return found.group(2) if found else None


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _common_idp(entries: Iterable[AuditEntry]) -> str | None:
    counted = Counter(e.idp for e in entries)
    return counted.most_common(1)[0][0] if counted else None


def _seen(entries: list[AuditEntry]) -> dict[str, Any]:
    """The evidence every rule about failing requests carries."""
    return {
        "count": len(entries),
        "firstAt": iso(entries[-1].occurred_at),
        "lastAt": iso(entries[0].occurred_at),
        "examples": [
            f"{e.method} {e.path.split('?', 1)[0]} → {e.status}" for e in entries[:_MAX_EXAMPLES]
        ],
    }


# -- the rules: each takes the facts and returns its findings --------------------------


def _other_tenants_token(facts: Facts, settings: Settings) -> list[Finding]:
    seen = [
        e for e in facts.failures if e.status == 401 and TOKEN_OF_ANOTHER_TENANT in (e.detail or "")
    ]
    if not seen or facts.fixed_since(seen):
        return []
    idp = facts.idp_or_chosen(_common_idp(seen))
    who = advice.idp_name(idp)
    return [
        Finding(
            rule="token_of_another_tenant",
            severity=ERROR,
            title=f"{who} is sending the token of another tenant",
            explanation=(
                f"{who} calls this tenant's URL ({facts.base_url}) with a token that belongs "
                "to a different tenant, so every request is refused with 401. The token was "
                "most likely copied from another tenant's setup, or the URL was."
            ),
            fix=(
                f"The URL {facts.base_url} is right; the token is not. "
                + advice.new_token_steps(idp, facts.tenant)
            ),
            idp=idp,
            evidence=_seen(seen),
        )
    ]


# 401 details the authenticator gives, and what each means for the IdP's setup.
_AUTHRULES: tuple[tuple[str, str, str, str], ...] = (
    (
        "The bearer token has been revoked",
        "token_revoked",
        "{who} still uses a revoked token",
        "{who} sends a token that was revoked in scimgate, so every request is refused "
        "with 401 and nothing is provisioned.",
    ),
    (
        "The bearer token has expired",
        "token_expired",
        "{who} uses a token that has expired",
        "The token {who} sends has passed its expiry date, so every request is refused "
        "with 401 and nothing is provisioned.",
    ),
    (
        "Invalid bearer token",
        "token_unknown",
        "{who} sends a token scimgate does not know",
        "{who} sends a bearer token that matches no token of any tenant: it was mistyped, "
        "cut short when it was pasted, or belongs to another scimgate installation.",
    ),
    (
        "The tenant is disabled",
        "tenant_disabled",
        "This tenant is disabled",
        "The tenant has been disabled in scimgate, so {who}'s requests are refused with 401.",
    ),
)
_NO_BEARER = (
    "Missing Authorization header",
    "Authorization must use the Bearer scheme",
    "Empty bearer token",
    "Malformed bearer token",
)


def _refused_tokens(facts: Facts, settings: Settings) -> list[Finding]:
    unauthorized = [
        e
        for e in facts.failures
        if e.status == 401 and TOKEN_OF_ANOTHER_TENANT not in (e.detail or "")
    ]
    found = []
    for detail, rule, title, explanation in _AUTHRULES:
        seen = [e for e in unauthorized if (e.detail or "") == detail]
        if not seen or facts.fixed_since(seen):
            continue
        idp = facts.idp_or_chosen(_common_idp(seen))
        who = advice.idp_name(idp)
        fix = (
            "An operator can enable the tenant again (“scimgate tenant enable "
            f"{facts.tenant.slug}”); nothing needs to change in {who}."
            if rule == "tenant_disabled"
            else advice.new_token_steps(idp, facts.tenant)
        )
        found.append(
            Finding(
                rule=rule,
                severity=ERROR,
                title=title.format(who=who),
                explanation=explanation.format(who=who),
                fix=fix,
                idp=idp,
                evidence=_seen(seen),
            )
        )
    found.extend(_no_bearer_token(facts, unauthorized))
    return found


def _no_bearer_token(facts: Facts, unauthorized: list[AuditEntry]) -> list[Finding]:
    seen = [e for e in unauthorized if (e.detail or "") in _NO_BEARER]
    if not seen or facts.fixed_since(seen):
        return []
    idp = facts.idp_or_chosen(_common_idp(seen))
    who = advice.idp_name(idp)
    explanation = (
        f"{who}'s requests carry no usable “Authorization: Bearer …” header "
        f"({seen[0].detail}), so they are refused with 401. scimgate accepts only "
        "the bearer tokens it issued, not Basic authentication or OAuth."
    )
    if idp == ENTRA_IDP and seen[0].detail == "Malformed bearer token":
        explanation += (
            " Entra sends a sign-in token of its own when its Secret Token field is left "
            "empty; that token is never accepted."
        )
    return [
        Finding(
            rule="no_bearer_token",
            severity=ERROR,
            title=f"{who} does not send a bearer token",
            explanation=explanation,
            fix=(
                f"Choose bearer token (HTTP header) authentication in {advice.token_field(idp)}. "
                + advice.new_token_steps(idp, facts.tenant)
            ),
            idp=idp,
            evidence=_seen(seen),
        )
    ]


def _doubled_base_url(facts: Facts, settings: Settings) -> list[Finding]:
    prefix = f"/scim/v2/{facts.tenant.slug}"
    seen = [
        e
        for e in facts.failures
        if e.status == 404 and _after_prefix(e.path, prefix).lower().startswith(("/scim/", "/v2/"))
    ]
    if not seen or facts.fixed_since(seen):
        return []
    idp = facts.idp_or_chosen(_common_idp(seen))
    who = advice.idp_name(idp)
    path = seen[0].path.split("?", 1)[0]
    return [
        Finding(
            rule="base_url_doubled",
            severity=ERROR,
            title="Requests arrive at a doubled path: the base URL was pasted twice",
            explanation=(
                f"{who}'s requests arrive at {path}: the SCIM path appears twice, so no "
                f"endpoint matches and each answer is 404. The base URL field holds "
                f"{facts.base_url} followed by part of it again (or the IdP adds /scim/v2 "
                "itself)."
            ),
            fix=(
                f"Set {advice.base_url_field(idp)} to exactly {facts.base_url} (nothing after "
                "the tenant name), save, and run the connection test again."
            ),
            idp=idp,
            evidence=_seen(seen),
        )
    ]


def _after_prefix(path: str, prefix: str) -> str:
    bare = path.split("?", 1)[0]
    return bare[len(prefix) :] if bare.startswith(prefix) else ""


def _groups_without_members(facts: Facts, settings: Settings) -> list[Finding]:
    counts = facts.resources
    if not (counts["groups"] and counts["users_active"] and facts.group_writes):
        return []
    if counts["memberships"]:
        return []
    idp = facts.idp_or_chosen(facts.last_group_write.idp if facts.last_group_write else None)
    who = advice.idp_name(idp)
    return [
        Finding(
            rule="groups_without_members",
            severity=WARNING,
            title=f"{who} pushes groups but no members",
            explanation=(
                f"{who} created or updated {counts['groups']} group(s) and "
                f"{counts['users_active']} user(s) are provisioned, but no group has a "
                "member: group-based roles and access cannot work."
            ),
            fix=advice.members_fix(idp),
            idp=idp,
            evidence={
                "groups": counts["groups"],
                "usersActive": counts["users_active"],
                "memberships": 0,
                "groupWritesLast7Days": facts.group_writes,
            },
        )
    ]


def _user_name_conflicts(facts: Facts, settings: Settings) -> list[Finding]:
    seen = [e for e in facts.failures if e.status == 409 and taken_name(e)]
    case_only: list[tuple[AuditEntry, str, str]] = []
    for entry in seen:
        sent = taken_name(entry) or ""
        stored = facts.stored_names.get(fold_user_name(sent))
        if stored is not None and stored != sent:
            case_only.append((entry, sent, stored))
    if not case_only:
        return []
    entries = [entry for entry, _, _ in case_only]
    idp = facts.idp_or_chosen(_common_idp(entries))
    who = advice.idp_name(idp)
    pairs = list(dict.fromkeys((sent, stored) for _, sent, stored in case_only))
    sent, stored = pairs[0]
    evidence = _seen(entries)
    evidence["userNames"] = [{"sent": s, "stored": t} for s, t in pairs[:_MAX_EXAMPLES]]
    return [
        Finding(
            rule="user_name_case_conflict",
            severity=ERROR,
            title="409s: the same userName differs only by case",
            explanation=(
                f"{who} tries to create {sent!r}, but {stored!r} exists already. userName is "
                "case-insensitive (RFC 7643 §4.1.1), so they are the same user and the create "
                f"is refused with 409; {who} treats the two spellings as different people."
            ),
            fix=advice.user_name_case_fix(idp),
            idp=idp,
            evidence=evidence,
        )
    ]


def _silence(facts: Facts, settings: Settings) -> list[Finding]:
    usable = [t for t in facts.tokens if t.is_usable(facts.now)]
    if not usable:
        return []
    heard = [t.last_used_at for t in facts.tokens if t.last_used_at is not None]
    if facts.last_request is not None:
        heard.append(facts.last_request.occurred_at)
    last = max(heard) if heard else None
    since = last or min(t.created_at for t in usable)
    quiet = facts.now - since
    if quiet < SILENCE:
        return []
    hours = int(quiet.total_seconds() // 3600)
    idp = facts.idp_or_chosen(facts.last_request.idp if facts.last_request else None)
    who = advice.idp_name(idp)
    if last is None:
        explanation = (
            f"A token was created {hours} hours ago, but no request has arrived since: "
            "the IdP was never connected, or its provisioning is switched off."
        )
    else:
        explanation = (
            f"The last request from {who} arrived {hours} hours ago. IdPs push changes "
            "within minutes and re-check at least daily, so provisioning has probably "
            "stopped: switched off, out of assignments, or in quarantine after errors."
        )
    return [
        Finding(
            rule="no_recent_requests",
            severity=WARNING,
            title=f"No request for {hours} hours while the IdP is set up",
            explanation=explanation,
            fix=advice.silence_fix(idp),
            idp=idp,
            evidence={"lastRequestAt": iso(last), "hoursQuiet": hours},
        )
    ]


def _expiring_tokens(facts: Facts, settings: Settings) -> list[Finding]:
    usable = [t for t in facts.tokens if t.is_usable(facts.now)]
    lasting = [
        t for t in usable if t.expires_at is None or t.expires_at - facts.now > EXPIRY_NOTICE
    ]
    found = []
    for token in usable:
        if token.expires_at is None or token.expires_at - facts.now > EXPIRY_NOTICE:
            continue
        if token.last_used_at is None and lasting:
            continue  # never used, and another token outlives it
        left = token.expires_at - facts.now
        days = math.ceil(left / timedelta(days=1))  # a token made "for 5 days" shows 5
        hours = math.ceil(left / timedelta(hours=1))
        when = f"in {days} days" if days >= 2 else f"in {hours} hours"
        idp = facts.idp_or_chosen(facts.last_request.idp if facts.last_request else None)
        found.append(
            Finding(
                rule="token_expiring",
                severity=WARNING,
                title=f"The token {token.name!r} expires {when}",
                explanation=(
                    f"The token {token.name!r} ({token.prefix}…) expires on "
                    f"{token.expires_at:%Y-%m-%d %H:%M} UTC. From then on every request made "
                    "with it is refused with 401 and provisioning stops."
                ),
                fix=advice.new_token_steps(idp, facts.tenant),
                idp=idp,
                evidence={
                    "token": token.name,
                    "prefix": token.prefix,
                    "expiresAt": iso(token.expires_at),
                    "daysLeft": days,
                    "lastUsedAt": iso(token.last_used_at),
                },
            )
        )
    return found


def _rate_limited(facts: Facts, settings: Settings) -> list[Finding]:
    seen = [e for e in facts.failures if e.status == 429]
    if not seen:
        return []
    idp = facts.idp_or_chosen(_common_idp(seen))
    who = advice.idp_name(idp)
    peak = _peak(facts.around_429)
    rate = peak / _RATE_SPAN
    evidence = _seen(seen)
    evidence.update(
        {
            "rateLimitPerSecond": settings.rate_limit_per_second,
            "rateLimitBurst": settings.rate_limit_burst,
            "peakRequests": peak,
            "peakSeconds": _RATE_SPAN,
        }
    )
    return [
        Finding(
            rule="rate_limited",
            severity=ERROR,
            title=f"429s: the rate limit is lower than {who}'s push rate",
            explanation=(
                f"{len(seen)} of {who}'s requests were refused with 429 (too many requests). "
                f"At its busiest {who} sent {peak} requests in {_RATE_SPAN:g} seconds "
                f"(about {rate:.1f} per second); the limit is "
                f"{settings.rate_limit_per_second:g} per second per token."
            ),
            fix=advice.rate_limit_fix(idp, settings.rate_limit_per_second),
            idp=idp,
            evidence=evidence,
        )
    ]


def _peak(entries: list[AuditEntry]) -> int:
    """The most requests within any ``_RATE_SPAN`` seconds."""
    moments = sorted(e.occurred_at.timestamp() for e in entries)
    best, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] > _RATE_SPAN:
            start += 1
        best = max(best, end - start + 1)
    return best


def _refused_values(facts: Facts, settings: Settings) -> list[Finding]:
    patterns: dict[tuple[str, str, str | None, str], list[AuditEntry]] = {}
    for entry in facts.failures:
        if entry.status != 400:
            continue
        detail = _QUOTED.sub("“…”", entry.detail or "")
        key = (
            entry.idp,
            f"{entry.method} {entry.resource_type or ''}".strip(),
            entry.scim_type,
            detail,
        )
        patterns.setdefault(key, []).append(entry)
    found = []
    ranked = sorted(patterns.items(), key=lambda item: -len(item[1]))
    for (sender, operation, scim_type, _pattern), seen in ranked[:_MAX_EXAMPLES]:
        if len(seen) < OFTEN:
            break
        idp = facts.idp_or_chosen(sender)
        who = advice.idp_name(idp)
        evidence = _seen(seen)
        evidence.update({"scimType": scim_type, "detail": seen[0].detail})
        found.append(
            Finding(
                rule="refused_values",
                severity=WARNING,
                title=f"{who}'s {operation} requests are refused as {scim_type or 'bad requests'}",
                explanation=(
                    f"{len(seen)} {operation} requests from {who} were refused with 400 "
                    f"{scim_type or ''}: “{seen[0].detail}”. The users or groups concerned are "
                    "not provisioned until the IdP sends something else."
                ),
                fix=advice.refused_value_fix(idp, scim_type),
                idp=idp,
                evidence=evidence,
            )
        )
    return found


RULES: tuple[Callable[[Facts, Settings], list[Finding]], ...] = (
    _other_tenants_token,
    _refused_tokens,
    _doubled_base_url,
    _rate_limited,
    _user_name_conflicts,
    _groups_without_members,
    _refused_values,
    _expiring_tokens,
    _silence,
)
