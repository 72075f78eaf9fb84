from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from scimgate.model.projection import parse_attribute_list, project, wants
from scimgate.model.schemas import ENTERPRISE_USER_SCHEMA, GROUP, USER, USER_SCHEMA

SAMPLES = Path(__file__).parent.parent / "samples"
ENTERPRISE = ENTERPRISE_USER_SCHEMA


@pytest.fixture
def user() -> dict[str, Any]:
    """The RFC 7643 §8.2 user as scimgate renders it: no password, with the extension."""
    rendered: dict[str, Any] = json.loads((SAMPLES / "rfc7643" / "full_user.json").read_text())
    del rendered["password"]
    rendered["schemas"].append(ENTERPRISE)
    rendered[ENTERPRISE] = {"employeeNumber": "701984", "manager": {"value": "26118915"}}
    return rendered


GROUP_RESOURCE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "g1",
    "displayName": "Tour Guides",
    "members": [{"value": "u1", "display": "Babs", "type": "User"}],
    "meta": {"resourceType": "Group"},
}


def test_without_parameters_the_resource_is_returned_whole(user: dict[str, Any]) -> None:
    assert project(user, USER, None, None) == user


def test_returned_never_attributes_are_never_shown(user: dict[str, Any]) -> None:
    with_password = {**user, "password": "t1meMa$heen"}
    assert "password" not in project(with_password, USER, None, None)
    assert "password" not in project(with_password, USER, ["password", "userName"], None)
    assert "password" not in project(with_password, USER, None, ["userName"])


def test_attributes_keep_only_the_named_ones_plus_id_and_schemas(user: dict[str, Any]) -> None:
    out = project(user, USER, ["userName", "emails"], None)
    assert out == {
        "schemas": user["schemas"],
        "id": user["id"],
        "userName": "bjensen@example.com",
        "emails": user["emails"],
    }


def test_attributes_work_at_sub_attribute_granularity(user: dict[str, Any]) -> None:
    out = project(user, USER, ["name.givenName", "emails.value", "name.familyName"], None)
    assert out["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert out["emails"] == [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]


def test_attribute_names_are_case_insensitive_and_may_carry_their_urn(
    user: dict[str, Any],
) -> None:
    out = project(
        user,
        USER,
        [f"{USER_SCHEMA.upper()}:USERNAME", f"{ENTERPRISE}:employeeNumber", "META.created"],
        None,
    )
    assert out["userName"] == "bjensen@example.com"
    assert out[ENTERPRISE] == {"employeeNumber": "701984"}
    assert out["meta"] == {"created": "2010-01-23T04:56:22Z"}


def test_a_bare_extension_urn_selects_the_whole_extension(user: dict[str, Any]) -> None:
    out = project(user, USER, [ENTERPRISE], None)
    assert out[ENTERPRISE] == user[ENTERPRISE]
    assert "userName" not in out


def test_unknown_names_are_ignored(user: dict[str, Any]) -> None:
    assert project(user, USER, ["nope", "userName"], None).keys() == {"schemas", "id", "userName"}
    assert project(user, USER, None, ["nope", "name.nope"]) == user


def test_a_filter_in_the_attribute_list_selects_the_whole_attribute(user: dict[str, Any]) -> None:
    out = project(user, USER, ['emails[type eq "work"]'], None)
    assert out["emails"] == user["emails"]


def test_excluded_attributes_are_removed(user: dict[str, Any]) -> None:
    out = project(user, USER, None, ["emails", "name.middleName", f"{ENTERPRISE}:manager"])
    assert "emails" not in out
    assert "middleName" not in out["name"]
    assert out["name"]["givenName"] == "Barbara"
    assert out[ENTERPRISE] == {"employeeNumber": "701984"}
    assert out["phoneNumbers"] == user["phoneNumbers"]


def test_excluding_a_sub_attribute_of_a_multi_valued_attribute(user: dict[str, Any]) -> None:
    out = project(user, USER, None, ["groups.$ref", "EMAILS.TYPE"])
    assert all("$ref" not in g and "value" in g for g in out["groups"])
    assert out["emails"][1] == {"value": "babs@jensen.org"}


def test_excluding_the_extension_urn_removes_the_extension(user: dict[str, Any]) -> None:
    assert ENTERPRISE not in project(user, USER, None, [ENTERPRISE.lower()])


def test_always_returned_attributes_cannot_be_excluded(user: dict[str, Any]) -> None:
    out = project(user, USER, None, ["id", "schemas", "userName"])
    assert out["id"] == user["id"]
    assert out["schemas"] == user["schemas"]
    assert "userName" not in out


def test_projection_never_modifies_the_resource(user: dict[str, Any]) -> None:
    before = copy.deepcopy(user)
    project(user, USER, ["name.givenName", ENTERPRISE], None)
    project(user, USER, None, ["name.givenName", f"{ENTERPRISE}:manager", "emails.type"])
    assert user == before


def test_members_can_be_excluded_from_a_group() -> None:
    out = project(GROUP_RESOURCE, GROUP, None, ["members"])
    assert out == {k: v for k, v in GROUP_RESOURCE.items() if k != "members"}


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (None, None, True),
        (None, ["members"], False),
        (None, ["MEMBERS"], False),
        (None, ["members.display"], True),
        (None, ["displayName"], True),
        (["displayName"], None, False),
        (["members.value"], None, True),
        (["urn:ietf:params:scim:schemas:core:2.0:Group:members"], None, True),
        (["members"], ["members"], False),
        ([], [], True),
    ],
)
def test_wants_tells_whether_members_will_appear(
    attributes: list[str] | None, excluded: list[str] | None, expected: bool
) -> None:
    assert wants(GROUP, attributes, excluded, "members") is expected
    shown = "members" in project(GROUP_RESOURCE, GROUP, attributes, excluded)
    assert shown is expected


def test_wants_is_true_for_always_returned_and_false_for_never_returned() -> None:
    assert wants(USER, ["userName"], ["id"], "id")
    assert not wants(USER, None, None, "password")
    assert not wants(USER, ["userName"], None, ENTERPRISE + ":manager")
    assert wants(USER, [ENTERPRISE], None, "manager")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (" , ", None),
        ("userName", ["userName"]),
        ("name.givenName, emails ,", ["name.givenName", "emails"]),
        ('emails[type eq "a,b"],userName', ['emails[type eq "a,b"]', "userName"]),
    ],
)
def test_parse_attribute_list_splits_on_commas(
    value: str | None, expected: list[str] | None
) -> None:
    assert parse_attribute_list(value) == expected
