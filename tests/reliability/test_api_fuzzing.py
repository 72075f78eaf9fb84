"""schemathesis over the host API's own OpenAPI description: no input makes it fail with a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service import api_keys
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.reliability.conftest import scaled, user_body


@settings(
    max_examples=scaled(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_the_host_api_never_answers_with_a_5xx(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., Any],
    data: st.DataObject,
) -> None:
    if not getattr(client, "_reliability_ready", False):
        make_tenant("acme")
        headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
        client.post("/scim/v2/acme/Users", json=user_body("ada"), headers=headers)
        client._reliability_key = api_keys.create_api_key(db, get_tenant(db, "acme")).secret  # type: ignore[attr-defined]
        schema = schemathesis.openapi.from_dict(client.get("/api/openapi.json").json())
        client._reliability_ops = [r.ok() for r in schema.get_all_operations()]  # type: ignore[attr-defined,union-attr]
        client._reliability_ready = True  # type: ignore[attr-defined]
    ops = client._reliability_ops  # type: ignore[attr-defined]
    case = data.draw(st.one_of([op.as_strategy() for op in ops]))
    if "slug" in (case.path_parameters or {}) and data.draw(st.booleans()):
        case.path_parameters["slug"] = "acme"  # reach past the tenant check half the time
    params = (case.path_parameters or {}).values()
    if any((isinstance(v, int) and abs(v) >= 2**31) or "\x00" in str(v) for v in params):
        return  # NUL ids and out-of-range ints have their own deterministic tests below
    key = client._reliability_key  # type: ignore[attr-defined]
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver/api", headers={"Authorization": f"Bearer {key}"}
    )
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    response = client.request(**kwargs)
    assert response.status_code < 500, (kwargs, response.text)


def test_an_out_of_range_rule_id_is_not_found(
    client: TestClient,
    db: Database,
    database_url: str,
    make_tenant: Callable[..., Tenant],
    request: pytest.FixtureRequest,
) -> None:
    make_tenant("acme")
    key = api_keys.create_api_key(db, get_tenant(db, "acme")).secret
    response = client.delete(
        "/api/v1/tenants/acme/role-mappings/2147483648",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 404, response.text


def test_an_id_with_a_nul_byte_is_not_found(
    client: TestClient,
    db: Database,
    database_url: str,
    make_tenant: Callable[..., Tenant],
    request: pytest.FixtureRequest,
) -> None:
    make_tenant("acme")
    key = api_keys.create_api_key(db, get_tenant(db, "acme")).secret
    response = client.get(
        "/api/v1/tenants/acme/users/a%00b", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404, response.text
