"""Secrets are compared in constant time (``hmac.compare_digest``), never with ``==``.

The static half walks every module of ``scimgate`` and refuses a value
comparison (``==``, ``!=``, ``in``, ``not in``) whose operands are named like
a secret: an early-exit comparison answers faster the sooner the first wrong
character comes, which lets an attacker guess a secret character by
character. The behavioural half presents credentials of the right shape and
length with a single wrong character and expects each to be refused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

import scimgate
from scimgate.admin.security import COOKIE
from scimgate.model.entities import Tenant
from scimgate.service import admins
from scimgate.service.api_keys import create_api_key
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken, list_tokens
from scimgate.storage.database import Database
from tests.reliability.console import (
    CSRF_REFUSAL,
    PASSWORD,
    console_client,
    forged,
    sign_in,
    snapshot,
)

PACKAGE = Path(scimgate.__file__).parent

# Identifier fragments that name a secret, or something derived from one.
_SECRET_WORDS = re.compile(
    r"token|secret|csrf|signature|digest|password|passwd|hash|hmac|cookie|credential|api_?key"
    r"|nonce",
    re.IGNORECASE,
)
# Data *about* a secret, not the secret: token_id, revoked_at, key_name, prefix.
_METADATA = re.compile(r"(_id|_at|_name|prefix|_count)$", re.IGNORECASE)
# Their result says nothing about the secret's characters.
_OPAQUE_CALLS = frozenset({"len", "isinstance", "type", "bool"})
_VALUE_COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)

# Identifiers that look like secrets but are not, module by module.
NOT_SECRETS: dict[tuple[str, str], str] = {
    # The filter grammar's lexer: a "token" is a piece of a filter expression.
    ("scimgate.model.filter", "token"): "lexical token of a SCIM filter",
    ("scimgate.model.filter", "tokens"): "lexical tokens of a SCIM filter",
    # The marker the audit detail carries for another tenant's token: a fixed text.
    ("scimgate.service.doctor_rules", "TOKEN_OF_ANOTHER_TENANT"): "a fixed marker text",
    # OIDC client authentication method names (client_secret_basic, _post).
    ("scimgate.service.oidc", "token_auth_method"): "a method name from configuration",
    ("scimgate.service.oidc", "token_auth_methods"): "method names the provider announces",
}
# Comparisons that involve a secret and are safe, each with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    # Startup check of the operator's own key against well-known placeholder
    # values; no request can trigger it, so there is nothing to time.
    (
        "scimgate.config",
        "self.secret_key.get_secret_value() in _PLACEHOLDER_SECRETS",
    ): "startup check, no request input",
    # SQL, not Python: the lookup of a presented SCIM token / API key by the
    # SHA-256 of the secret through a unique index. A timing difference there
    # could at most reveal the stored hash, which does not help to forge a
    # 256-bit random secret (that needs a preimage); the service compares the
    # hash again with compare_digest before trusting the row.
    (
        "scimgate.storage.api_keys",
        "api_keys.c.secret_hash == secret_hash",
    ): "indexed lookup by hash",
    # SQL, not Python: resealing swaps a sealed value only if the row still holds
    # the one it read. Both sides come from the database, never from a request.
    (
        "scimgate.storage.webhook_secrets",
        "webhooks.c.secret == stored",
    ): "compare-and-swap of a stored value, no request input",
    (
        "scimgate.storage.sso_secrets",
        "sso_connections.c.client_secret == stored",
    ): "compare-and-swap of a stored value, no request input",
    # SQL, not Python: a single sign-on code is looked up (its tenant, then its
    # row) by the SHA-256 of a 256-bit random code through the primary key, as
    # API keys are; timing could at most reveal a stored hash, useless without
    # a preimage, and the row is single use and expires within a minute.
    (
        "scimgate.storage.directory",
        "sso_codes.c.code_hash == code_hash",
    ): "indexed lookup by hash",
    # The same for a setup link's secret when the link is opened; the service
    # compares the stored hash again with compare_digest.
    (
        "scimgate.storage.directory",
        "setup_links.c.secret_hash == secret_hash",
    ): "indexed lookup by hash",
    (
        "scimgate.storage.sso",
        "sso_codes.c.code_hash == code_hash",
    ): "indexed lookup by hash",
}


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    source: str
    names: tuple[str, ...]


def _names(node: ast.expr) -> Iterator[str]:
    """The identifiers a comparison operand is about.

    ``token.expires_at`` is about ``expires_at``; a method call about the
    method and its receiver (``csrf.encode()`` is still the CSRF token); a
    call about its arguments, string ones included (``form.get("csrf")``); a
    subscript about its container and a string key
    (``headers["webhook-signature"]``).
    """
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in _OPAQUE_CALLS:
            return
        if isinstance(func, ast.Attribute):
            yield func.attr
            yield from _names(func.value)
        else:
            yield from _names(func)
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield arg.value
            else:
                yield from _names(arg)
    elif isinstance(node, ast.Subscript):
        yield from _names(node.value)
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            yield node.slice.value
    elif not isinstance(node, ast.Constant):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                yield from _names(child)


def _secret_like(module: str, name: str) -> bool:
    return (
        _SECRET_WORDS.search(name) is not None
        and _METADATA.search(name) is None
        and (module, name) not in NOT_SECRETS
    )


def scan(module: str, source: str) -> list[Finding]:
    """Value comparisons in ``source`` with an operand named like a secret."""
    findings = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, _VALUE_COMPARISONS) for op in node.ops):
            continue
        names = {n for operand in (node.left, *node.comparators) for n in _names(operand)}
        secret = tuple(sorted(n for n in names if _secret_like(module, n)))
        if secret:
            findings.append(Finding(module, node.lineno, ast.unparse(node), secret))
    return findings


def _modules() -> Iterator[tuple[str, str]]:
    """(dotted name, source) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path.read_text()


def _package_findings() -> list[Finding]:
    return [finding for module, source in _modules() for finding in scan(module, source)]


def test_no_secret_is_compared_with_an_ordinary_operator() -> None:
    findings = _package_findings()
    unexplained = [f for f in findings if (f.module, f.source) not in ALLOWED]
    assert not unexplained, "use hmac.compare_digest for these (or justify them in ALLOWED):\n" + (
        "\n".join(f"{f.module}:{f.line}: {f.source}  {f.names}" for f in unexplained)
    )
    stale = set(ALLOWED) - {(f.module, f.source) for f in findings}
    assert not stale, f"ALLOWED lists comparisons that no longer exist: {sorted(stale)}"


def test_every_not_secret_exception_is_still_needed() -> None:
    used: set[tuple[str, str]] = set()
    for module, source in _modules():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Compare):
                for operand in (node.left, *node.comparators):
                    used.update((module, name) for name in _names(operand))
    assert set(NOT_SECRETS) <= used, sorted(set(NOT_SECRETS) - used)


@pytest.mark.parametrize(
    "line",
    [
        "ok = session.csrf == submitted",
        "ok = submitted.encode() != session.csrf.encode()",
        "ok = form.get('csrf') == expected",
        "ok = hash_secret(presented) == row.secret_hash",
        "ok = signature == wanted",
        "ok = headers['webhook-signature'] == computed",
        "ok = digest(payload) in seen",
        "ok = account.password == password",
        "ok = api_key == presented",
        "ok = expected_hmac != given",
    ],
)
def test_the_scan_catches_a_secret_compared_with_an_operator(line: str) -> None:
    assert scan("scimgate.example", line)


@pytest.mark.parametrize(
    "line",
    [
        "ok = hmac.compare_digest(session.csrf, submitted)",
        "ok = token.revoked_at is None",
        "ok = token.token_id == wanted_id",
        "ok = len(secret) == 43",
        "ok = scheme.lower() != 'bearer'",
        "ok = rule.role_key == key",
    ],
)
def test_the_scan_leaves_other_comparisons_alone(line: str) -> None:
    assert not scan("scimgate.example", line)


# -- behaviour: one wrong character of a well-formed credential is refused -----


def test_a_scim_token_with_one_wrong_character_is_refused(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    make_tenant("acme")
    secret = make_token("acme").secret
    assert client.get("/scim/v2/acme/Users", headers=_bearer(secret)).status_code == 200
    for wrong in (forged(secret), secret[:-1] + secret[-1].swapcase()):
        if wrong == secret:
            continue
        response = client.get("/scim/v2/acme/Users", headers=_bearer(wrong))
        assert response.status_code == 401, wrong


def test_an_api_key_with_one_wrong_character_is_refused(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    secret = create_api_key(db, get_tenant(db, "acme")).secret
    assert client.get("/api/v1/tenants/acme/users", headers=_bearer(secret)).status_code == 200
    response = client.get("/api/v1/tenants/acme/users", headers=_bearer(forged(secret)))
    assert response.status_code == 401


def test_a_csrf_token_of_the_right_length_but_wrong_value_is_refused(
    app: Starlette, db: Database, engine: sa.Engine, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    admins.create_admin(db, "ops@example.com", PASSWORD)
    with console_client(app) as console:
        csrf = sign_in(console, "ops@example.com")
        before = snapshot(engine)
        wrong = forged(csrf)
        assert len(wrong) == len(csrf)
        response = console.post(
            "/admin/tenants/acme/scim/tokens", data={"name": "x", "csrf": wrong}
        )
        assert response.status_code == 403
        assert CSRF_REFUSAL in response.text
        assert snapshot(engine) == before
        right = console.post("/admin/tenants/acme/scim/tokens", data={"name": "x", "csrf": csrf})
        assert right.status_code == 201
        assert len(list_tokens(db, get_tenant(db, "acme"))) == 1


def test_a_session_cookie_with_one_wrong_signature_character_signs_nobody_in(
    app: Starlette, db: Database
) -> None:
    admins.create_admin(db, "ops@example.com", PASSWORD)
    with console_client(app) as console:
        sign_in(console, "ops@example.com")
        (jar_cookie,) = list(console.cookies.jar)
        real = jar_cookie.value  # quoted as the server sent it: the payload holds "="
        assert real is not None
        head, signature = real.rstrip('"').rsplit(".", 1)
        flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        wrong = f"{head}.{flipped}" + ('"' if real.endswith('"') else "")
        for value, status in ((wrong, 303), (real, 200)):
            console.cookies.clear()
            console.cookies.set(COOKIE, value, domain=jar_cookie.domain, path="/admin")
            assert console.get("/admin/").status_code == status, value


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
