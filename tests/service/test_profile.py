"""Attribute mapping: SCIM paths resolved against a stored user document."""

from __future__ import annotations

from typing import Any

import pytest

from scimgate.errors import InvalidPath, InvalidValue
from scimgate.model.entities import DEFAULT_ATTRIBUTE_MAPPING
from scimgate.service.profile import check_mapping, compile_mapping

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

DOC: dict[str, Any] = {
    "userName": "bjensen@example.com",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "displayName": "Babs",
    "title": "Tour Guide",
    "active": True,
    "emails": [
        {"value": "babs@home.test", "type": "home"},
        {"value": "bjensen@example.com", "type": "work", "primary": True},
    ],
    "phoneNumbers": [{"value": "555-0100", "type": "WORK"}],
    ENTERPRISE: {"department": "Tours", "manager": {"value": "m-1"}, "employeeNumber": "42"},
    CUSTOM: {"badgeNumber": "B-7"},
}


def _profile(mapping: dict[str, str], doc: dict[str, Any] = DOC) -> dict[str, Any]:
    return compile_mapping(mapping.items()).apply(doc)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("userName", "bjensen@example.com"),
        ("title", "Tour Guide"),
        ("active", True),
        ("name.givenName", "Barbara"),
        ("NAME.GIVENNAME", "Barbara"),
        ("name", {"givenName": "Barbara", "familyName": "Jensen"}),
        ("emails[primary eq true].value", "bjensen@example.com"),
        ('emails[type eq "home"].value', "babs@home.test"),
        ('emails[type eq "HOME"].value', "babs@home.test"),
        ('phoneNumbers[type eq "work"].value', "555-0100"),
        ('emails[type eq "work" and value co "example"].value', "bjensen@example.com"),
        ('emails[type eq "home"]', {"value": "babs@home.test", "type": "home"}),
        ("emails.value", ["babs@home.test", "bjensen@example.com"]),
        ("emails.type", ["home", "work"]),
        (f"{ENTERPRISE}:department", "Tours"),
        (f"{ENTERPRISE}:manager.value", "m-1"),
        (f"{ENTERPRISE}:employeeNumber", "42"),
        ("urn:ietf:params:scim:schemas:core:2.0:User:displayName", "Babs"),
        (f"{CUSTOM}:badgeNumber", "B-7"),
    ],
)
def test_a_path_resolves_to_its_value(path: str, expected: Any) -> None:
    assert _profile({"field": path}) == {"field": expected}


@pytest.mark.parametrize(
    "path",
    [
        "nickName",
        "name.middleName",
        'emails[type eq "other"].value',
        "addresses.locality",
        f"{ENTERPRISE}:costCenter",
        f"{ENTERPRISE}:manager.displayName",
        "urn:ietf:params:scim:schemas:extension:other:2.0:User:x",
    ],
)
def test_a_missing_value_is_none_and_the_field_is_still_there(path: str) -> None:
    assert _profile({"field": path}) == {"field": None}


def test_the_default_mapping_gives_a_host_app_profile() -> None:
    profile = _profile(DEFAULT_ATTRIBUTE_MAPPING)
    assert profile["email"] == "bjensen@example.com"
    assert profile["given_name"] == "Barbara"
    assert profile["family_name"] == "Jensen"
    assert profile["department"] == "Tours"
    assert profile["manager_id"] == "m-1"
    assert profile["employee_number"] == "42"
    assert profile["cost_center"] is None
    assert list(profile) == list(DEFAULT_ATTRIBUTE_MAPPING)


def test_an_empty_document_gives_an_all_none_profile() -> None:
    assert set(_profile(DEFAULT_ATTRIBUTE_MAPPING, {}).values()) == {None}


def test_a_mapping_is_compiled_once_per_content() -> None:
    first = compile_mapping((("a", "title"),))
    assert compile_mapping([("a", "title")]) is first


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"dept": "emails[type eq"}, InvalidPath),
        ({"dept": ""}, InvalidPath),
        ({"dept": 'emails[primary eq "yes"].value'}, InvalidPath),
        ({"dept": "name.givenName.extra"}, InvalidPath),
        ({"1st": "title"}, InvalidValue),
        ({"has space": "title"}, InvalidValue),
        ({"x" * 65: "title"}, InvalidValue),
        ({"dept": 5}, InvalidValue),
        (["title"], InvalidValue),
        ({f"f{i}": "title" for i in range(101)}, InvalidValue),
    ],
)
def test_a_bad_mapping_is_refused_when_it_is_saved(raw: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_mapping(raw)


def test_a_good_mapping_is_returned_as_a_plain_dict() -> None:
    assert check_mapping({"dept": f"{ENTERPRISE}:department"}) == {
        "dept": f"{ENTERPRISE}:department"
    }
