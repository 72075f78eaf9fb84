"""Rate limiting per SCIM token: token buckets, and the 429 an IdP sees."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.errors import RateLimited
from scimgate.model.entities import Tenant
from scimgate.service.ratelimit import TokenBuckets
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_refuses() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(2.0, burst=3, clock=clock)
    for _ in range(3):
        buckets.acquire("t1")
    with pytest.raises(RateLimited) as caught:
        buckets.acquire("t1")
    assert caught.value.retry_after == 1
    assert caught.value.status == 429


def test_a_bucket_refills_at_the_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(0.5, burst=1, clock=clock)
    buckets.acquire("t1")
    with pytest.raises(RateLimited) as caught:
        buckets.acquire("t1")
    assert caught.value.retry_after == 2  # whole seconds, rounded up
    clock.now += 2.0
    buckets.acquire("t1")


def test_retry_after_is_a_whole_number_of_seconds_never_zero() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(100.0, burst=1, clock=clock)
    buckets.acquire("t1")
    with pytest.raises(RateLimited) as caught:
        buckets.acquire("t1")
    assert caught.value.retry_after == 1
    assert isinstance(caught.value.retry_after, int)


def test_tokens_have_their_own_buckets() -> None:
    buckets = TokenBuckets(1.0, burst=1, clock=FakeClock())
    buckets.acquire("t1")
    buckets.acquire("t2")
    with pytest.raises(RateLimited):
        buckets.acquire("t1")


def test_the_burst_defaults_to_one_second_of_requests() -> None:
    assert TokenBuckets(25.0).capacity == 25
    assert TokenBuckets(0.2).capacity == 1


def test_rate_limiting_is_off_by_default() -> None:
    settings = Settings(_env_file=None)
    assert settings.rate_limit_per_second == 0
    assert TokenBuckets.from_settings(settings) is None
    limited = Settings(rate_limit_per_second=5, rate_limit_burst=7, _env_file=None)
    made = TokenBuckets.from_settings(limited)
    assert made is not None
    assert (made.rate, made.capacity) == (5, 7)


@pytest.fixture
def limited_http(settings: Settings, db: Database) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"rate_limit_per_second": 0.01, "rate_limit_burst": 2})
    with TestClient(create_app(limited, database=db), raise_server_exceptions=False) as http:
        yield http


def test_an_idp_over_its_limit_gets_429_with_retry_after(
    limited_http: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    make_tenant("acme")
    first = {"Authorization": f"Bearer {make_token('acme').secret}"}
    second = {"Authorization": f"Bearer {make_token('acme').secret}"}
    for _ in range(2):
        assert limited_http.get("/scim/v2/acme/Users", headers=first).status_code == 200
    refused = limited_http.get("/scim/v2/acme/Users", headers=first)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert body["status"] == "429"
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    # Another token of the same tenant has its own bucket.
    assert limited_http.get("/scim/v2/acme/Users", headers=second).status_code == 200


def test_a_bad_token_is_refused_before_it_spends_anything(
    limited_http: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    for _ in range(4):
        response = limited_http.get("/scim/v2/acme/Users", headers={"Authorization": "Bearer x"})
        assert response.status_code == 401
