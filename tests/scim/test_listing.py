"""Query over HTTP: filter, sort, page (RFC 7644 §3.4.2) and .search (§3.4.3)."""

from __future__ import annotations

from typing import Any

from tests.scim.contract import (
    BULK_REQUEST,
    ENTERPRISE,
    LIST_RESPONSE,
    MakeLimitedScim,
    ScimClient,
    assert_list_response,
    assert_scim_error,
    ids_of,
    resources,
    rfc_sample,
)


def _user_names(response: Any) -> list[str]:
    return [r["userName"] for r in resources(response)]


def _team(scim: ScimClient) -> dict[str, dict[str, Any]]:
    """Four users that the filter table below tells apart."""
    return {
        "bjensen": scim.make_user(
            userName="bjensen@example.com",
            externalId="701984",
            name={"givenName": "Barbara", "familyName": "Jensen"},
            displayName="Babs Jensen",
            title="Tour Guide",
            emails=[
                {"value": "bjensen@example.com", "type": "work", "primary": True},
                {"value": "babs@jensen.org", "type": "home"},
            ],
            **{ENTERPRISE: {"employeeNumber": "1", "department": "Tours"}},
        ),
        "jsmith": scim.make_user(
            userName="jsmith@example.com",
            name={"givenName": "James", "familyName": "Smith"},
            displayName="James Smith",
            emails=[{"value": "james@example.org", "type": "work"}],
            **{ENTERPRISE: {"employeeNumber": "2", "department": "Sales"}},
        ),
        "ojones": scim.make_user(
            userName="Olivia.Jones@Example.com",
            name={"givenName": "Olivia", "familyName": "Jones"},
            active=False,
            emails=[{"value": "olivia@example.net", "type": "home"}],
        ),
        "nobody": scim.make_user(
            userName="nobody@example.com", name={"familyName": "X"}, emails=None
        ),
    }


# (filter, the team members it selects)
FILTERS = [
    ('userName eq "bjensen@example.com"', {"bjensen"}),
    ('userName eq "BJENSEN@EXAMPLE.COM"', {"bjensen"}),
    ('USERNAME Eq "olivia.jones@example.com"', {"ojones"}),
    ('userName sw "j"', {"jsmith"}),
    ('userName ew "@example.com"', {"bjensen", "jsmith", "ojones", "nobody"}),
    ('name.familyName co "on"', {"ojones"}),
    ('name.familyName eq "jensen"', {"bjensen"}),
    ('displayName eq "JAMES SMITH"', {"jsmith"}),
    ('name.familyName eq "Jensen" and active eq true', {"bjensen"}),
    ("active eq false", {"ojones"}),
    ('externalId eq "701984"', {"bjensen"}),
    ("title pr", {"bjensen"}),
    ('not (userName sw "b")', {"jsmith", "ojones", "nobody"}),
    ('emails.value co "example.org" or emails.value co "example.net"', {"jsmith", "ojones"}),
    ('emails[type eq "work" and value co "example.com"]', {"bjensen"}),
    ('emails[type eq "home"]', {"bjensen", "ojones"}),
    (f'{ENTERPRISE}:department eq "Sales"', {"jsmith"}),
    ('meta.created gt "2000-01-01T00:00:00Z"', {"bjensen", "jsmith", "ojones", "nobody"}),
    ('meta.resourceType eq "User"', {"bjensen", "jsmith", "ojones", "nobody"}),
]


def test_filters_select_the_right_users(scim: ScimClient) -> None:
    team = _team(scim)
    by_id = {user["id"]: name for name, user in team.items()}
    for text, expected in FILTERS:
        found = resources(scim.get("/Users", params={"filter": text}))
        assert {by_id[item["id"]] for item in found} == expected, text
        # The same query as a SearchRequest body (§3.4.3).
        searched = resources(scim.post("/Users/.search", {"filter": text}))
        assert {by_id[item["id"]] for item in searched} == expected, text


def test_an_empty_result_is_a_list_response_with_total_zero(scim: ScimClient) -> None:
    """Entra ID's and Okta's "does this user exist?" probe."""
    scim.make_user()
    body = assert_list_response(
        scim.get("/Users", params={"filter": 'userName eq "5f8a4c79-no-such-user"'})
    )
    assert body["totalResults"] == 0
    assert body["itemsPerPage"] == 0
    assert body["startIndex"] == 1
    assert body.get("Resources", []) == []


BAD_FILTERS = [
    "userName eq",
    'userName zz "x"',
    '(userName eq "x"',
    'userName eq "x" and',
    'userName eq "unterminated',
    "userName eq x y",
    'noSuchAttribute eq "x"',
    'name.noSuchPart eq "x"',
    'urn:unknown:schema:attr eq "x"',
]


def test_a_bad_filter_is_400_invalid_filter(scim: ScimClient) -> None:
    for text in BAD_FILTERS:
        assert_scim_error(scim.get("/Users", params={"filter": text}), 400, "invalidFilter")
        assert_scim_error(scim.post("/Users/.search", {"filter": text}), 400, "invalidFilter")


# -- paging (§3.4.2.4) ----------------------------------------------------------------------


def test_start_index_is_a_one_based_item_position(scim: ScimClient) -> None:
    """startIndex=101&count=100 over 150 users gives users 101 to 150, not page 2."""
    seeding = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": f"u{n}",
             "data": {"userName": f"u{n:03d}@example.com"}}
            for n in range(150, 0, -1)
        ],
    }  # fmt: skip
    seeded = scim.post("/Bulk", seeding).json()["Operations"]
    assert {op["status"] for op in seeded} == {"201"}
    body = assert_list_response(
        scim.get("/Users", params={"sortBy": "userName", "startIndex": 101, "count": 100})
    )
    assert body["totalResults"] == 150
    assert body["startIndex"] == 101
    assert body["itemsPerPage"] == 50
    assert [r["userName"] for r in body["Resources"]] == [
        f"u{n:03d}@example.com" for n in range(101, 151)
    ]


def test_pages_cover_every_user_once_in_a_stable_order(scim: ScimClient) -> None:
    """Okta imports by paging startIndex=1,6,11... without sortBy: no gaps, no repeats."""
    made = {scim.make_user()["id"] for _ in range(12)}
    seen: list[str] = []
    for start in (1, 6, 11):
        body = assert_list_response(scim.get("/Users", params={"startIndex": start, "count": 5}))
        assert body["totalResults"] == 12
        assert body["startIndex"] == start
        seen += ids_of(body.get("Resources", []))
    assert len(seen) == 12
    assert set(seen) == made
    again = ids_of(resources(scim.get("/Users", params={"count": 12})))
    assert again == seen


def test_count_zero_gives_only_the_total(scim: ScimClient) -> None:
    for _ in range(3):
        scim.make_user()
    body = assert_list_response(scim.get("/Users", params={"count": 0}))
    assert body["totalResults"] == 3
    assert body["itemsPerPage"] == 0
    assert body.get("Resources", []) == []


def test_out_of_range_start_index_and_count_are_clamped(scim: ScimClient) -> None:
    """§3.4.2.4: startIndex below 1 means 1; a negative count means 0."""
    for _ in range(3):
        scim.make_user()
    body = assert_list_response(scim.get("/Users", params={"startIndex": 0, "count": 2}))
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 2
    body = assert_list_response(scim.get("/Users", params={"startIndex": -5}))
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 3
    body = assert_list_response(scim.get("/Users", params={"count": -1}))
    assert body["totalResults"] == 3
    assert body.get("Resources", []) == []
    body = assert_list_response(scim.get("/Users", params={"startIndex": 50}))
    assert body["totalResults"] == 3
    assert body.get("Resources", []) == []


def test_count_above_max_results_is_capped(make_limited_scim: MakeLimitedScim) -> None:
    scim = make_limited_scim(max_results=3, default_page_size=2)
    for _ in range(5):
        scim.make_user()
    body = assert_list_response(scim.get("/Users", params={"count": 100}))
    assert body["totalResults"] == 5
    assert body["itemsPerPage"] == 3
    assert len(body["Resources"]) == 3
    body = assert_list_response(scim.get("/Users"))
    assert body["itemsPerPage"] == 2
    config = scim.fetch("/ServiceProviderConfig")
    assert config["filter"]["maxResults"] == 3


# -- sorting (§3.4.2.3) ----------------------------------------------------------------------


def test_sort_by_user_name_ascending_and_descending(scim: ScimClient) -> None:
    for name in ("carol@example.com", "alice@example.com", "dave@example.com", "bob@example.com"):
        scim.make_user(userName=name)
    ascending = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    assert _user_names(scim.get("/Users", params={"sortBy": "userName"})) == ascending
    assert (
        _user_names(scim.get("/Users", params={"sortBy": "userName", "sortOrder": "ascending"}))
        == ascending
    )
    assert (
        _user_names(scim.get("/Users", params={"sortBy": "userName", "sortOrder": "descending"}))
        == ascending[::-1]
    )
    searched = scim.post("/Users/.search", {"sortBy": "username", "sortOrder": "descending"})
    assert _user_names(searched) == ascending[::-1]


def test_sorting_by_user_name_ignores_case(scim: ScimClient) -> None:
    """userName is caseExact false (RFC 7643 §4.1.1), so §3.4.2.3 sorts it case-insensitively."""
    for name in ("carol", "Bob", "alice", "Dave"):
        scim.make_user(userName=name)
    names = _user_names(scim.get("/Users", params={"sortBy": "userName"}))
    assert names == ["alice", "Bob", "carol", "Dave"]


def test_sorting_on_a_shared_value_pages_without_gaps_or_repeats(scim: ScimClient) -> None:
    made = [scim.make_user(title="Guide" if n % 2 else "Boss")["id"] for n in range(6)]
    params: dict[str, str | int] = {"sortBy": "title", "count": 2}
    seen: list[str] = []
    titles: list[str] = []
    for start in (1, 3, 5):
        page = resources(scim.get("/Users", params={**params, "startIndex": start}))
        seen += ids_of(page)
        titles += [user["title"] for user in page]
    assert sorted(seen) == sorted(made)
    assert titles == ["Boss"] * 3 + ["Guide"] * 3
    assert ids_of(resources(scim.get("/Users", params={"sortBy": "title"}))) == seen


# -- attributes on lists ---------------------------------------------------------------------


def test_attributes_and_excluded_attributes_shape_every_listed_resource(
    scim: ScimClient,
) -> None:
    for _ in range(2):
        scim.make_user()
    trimmed = resources(scim.get("/Users", params={"attributes": "userName"}))
    assert len(trimmed) == 2
    for item in trimmed:
        assert set(item) - {"meta"} == {"schemas", "id", "userName"}
    without = resources(scim.get("/Users", params={"excludedAttributes": "emails,name"}))
    assert len(without) == 2
    for item in without:
        assert "emails" not in item
        assert "name" not in item
        assert item["userName"]


# -- .search (§3.4.3) --------------------------------------------------------------------------


def test_search_request_from_the_rfc(scim: ScimClient) -> None:
    smith = scim.make_user(displayName="Smith, James", title="Hidden")
    scim.make_user(displayName="Jensen, Babs")
    response = scim.post("/Users/.search", rfc_sample("search_request.json"))
    body = assert_list_response(response)
    assert body["totalResults"] == 1
    assert body["startIndex"] == 1
    [found] = body["Resources"]
    assert found["id"] == smith["id"]
    assert found["displayName"] == "Smith, James"
    assert found["userName"] == smith["userName"]
    assert "title" not in found
    assert "emails" not in found


def test_search_on_groups(scim: ScimClient) -> None:
    staff = scim.make_group("Staff")
    scim.make_group("Admins")
    found = resources(scim.post("/Groups/.search", {"filter": 'displayName eq "staff"'}))
    assert ids_of(found) == [staff["id"]]


def test_search_at_the_root_returns_users_and_groups(scim: ScimClient) -> None:
    user = scim.make_user(displayName="Engineering Lead")
    group = scim.make_group("Engineering")
    scim.make_user(displayName="Sales Lead")
    scim.make_group("Sales")
    body = assert_list_response(scim.post("/.search", {"filter": 'displayName sw "Engineering"'}))
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 2
    found = {(r["meta"]["resourceType"], r["id"]) for r in body["Resources"]}
    assert found == {("User", user["id"]), ("Group", group["id"])}


def test_search_at_the_root_pages_across_resource_types(scim: ScimClient) -> None:
    for _ in range(2):
        scim.make_user()
        scim.make_group()
    body = assert_list_response(scim.post("/.search", {"startIndex": 2, "count": 2}))
    assert body["totalResults"] == 4
    assert body["startIndex"] == 2
    assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["User", "Group"]
    everything = resources(scim.post("/.search", {"count": 10}))
    assert ids_of(everything)[1:3] == ids_of(body["Resources"])
    # A filter only Users understand selects no Groups rather than failing.
    only_users = assert_list_response(scim.post("/.search", {"filter": "userName pr"}))
    assert only_users["totalResults"] == 2
    assert_scim_error(scim.post("/.search", {"filter": "userName eq"}), 400, "invalidFilter")


def test_group_filters(scim: ScimClient) -> None:
    user = scim.make_user()
    staff = scim.make_group("Staff", members=[user], externalId="ext-staff")
    scim.make_group("Admins")
    by_member = resources(
        scim.get("/Groups", params={"filter": f'members.value eq "{user["id"]}"'})
    )
    assert ids_of(by_member) == [staff["id"]]
    by_external_id = resources(scim.get("/Groups", params={"filter": 'externalId eq "ext-staff"'}))
    assert ids_of(by_external_id) == [staff["id"]]
    sorted_names = [
        g["displayName"] for g in resources(scim.get("/Groups", params={"sortBy": "displayName"}))
    ]
    assert sorted_names == ["Admins", "Staff"]
