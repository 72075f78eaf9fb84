from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scimgate.errors import InvalidValue
from scimgate.model.schemas import ENTERPRISE_USER_SCHEMA, GROUP, USER, USER_SCHEMA
from scimgate.model.validation import normalize_resource

SAMPLES = Path(__file__).parent.parent / "samples"
ENTERPRISE = ENTERPRISE_USER_SCHEMA
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

# The create request Okta documents, field for field.
OKTA_CREATE: dict[str, Any] = {
    "schemas": [USER_SCHEMA],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}


def _user(**attrs: Any) -> dict[str, Any]:
    doc, members = normalize_resource({"userName": "bjensen", **attrs}, USER)
    assert members is None
    return doc


def test_the_okta_create_request_becomes_a_clean_document() -> None:
    doc, members = normalize_resource(OKTA_CREATE, USER)
    assert members is None
    assert doc == {
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "active": True,
    }


def test_the_rfc_full_user_normalizes() -> None:
    sample = json.loads((SAMPLES / "rfc7643" / "full_user.json").read_text())
    doc, _ = normalize_resource(sample, USER)
    for dropped in ("id", "meta", "schemas", "groups", "password"):
        assert dropped not in doc
    assert doc["userName"] == "bjensen@example.com"
    assert doc["externalId"] == "701984"
    assert doc["name"] == sample["name"]
    assert doc["addresses"] == sample["addresses"]
    assert doc["x509Certificates"] == sample["x509Certificates"]
    assert len(doc) == len(sample) - 5


def test_attribute_names_are_rewritten_to_their_canonical_spelling() -> None:
    doc, _ = normalize_resource(
        {
            "USERNAME": "bjensen",
            "Name": {"GivenName": "Barbara"},
            "EMAILS": [{"VALUE": "b@example.com", "Primary": True}],
            "externalid": "x",
        },
        USER,
    )
    assert doc == {
        "userName": "bjensen",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com", "primary": True}],
        "externalId": "x",
    }


@pytest.mark.parametrize("sent", ["True", "false"])
def test_booleans_sent_as_strings_are_left_to_compat(sent: str) -> None:
    """Entra's "True" is rewritten by scimgate.scim.compat; the model wants a boolean."""
    with pytest.raises(InvalidValue, match="active"):
        _user(active=sent)


def test_read_only_attributes_and_schemas_are_dropped() -> None:
    doc = _user(
        id="abc",
        meta={"resourceType": "User"},
        schemas=[USER_SCHEMA],
        groups=[{"value": "g1", "display": "G"}],
        password="secret",
    )
    assert doc == {"userName": "bjensen"}


def test_null_and_empty_values_are_removed() -> None:
    doc = _user(
        displayName=None,
        nickName="",
        roles=[],
        name={},
        emails=[{"value": None}, {}],
        phoneNumbers=[{"value": "555", "type": None}],
    )
    assert doc == {"userName": "bjensen", "phoneNumbers": [{"value": "555"}]}


def test_unknown_core_attributes_are_ignored() -> None:
    assert _user(emialz="x", nmae={"givenName": "x"}) == {"userName": "bjensen"}


@pytest.mark.parametrize(
    ("attrs", "named"),
    [
        ({"displayName": 42}, "displayName"),
        ({"active": "yes"}, "active"),
        ({"active": 1}, "active"),
        ({"name": "Barbara"}, "name"),
        ({"emails": "b@example.com"}, "emails"),
        ({"emails": [{"value": 1}]}, "emails.value"),
        ({"emails": [{"primary": "maybe"}]}, "emails.primary"),
        ({"emails": ["b@example.com"]}, "emails"),
        ({"x509Certificates": [{"value": b"raw"}]}, "x509Certificates.value"),
        ({"profileUrl": ["https://x"]}, "profileUrl"),
        ({ENTERPRISE: {"employeeNumber": 7}}, f"{ENTERPRISE}:employeeNumber"),
        ({ENTERPRISE: "x"}, ENTERPRISE),
    ],
)
def test_wrong_types_are_refused_naming_the_attribute(attrs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidValue) as info:
        _user(**attrs)
    assert named in info.value.detail


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidValue):
        normalize_resource(["userName"], USER)  # type: ignore[arg-type]


def test_a_single_object_for_a_multi_valued_attribute_is_one_item() -> None:
    assert _user(emails={"value": "b@example.com"})["emails"] == [{"value": "b@example.com"}]


def test_user_name_is_required() -> None:
    with pytest.raises(InvalidValue, match="userName"):
        normalize_resource({"displayName": "Babs"}, USER)
    with pytest.raises(InvalidValue, match="userName"):
        normalize_resource({"userName": ""}, USER)


def test_group_display_name_is_required() -> None:
    with pytest.raises(InvalidValue, match="displayName"):
        normalize_resource({"members": []}, GROUP)


def test_only_one_primary_value_is_allowed() -> None:
    with pytest.raises(InvalidValue, match="primary"):
        _user(
            emails=[
                {"value": "a@example.com", "primary": True},
                {"value": "b@example.com", "primary": "True"},
            ]
        )
    doc = _user(
        emails=[
            {"value": "a@example.com", "primary": True},
            {"value": "b@example.com", "primary": False},
        ]
    )
    assert len(doc["emails"]) == 2


def test_enterprise_extension_object_is_normalized() -> None:
    doc = _user(
        **{
            ENTERPRISE.upper(): {
                "EmployeeNumber": "701984",
                "manager": {"value": "26118915", "$ref": "../Users/26118915", "displayName": "J"},
                "unknown": "x",
            }
        }
    )
    assert doc[ENTERPRISE] == {
        "employeeNumber": "701984",
        "manager": {"value": "26118915", "$ref": "../Users/26118915"},
    }


def test_path_keys_are_left_to_compat() -> None:
    """URN-prefixed and dotted keys are IdP forms: scimgate.scim.compat nests
    them before the model sees the body; the model ignores them."""
    doc = _user(
        **{
            f"{ENTERPRISE}:employeeNumber": "7",
            f"{USER_SCHEMA}:displayName": "Babs",
            "name.givenName": "Barbara",
            ENTERPRISE: {"department": "Tours"},
        }
    )
    assert doc == {"userName": "bjensen", ENTERPRISE: {"department": "Tours"}}


def test_a_manager_given_as_a_plain_string_is_left_to_compat() -> None:
    with pytest.raises(InvalidValue, match="manager"):
        _user(**{ENTERPRISE: {"manager": "26118915"}})


def test_a_manager_without_an_id_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"manager\.value"):
        _user(**{ENTERPRISE: {"manager": {"$ref": "../Users/1"}}})


def test_a_manager_with_only_read_only_parts_is_no_manager() -> None:
    assert ENTERPRISE not in _user(**{ENTERPRISE: {"manager": {"displayName": "J"}}})


def test_an_empty_extension_object_is_left_out() -> None:
    assert ENTERPRISE not in _user(**{ENTERPRISE: {}})
    assert ENTERPRISE not in _user(**{ENTERPRISE: {"employeeNumber": None}})


def test_unknown_extensions_are_ignored() -> None:
    assert _user(**{CUSTOM: {"badge": "1"}, f"{CUSTOM}:costCenter": "9"}) == {"userName": "bjensen"}


def test_registered_extensions_are_kept_as_sent() -> None:
    doc, _ = normalize_resource(
        {"userName": "bjensen", CUSTOM.lower(): {"badge": 1, "site": {"floor": 3}}},
        USER,
        registered_extensions=frozenset({CUSTOM}),
    )
    assert doc[CUSTOM] == {"badge": 1, "site": {"floor": 3}}


def test_group_members_are_returned_apart_from_the_document() -> None:
    doc, members = normalize_resource(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Tour Guides",
            "Members": [
                {"value": "u1", "display": "Babs"},
                {"$ref": None, "value": "u2"},
                {"value": "g1", "type": "Group"},
            ],
        },
        GROUP,
    )
    assert doc == {"displayName": "Tour Guides"}
    assert members == [
        {"value": "u1"},
        {"value": "u2"},
        {"value": "g1", "type": "Group"},
    ]


@pytest.mark.parametrize("sent", [[], None])
def test_an_empty_member_list_is_told_apart_from_no_member_list(sent: Any) -> None:
    assert normalize_resource({"displayName": "G", "members": sent}, GROUP)[1] == []
    assert normalize_resource({"displayName": "G"}, GROUP)[1] is None


def test_a_member_without_a_value_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"members\.value"):
        normalize_resource({"displayName": "G", "members": [{"type": "User"}]}, GROUP)


def test_datetime_values_must_be_iso_8601() -> None:
    from scimgate.model.schemas import Attribute, ResourceType, Schema

    ext = Schema(
        "urn:example:hr:2.0:User",
        "HR",
        "",
        (
            Attribute("hired", "dateTime"),
            Attribute("level", "integer"),
            Attribute("fte", "decimal"),
        ),
    )
    rt = ResourceType("User", "/Users", "", USER.schema, extensions=(ext,))
    good = {"userName": "b", ext.id: {"hired": "2010-01-23T04:56:22Z", "level": 3, "fte": 0.8}}
    assert normalize_resource(good, rt)[0][ext.id] == good[ext.id]
    for bad in ({"hired": "yesterday"}, {"level": 2.5}, {"level": True}, {"fte": "1"}):
        with pytest.raises(InvalidValue, match=ext.id):
            normalize_resource({"userName": "b", ext.id: bad}, rt)


def test_the_payload_is_not_modified() -> None:
    payload = json.loads(json.dumps(OKTA_CREATE))
    normalize_resource(payload, USER)
    assert payload == OKTA_CREATE


def test_core_attributes_nested_under_the_core_urn_are_left_to_compat() -> None:
    with pytest.raises(InvalidValue, match="userName"):
        normalize_resource({USER_SCHEMA: {"userName": "bjensen"}}, USER)
