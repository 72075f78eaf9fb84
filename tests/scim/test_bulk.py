"""/Bulk over HTTP (RFC 7644 §3.7): order, bulkId references, failOnErrors, limits."""

from __future__ import annotations

from typing import Any

from tests.scim.contract import (
    BULK_REQUEST,
    BULK_RESPONSE,
    PUBLIC_BASE,
    MakeLimitedScim,
    ScimClient,
    assert_scim_error,
    assert_scim_json,
    member_ids,
    resources,
    rfc_sample,
)

USERS_URL = f"{PUBLIC_BASE}/acme/Users"


def _bulk(scim: ScimClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = scim.post("/Bulk", body)
    assert response.status_code == 200, response.text
    assert_scim_json(response)
    assert response.json()["schemas"] == [BULK_RESPONSE]
    operations: list[dict[str, Any]] = response.json()["Operations"]
    return operations


def _post_user(bulk_id: str, user_name: str | None) -> dict[str, Any]:
    data = {"userName": user_name} if user_name else {"displayName": "No userName"}
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": data}


def _user_names(scim: ScimClient) -> set[str]:
    return {u["userName"] for u in resources(scim.get("/Users", params={"count": 100}))}


def test_the_rfc_bulk_request_runs_every_operation_in_order(scim: ScimClient) -> None:
    bob = scim.make_user(userName="bob-before")
    dave = scim.make_user(userName="dave-before", nickName="Davey")
    doomed = scim.make_user(userName="doomed")
    body = rfc_sample(
        "bulk_request.json",
        {
            "b7c14771-226c-4d05-8860-134711653041": bob["id"],
            "5d8d29d3-342c-4b5f-8683-a3cb6763ffcc": dave["id"],
            "e9025315-6bea-44e1-899c-1e07454e468b": doomed["id"],
            "3694e05e9dff591": "1",
            "edac3253e2c0ef2": "1",
            "0ee8add0a938e1a": "1",
        },
    )
    results = _bulk(scim, body)
    assert [(r["method"], r["status"]) for r in results] == [
        ("POST", "201"),
        ("PUT", "200"),
        ("PATCH", "200"),
        ("DELETE", "204"),
    ]
    assert results[0]["bulkId"] == "qwerty"
    alice_url = results[0]["location"]
    assert alice_url.startswith(f"{USERS_URL}/")
    assert results[1]["location"] == f"{USERS_URL}/{bob['id']}"
    assert results[1]["version"] == scim.get(f"/Users/{bob['id']}").headers["etag"]
    alice = scim.fetch(alice_url.removeprefix(f"{PUBLIC_BASE}/acme"))
    assert alice["userName"] == "Alice"
    assert results[0]["version"] == alice["meta"]["version"]
    assert scim.fetch(f"/Users/{bob['id']}")["userName"] == "Bob"
    patched = scim.fetch(f"/Users/{dave['id']}")
    assert patched["userName"] == "Dave"
    assert "nickName" not in patched
    assert_scim_error(scim.get(f"/Users/{doomed['id']}"), 404)


def test_a_group_can_name_a_user_posted_after_it_by_bulk_id(scim: ScimClient) -> None:
    """RFC 7644 §3.7.2: the server resolves bulkId references whatever their order."""
    results = _bulk(scim, rfc_sample("bulk_group_before_its_member.json"))
    assert [(r["bulkId"], r["status"]) for r in results] == [("ytrewq", "201"), ("qwerty", "201")]
    group_path = results[0]["location"].removeprefix(f"{PUBLIC_BASE}/acme")
    user_id = results[1]["location"].rsplit("/", 1)[-1]
    group = scim.fetch(group_path)
    assert group["displayName"] == "Tour Guides"
    assert member_ids(group) == {user_id}
    assert scim.fetch(f"/Users/{user_id}")["groups"][0]["value"] == group["id"]


def test_bulk_id_references_in_paths_resolve_too(scim: ScimClient) -> None:
    """A later operation may name a POSTed resource in its path: ``/Users/bulkId:u1``."""
    results = _bulk(
        scim,
        {
            "schemas": [BULK_REQUEST],
            "Operations": [
                _post_user("u1", "first@example.com"),
                {
                    "method": "PATCH",
                    "path": "/Users/bulkId:u1",
                    "data": {"Operations": [{"op": "add", "path": "title", "value": "Boss"}]},
                },
            ],
        },
    )
    assert [r["status"] for r in results] == ["201", "200"]
    assert scim.fetch(results[0]["location"].removeprefix(f"{PUBLIC_BASE}/acme"))["title"] == "Boss"


def test_circular_bulk_id_references_fail_with_409_and_create_nothing(scim: ScimClient) -> None:
    """§3.7.1 lets a server give up on circular references with 409."""
    results = _bulk(scim, rfc_sample("bulk_circular_references.json"))
    assert [(r["bulkId"], r["status"]) for r in results] == [("qwerty", "409"), ("ytrewq", "409")]
    for result in results:
        assert result["response"]["status"] == "409"
        assert result["response"]["detail"]
    assert scim.get("/Groups").json()["totalResults"] == 0


def test_an_unknown_bulk_id_reference_fails_that_operation_with_409(scim: ScimClient) -> None:
    body = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {"displayName": "G", "members": [{"value": "bulkId:nowhere"}]},
            },
            _post_user("u", "fine@example.com"),
        ],
    }
    results = _bulk(scim, body)
    assert [r["status"] for r in results] == ["409", "201"]
    assert scim.get("/Groups").json()["totalResults"] == 0


def test_each_failure_is_reported_in_its_operation_and_the_rest_runs(scim: ScimClient) -> None:
    scim.make_user(userName="taken@example.com")
    body = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            _post_user("a", "TAKEN@example.com"),
            _post_user("b", None),
            _post_user("c", "new@example.com"),
            {"method": "DELETE", "path": "/Users/no-such-id"},
        ],
    }
    results = _bulk(scim, body)
    assert [r["status"] for r in results] == ["409", "400", "201", "404"]
    assert results[0]["response"]["scimType"] == "uniqueness"
    assert results[1]["response"]["scimType"] == "invalidValue"
    assert results[3]["response"]["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert _user_names(scim) == {"taken@example.com", "new@example.com"}


def test_fail_on_errors_stops_after_that_many_errors(scim: ScimClient) -> None:
    operations = [
        _post_user("bad1", None),
        _post_user("good1", "good1@example.com"),
        _post_user("bad2", None),
        _post_user("good2", "good2@example.com"),
    ]
    results = _bulk(scim, {"schemas": [BULK_REQUEST], "failOnErrors": 2, "Operations": operations})
    assert [(r["bulkId"], r["status"]) for r in results] == [
        ("bad1", "400"),
        ("good1", "201"),
        ("bad2", "400"),
    ]
    assert _user_names(scim) == {"good1@example.com"}
    results = _bulk(scim, {"schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": operations})
    assert [r["bulkId"] for r in results] == ["bad1"]
    assert _user_names(scim) == {"good1@example.com"}


def test_a_stale_version_fails_that_operation_with_412(scim: ScimClient) -> None:
    user = scim.make_user(title="Boss")
    body = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            {
                "method": "PATCH",
                "path": f"/Users/{user['id']}",
                "version": 'W/"999"',
                "data": {"Operations": [{"op": "replace", "path": "title", "value": "x"}]},
            },
            {"method": "DELETE", "path": f"/Users/{user['id']}", "version": 'W/"999"'},
        ],
    }
    assert [r["status"] for r in _bulk(scim, body)] == ["412", "412"]
    assert scim.fetch(f"/Users/{user['id']}") == user


def test_more_operations_than_max_operations_is_413(make_limited_scim: MakeLimitedScim) -> None:
    scim = make_limited_scim(max_bulk_operations=2)
    assert scim.fetch("/ServiceProviderConfig")["bulk"]["maxOperations"] == 2
    operations = [_post_user(f"u{n}", f"u{n}@example.com") for n in range(3)]
    response = scim.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations})
    assert_scim_error(response, 413)
    assert scim.get("/Users").json()["totalResults"] == 0
    response = scim.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": operations[:2]})
    assert response.status_code == 200
    assert scim.get("/Users").json()["totalResults"] == 2


def test_a_body_larger_than_max_payload_size_is_413(make_limited_scim: MakeLimitedScim) -> None:
    scim = make_limited_scim(max_body_bytes=2048)
    assert scim.fetch("/ServiceProviderConfig")["bulk"]["maxPayloadSize"] == 2048
    big = [_post_user(f"u{n}", f"user-with-a-long-name-{n}@example.com") for n in range(40)]
    response = scim.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": big})
    assert_scim_error(response, 413)
    response = scim.post("/Users", {"userName": "x@example.com", "nickName": "x" * 4000})
    assert_scim_error(response, 413)
    assert scim.get("/Users").json()["totalResults"] == 0


def test_a_bulk_request_without_operations_is_400_invalid_syntax(scim: ScimClient) -> None:
    for body in ({"schemas": [BULK_REQUEST]}, {"Operations": "all of them"}):
        assert_scim_error(scim.post("/Bulk", body), 400, "invalidSyntax")
