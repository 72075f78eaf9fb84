"""Hypothesis-driven hostile input through the ASGI app, on both databases.

Whatever comes in, the answer is never a 5xx; every error is a SCIM Error
with the SCIM media type; and a refused request leaves the tenant's data
exactly as it was (no partial write).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.tables import Base
from tests.reliability.conftest import (
    GROUP,
    PATCH_OP,
    SCIM_JSON,
    assert_scim_error,
    scaled,
    user_body,
)

FUZZ = hypothesis_settings(
    max_examples=scaled(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


# The tenant's directory and its outbox; tokens (last_used_at) and the audit
# log legitimately change on a refused request.
_DATA_TABLES = frozenset(
    {
        "tenants",
        "users",
        "groups",
        "group_members",
        "user_roles",
        "roles",
        "role_mappings",
        "events",
        "webhooks",
        "webhook_deliveries",
    }
)


@dataclass(frozen=True)
class Target:
    http: TestClient
    base: str
    headers: dict[str, str]
    user_id: str
    group_id: str
    engine: sa.Engine

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (the suite's databases are tiny)."""
        with self.engine.connect() as conn:
            return {
                t.name: sorted(tuple(map(repr, row)) for row in conn.execute(sa.select(t)))
                for t in Base.metadata.sorted_tables
                if t.name in _DATA_TABLES
            }

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        before = self.snapshot()
        response = self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        # 501 is /Me's designed answer (RFC 7644 §3.11): tokens act for a tenant, not a user.
        assert response.status_code < 500 or response.status_code == 501, (
            method,
            path,
            kwargs,
            response.text,
        )
        if response.status_code >= 400:
            assert_scim_error(response)
            assert self.snapshot() == before, (method, path, kwargs, response.text)
        return response


@pytest.fixture
def target(
    client: TestClient,
    engine: sa.Engine,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> Target:
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    base = "/scim/v2/acme"
    user = client.post(f"{base}/Users", json=user_body("ada", title="x"), headers=headers)
    group = client.post(
        f"{base}/Groups",
        json={"schemas": [GROUP], "displayName": "G", "members": [{"value": user.json()["id"]}]},
        headers=headers,
    )
    return Target(client, base, headers, user.json()["id"], group.json()["id"], engine)


_ATTRS = [
    "userName",
    "name.givenName",
    "emails",
    "emails.value",
    'emails[type eq "work"]',
    "meta.lastModified",
    "active",
    "members",
    "members.value",
    "displayName",
    "title",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "groups",
    "id",
    "externalId",
    "x",
    "",
]
_TOKENS = [
    *_ATTRS,
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "(",
    ")",
    "[",
    "]",
    '"a"',
    '"',
    "true",
    "null",
    "1",
    "1.5e400",
    "\\",
    "'",
    ".",
    ":",
    "2020-01-01T00:00:00Z",
    "\u00e9",
    "\x00",
]
filters = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=12).map(" ".join),
    st.text(max_size=60),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_ATTRS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "Replace", "move", ""])},
    optional={"path": st.sampled_from(_ATTRS) | filters, "value": json_values},
)
patch_bodies = st.one_of(
    st.builds(
        lambda ops: {"schemas": [PATCH_OP], "Operations": ops}, st.lists(operations, max_size=4)
    ),
    json_values,
)


@FUZZ
@given(filter_=filters, resource=st.sampled_from(["Users", "Groups"]))
def test_filters_never_fail_the_server(target: Target, filter_: str, resource: str) -> None:
    target.send("GET", f"/{resource}", params={"filter": filter_})


@FUZZ
@given(body=patch_bodies, resource=st.sampled_from(["Users", "Groups"]))
def test_patch_bodies_never_fail_and_never_half_apply(
    target: Target, body: Any, resource: str
) -> None:
    resource_id = target.user_id if resource == "Users" else target.group_id
    target.send("PATCH", f"/{resource}/{resource_id}", json=body)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    path=st.lists(
        st.sampled_from(
            [
                "Users",
                "Groups",
                ".search",
                "Bulk",
                "Me",
                "Schemas",
                "x",
                "%2e%2e",
                "..",
                "ResourceTypes",
                "ffff",
            ]
        )
        | st.text(st.characters(categories=["L", "N", "P"]), max_size=10),
        max_size=3,
    ).map("/".join),
)
def test_unknown_paths_and_methods_answer_with_scim_errors(
    target: Target, method: str, path: str
) -> None:
    if method == "DELETE" and not path.strip("/").startswith("x"):
        path = f"x/{path}"  # a DELETE that hits a real id would be a legitimate write
    target.send(method, f"/{path}", content=b"{}")


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "Content-Type",
                "Accept",
                "If-Match",
                "If-None-Match",
                "Authorization",
                "Content-Encoding",
                "X-Forwarded-For",
            ]
        ),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        max_size=4,
    ),
)
def test_odd_headers_never_fail_the_server(target: Target, headers: dict[str, str]) -> None:
    target.send(
        "PATCH",
        f"/Users/{target.user_id}",
        headers=headers,
        content=json.dumps(
            {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "title", "value": "y"}],
            }
        ),
    )


@FUZZ
@given(payload=json_values | st.binary(max_size=40), resource=st.sampled_from(["Users", "Groups"]))
def test_arbitrary_payloads_are_refused_cleanly(
    target: Target, payload: Any, resource: str
) -> None:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = target.send(
        "POST", f"/{resource}", content=content, headers={"Content-Type": SCIM_JSON}
    )
    assert response.status_code in (201, 400, 409, 413), response.text


def test_a_nul_byte_in_the_path_does_not_lose_the_audit_batch(
    settings: Settings,
    db: Database,
    engine: sa.Engine,
    database_url: str,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    request: pytest.FixtureRequest,
) -> None:
    """NUL is the one character PostgreSQL text refuses; the fuzz paths leave it to this test."""
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    with TestClient(create_app(settings, database=db), raise_server_exceptions=False) as http:
        assert http.get("/scim/v2/acme/Users", headers=headers).status_code == 200
        assert_scim_error(http.get("/scim/v2/acme/x%00y", headers=headers), 404)
    # Leaving the block stopped the app, which flushes the audit queue.
    with engine.connect() as conn:
        paths = {row.path for row in conn.execute(sa.text("SELECT path FROM audit_log"))}
    assert "/scim/v2/acme/Users" in paths


@pytest.mark.parametrize(
    "body",
    [
        user_body("a\x00b"),
        user_body("ok", title="x\x00"),
        {**user_body("ok"), "name": {"given\x00Name": "x"}},
        user_body("ok", emails=[{"value": "a@b.test\x00"}]),
    ],
    ids=["userName", "title", "key", "nested"],
)
def test_a_nul_character_in_a_body_is_refused_on_every_backend(
    target: Target, body: dict[str, Any]
) -> None:
    """Found by this suite: PostgreSQL answered 500 (text cannot hold U+0000)."""
    response = target.send("POST", "/Users", json=body)
    assert_scim_error(response, 400)
    assert response.json()["scimType"] == "invalidValue"


def test_deleting_an_id_with_a_nul_byte_is_not_found(
    settings: Settings,
    db: Database,
    database_url: str,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    request: pytest.FixtureRequest,
) -> None:
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    # An app of its own: its shutdown (audit flush) happens inside the test.
    with TestClient(create_app(settings, database=db), raise_server_exceptions=False) as http:
        for method in ("GET", "DELETE"):
            response = http.request(method, "/scim/v2/acme/Users/a%00b", headers=headers)
            assert_scim_error(response, 404)
