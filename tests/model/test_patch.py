"""PATCH on resource documents (RFC 7644 §3.5.2) and the IdP dialects of it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scimgate.errors import (
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    MutabilityViolation,
    NoTarget,
    PayloadTooLarge,
    ScimgateError,
)
from scimgate.model.patch import PatchResult, apply_patch, parse_patch_request
from scimgate.model.schemas import (
    ENTERPRISE_USER_SCHEMA,
    GROUP,
    PATCH_OP_SCHEMA,
    USER,
    Attribute,
    ResourceType,
    Schema,
)

ENT = ENTERPRISE_USER_SCHEMA


def body(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_SCHEMA], "Operations": list(ops)}


def patch(doc: dict[str, Any], *ops: dict[str, Any], rt: ResourceType = USER) -> PatchResult:
    return apply_patch(doc, parse_patch_request(body(*ops), max_operations=100), rt)


def user(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "userName": "bjensen",
        "active": True,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ],
    }
    doc.update(extra)
    return doc


# -- the PatchOp message ---------------------------------------------------------------


def test_op_names_are_the_rfc_ones() -> None:
    """Entra's "Replace" is rewritten by scimgate.scim.compat before it reaches the model."""
    ops = parse_patch_request(
        body(
            {"op": "replace", "path": "title", "value": "x"},
            {"op": "add", "path": "title", "value": "x"},
            {"op": "remove", "path": "title"},
        ),
        max_operations=10,
    )
    assert [op.op for op in ops] == ["replace", "add", "remove"]
    with pytest.raises(InvalidSyntax):
        parse_patch_request(
            body({"op": "Replace", "path": "title", "value": "x"}), max_operations=1
        )


def test_message_member_names_are_case_insensitive() -> None:
    ops = parse_patch_request(
        {"operations": [{"OP": "replace", "Path": "title", "VALUE": "Boss"}]}, max_operations=10
    )
    assert (ops[0].op, ops[0].path_text, ops[0].value) == ("replace", "title", "Boss")


@pytest.mark.parametrize("op", ["move", "copy", "test", "", None, 3])
def test_an_unknown_op_is_invalid_syntax(op: Any) -> None:
    with pytest.raises(InvalidSyntax):
        parse_patch_request(body({"op": op, "path": "title", "value": "x"}), max_operations=10)


@pytest.mark.parametrize(
    "message",
    [
        {"schemas": [PATCH_OP_SCHEMA]},
        {"schemas": [PATCH_OP_SCHEMA], "Operations": {"op": "add"}},
        {"schemas": [PATCH_OP_SCHEMA], "Operations": []},
        {"schemas": [PATCH_OP_SCHEMA], "Operations": None},
        {"schemas": "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations": []},
        ["not", "an", "object"],
    ],
)
def test_a_message_without_operations_is_invalid_syntax(message: Any) -> None:
    with pytest.raises(InvalidSyntax) as caught:
        parse_patch_request(message, max_operations=10)
    assert caught.value.scim_type == "invalidSyntax"


def test_an_operation_that_is_not_an_object_is_invalid_syntax() -> None:
    with pytest.raises(InvalidSyntax):
        parse_patch_request(body("add"), max_operations=10)  # type: ignore[arg-type]


def test_other_schema_uris_beside_patch_op_are_tolerated() -> None:
    message = body({"op": "add", "path": "title", "value": "x"})
    message["schemas"].append("urn:example:whatever")
    assert len(parse_patch_request(message, max_operations=10)) == 1


def test_a_message_without_schemas_is_accepted() -> None:
    ops = parse_patch_request(
        {"Operations": [{"op": "add", "path": "title", "value": "x"}]}, max_operations=10
    )
    assert ops[0].op == "add"


def test_schemas_without_the_patch_op_urn_is_invalid_syntax() -> None:
    message = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "Operations": [{"op": "add", "path": "title", "value": "x"}],
    }
    with pytest.raises(InvalidSyntax):
        parse_patch_request(message, max_operations=10)


def test_more_operations_than_allowed_is_payload_too_large() -> None:
    ops = [{"op": "add", "path": "title", "value": str(i)} for i in range(4)]
    with pytest.raises(PayloadTooLarge) as caught:
        parse_patch_request(body(*ops), max_operations=3)
    assert caught.value.status == 413
    assert len(parse_patch_request(body(*ops), max_operations=4)) == 4


def test_remove_without_a_path_is_no_target() -> None:
    with pytest.raises(NoTarget):
        parse_patch_request(body({"op": "remove"}), max_operations=10)


@pytest.mark.parametrize("value", [None, "x", ["x"], 3])
def test_add_without_a_path_needs_an_object(value: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_patch_request(body({"op": "add", "value": value}), max_operations=10)


def test_add_and_replace_with_a_path_need_a_value() -> None:
    for op in ("add", "replace"):
        with pytest.raises(InvalidValue):
            parse_patch_request(body({"op": op, "path": "title"}), max_operations=10)


@pytest.mark.parametrize("path", ['emails[type eq "work"', "emails[type xx 1]", "a b"])
def test_a_malformed_path_is_invalid_path(path: str) -> None:
    with pytest.raises(ScimgateError) as caught:
        parse_patch_request(body({"op": "remove", "path": path}), max_operations=10)
    assert caught.value.scim_type in ("invalidPath", "invalidFilter")


def test_a_path_that_is_not_a_string_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        parse_patch_request(body({"op": "remove", "path": 5}), max_operations=10)


def test_errors_name_the_failing_operation() -> None:
    with pytest.raises(InvalidSyntax, match=r"Operations\[1\]"):
        parse_patch_request(
            body({"op": "add", "path": "title", "value": "x"}, {"op": "nope"}), max_operations=10
        )


# -- RFC 7644 §3.5.2 examples ------------------------------------------------------------


def test_rfc_add_without_path_adds_emails_and_sets_nickname() -> None:
    result = patch(
        user(),
        {
            "op": "add",
            "value": {
                "emails": [
                    {"value": "babs@jensen.org", "type": "home"},
                    {"value": "b@x.org", "type": "other"},
                ],
                "nickname": "Babs",
            },
        },
    )
    assert result.doc["nickName"] == "Babs"
    assert [e["value"] for e in result.doc["emails"]] == [
        "bjensen@example.com",
        "babs@jensen.org",
        "b@x.org",
    ]


def test_rfc_remove_with_a_complex_filter() -> None:
    result = patch(
        user(), {"op": "remove", "path": 'emails[type eq "work" and value ew "example.com"]'}
    )
    assert result.doc["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


def test_rfc_replace_of_a_whole_filtered_item() -> None:
    doc = user(addresses=[{"type": "work", "streetAddress": "100 Universal", "locality": "LA"}])
    address = {
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "postalCode": "91608",
        "primary": True,
    }
    result = patch(doc, {"op": "replace", "path": 'addresses[type eq "work"]', "value": address})
    assert result.doc["addresses"] == [address]


def test_rfc_replace_of_a_sub_attribute_of_filtered_items() -> None:
    doc = user(
        addresses=[{"type": "work", "streetAddress": "100"}, {"type": "home", "streetAddress": "7"}]
    )
    result = patch(
        doc,
        {"op": "replace", "path": 'addresses[type eq "work"].streetAddress', "value": "1010"},
    )
    assert result.doc["addresses"] == [
        {"type": "work", "streetAddress": "1010"},
        {"type": "home", "streetAddress": "7"},
    ]


def test_rfc_replace_without_path_replaces_the_email_list() -> None:
    emails = [{"value": "bjensen@example.com", "type": "work", "primary": True}]
    result = patch(user(), {"op": "replace", "value": {"emails": emails, "nickName": "Babs"}})
    assert result.doc["emails"] == emails
    assert result.doc["nickName"] == "Babs"


# -- simple, complex and extension attributes -----------------------------------------------


def test_add_on_a_single_valued_attribute_replaces_it() -> None:
    result = patch(user(title="Tour Guide"), {"op": "add", "path": "title", "value": "Manager"})
    assert result.doc["title"] == "Manager"


def test_remove_of_a_single_valued_attribute() -> None:
    result = patch(user(title="Tour Guide"), {"op": "remove", "path": "title"})
    assert "title" not in result.doc
    assert result.changed


def test_paths_are_case_insensitive_and_stored_canonically() -> None:
    result = patch(user(), {"op": "replace", "path": "NAME.GIVENNAME", "value": "Babs"})
    assert result.doc["name"] == {"givenName": "Babs", "familyName": "Jensen"}


def test_sub_attribute_paths_set_and_remove_parts_of_a_complex_attribute() -> None:
    result = patch(
        user(),
        {"op": "replace", "path": "name.familyName", "value": "Doe"},
        {"op": "add", "path": "name.middleName", "value": "J"},
        {"op": "remove", "path": "name.givenName"},
    )
    assert result.doc["name"] == {"familyName": "Doe", "middleName": "J"}


def test_removing_the_last_sub_attribute_removes_the_complex_attribute() -> None:
    result = patch(user(name={"givenName": "B"}), {"op": "remove", "path": "name.givenName"})
    assert "name" not in result.doc


def test_replace_on_a_complex_attribute_keeps_sub_attributes_not_given() -> None:
    result = patch(
        user(), {"op": "replace", "path": "name", "value": {"givenName": "Babs", "bogus": 1}}
    )
    assert result.doc["name"] == {"givenName": "Babs", "familyName": "Jensen"}


def test_a_null_sub_attribute_in_a_complex_value_removes_it() -> None:
    result = patch(user(), {"op": "replace", "path": "name", "value": {"familyName": None}})
    assert result.doc["name"] == {"givenName": "Barbara"}


def test_a_urn_prefixed_path_creates_the_extension_object() -> None:
    result = patch(user(), {"op": "replace", "path": f"{ENT}:employeeNumber", "value": "701984"})
    assert result.doc[ENT] == {"employeeNumber": "701984"}


def test_removing_the_last_extension_attribute_removes_the_extension_object() -> None:
    result = patch(
        user(**{ENT: {"employeeNumber": "1"}}), {"op": "remove", "path": f"{ENT}:employeeNumber"}
    )
    assert ENT not in result.doc


def test_a_core_urn_prefix_is_accepted() -> None:
    result = patch(
        user(),
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:title", "value": "x"},
    )
    assert result.doc["title"] == "x"


def test_a_manager_is_an_object_with_its_id() -> None:
    result = patch(user(), {"op": "replace", "path": f"{ENT}:manager", "value": {"value": "2611"}})
    assert result.doc[ENT] == {"manager": {"value": "2611"}}
    with pytest.raises(InvalidValue, match="manager"):
        patch(user(), {"op": "replace", "path": f"{ENT}:manager", "value": "2611"})


def test_a_new_manager_merges_into_the_old_one() -> None:
    """RFC 7644 §3.5.2.3: sub-attributes not given are left as they were."""
    doc = user(**{ENT: {"manager": {"value": "old", "$ref": "../Users/old"}}})
    result = patch(doc, {"op": "add", "path": f"{ENT}:manager", "value": {"value": "new"}})
    assert result.doc[ENT]["manager"] == {"value": "new", "$ref": "../Users/old"}


def test_the_manager_display_name_is_read_only() -> None:
    result = patch(
        user(),
        {"op": "add", "path": f"{ENT}:manager", "value": {"value": "m", "displayName": "Boss"}},
    )
    assert result.doc[ENT]["manager"] == {"value": "m"}
    with pytest.raises(MutabilityViolation):
        patch(user(), {"op": "replace", "path": f"{ENT}:manager.displayName", "value": "Boss"})


def test_errors_name_the_attribute_once() -> None:
    with pytest.raises(InvalidValue) as caught:
        patch(user(), {"op": "replace", "path": "name.givenName", "value": 5})
    assert "'name.givenName' must be a string" in caught.value.detail


def test_a_manager_without_its_id_is_invalid() -> None:
    with pytest.raises(InvalidValue, match=r"manager\.value"):
        patch(user(), {"op": "add", "path": f"{ENT}:manager", "value": {"$ref": "../Users/m"}})


def test_removing_the_manager_id_removes_the_manager() -> None:
    doc = user(**{ENT: {"manager": {"value": "m", "$ref": "../Users/m"}, "division": "d"}})
    result = patch(doc, {"op": "remove", "path": f"{ENT}:manager.value"})
    assert result.doc[ENT] == {"division": "d"}


def test_the_extension_urn_as_path_takes_an_object() -> None:
    result = patch(user(), {"op": "add", "path": ENT, "value": {"department": "Tours", "bogus": 1}})
    assert result.doc[ENT] == {"department": "Tours"}


# -- path-less value objects ---------------------------------------------------------------


def test_okta_deactivation() -> None:
    result = patch(user(), {"op": "replace", "value": {"active": False}})
    assert result.doc["active"] is False
    assert result.changed


def test_sailpoint_deactivation_with_add() -> None:
    assert patch(user(), {"op": "add", "value": {"active": False}}).doc["active"] is False


def test_path_keys_in_a_value_object_are_ignored() -> None:
    """Dotted, URN-prefixed and filtered keys are IdP forms: scimgate.scim.compat
    rewrites them into nested objects before the model sees them."""
    result = patch(
        user(),
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                f"{ENT}:employeeNumber": "Aklq",
                'emails[type eq "work"].value': "new@example.com",
            },
        },
    )
    assert result.doc == user(displayName="Bjfe")


def test_nested_objects_in_a_value_object_merge() -> None:
    result = patch(
        user(),
        {
            "op": "replace",
            "value": {"name": {"givenName": "Kkom"}, ENT: {"employeeNumber": "Aklq"}},
        },
    )
    assert result.doc["name"] == {"givenName": "Kkom", "familyName": "Jensen"}
    assert result.doc[ENT] == {"employeeNumber": "Aklq"}


def test_a_nested_extension_object_in_a_value_object() -> None:
    result = patch(
        user(**{ENT: {"division": "d"}}),
        {"op": "add", "value": {ENT: {"employeeNumber": "7", "manager": {"value": "m1"}}}},
    )
    assert result.doc[ENT] == {"division": "d", "employeeNumber": "7", "manager": {"value": "m1"}}


def test_okta_group_rename_ignores_the_read_only_id() -> None:
    group = {"displayName": "Old"}
    result = patch(group, {"op": "replace", "value": {"id": "abc", "displayName": "New"}}, rt=GROUP)
    assert result.doc == {"displayName": "New"}


def test_id_meta_schemas_and_read_only_keys_are_ignored_in_a_value_object() -> None:
    result = patch(
        user(),
        {
            "op": "replace",
            "value": {
                "id": "x",
                "meta": {"resourceType": "User"},
                "schemas": ["urn:x"],
                "groups": [{"value": "g"}],
                "title": "t",
            },
        },
    )
    assert result.doc == user(title="t")


def test_unknown_keys_in_a_value_object_are_ignored() -> None:
    result = patch(
        user(),
        {
            "op": "replace",
            "value": {"favouriteColour": "blue", "urn:example:custom:2.0:User:x": 1, "title": "t"},
        },
    )
    assert result.doc == user(title="t")


# -- multi-valued attributes ----------------------------------------------------------------


def test_add_appends_and_skips_exact_duplicates() -> None:
    result = patch(
        user(),
        {
            "op": "add",
            "path": "emails",
            "value": [
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "new@x.org", "type": "other"},
            ],
        },
    )
    assert result.doc["emails"][1:] == [
        {"value": "babs@jensen.org", "type": "home"},
        {"value": "new@x.org", "type": "other"},
    ]


def test_replace_swaps_the_whole_list() -> None:
    result = patch(user(), {"op": "replace", "path": "emails", "value": [{"value": "x@y.org"}]})
    assert result.doc["emails"] == [{"value": "x@y.org"}]


def test_a_value_filter_sets_the_sub_attribute_of_matching_items() -> None:
    result = patch(
        user(),
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
    )
    assert result.doc["emails"] == [
        {"value": "new@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ]


@pytest.mark.parametrize("op", ["add", "replace"])
def test_a_value_filter_that_matches_nothing_creates_the_item(op: str) -> None:
    result = patch(
        user(), {"op": op, "path": 'phoneNumbers[type eq "mobile"].value', "value": "555-0100"}
    )
    assert result.doc["phoneNumbers"] == [{"type": "mobile", "value": "555-0100"}]


def test_the_created_item_takes_every_eq_term_of_the_filter() -> None:
    result = patch(
        user(emails=[]),
        {
            "op": "replace",
            "path": 'emails[type eq "work" and primary eq true].value',
            "value": "a@b.c",
        },
    )
    assert result.doc["emails"] == [{"type": "work", "primary": True, "value": "a@b.c"}]


def test_a_filter_that_matches_nothing_and_describes_no_item_is_no_target() -> None:
    with pytest.raises(NoTarget):
        patch(user(), {"op": "replace", "path": 'emails[value co "nowhere"].type', "value": "work"})


def test_filter_values_match_case_insensitively_for_case_insensitive_sub_attributes() -> None:
    result = patch(
        user(), {"op": "replace", "path": 'emails[type eq "WORK"].value', "value": "n@x.org"}
    )
    assert result.doc["emails"][0]["value"] == "n@x.org"


def test_remove_with_a_value_filter() -> None:
    result = patch(user(), {"op": "remove", "path": 'emails[type eq "home"]'})
    assert result.doc["emails"] == [
        {"value": "bjensen@example.com", "type": "work", "primary": True}
    ]


def test_remove_with_a_value_filter_that_matches_nothing_changes_nothing() -> None:
    doc = user()
    result = patch(doc, {"op": "remove", "path": 'emails[type eq "other"]'})
    assert result.changed is False
    assert result.doc is doc


def test_removing_the_value_of_filtered_items_removes_the_items() -> None:
    result = patch(user(), {"op": "remove", "path": 'emails[type eq "work"].value'})
    assert result.doc["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


def test_removing_another_sub_attribute_of_filtered_items_keeps_them() -> None:
    result = patch(user(), {"op": "remove", "path": 'emails[type eq "work"].primary'})
    assert result.doc["emails"][0] == {"value": "bjensen@example.com", "type": "work"}


def test_removing_the_last_item_removes_the_attribute() -> None:
    result = patch(
        user(emails=[{"value": "a@b.c"}]), {"op": "remove", "path": 'emails[value eq "a@b.c"]'}
    )
    assert "emails" not in result.doc


def test_a_primary_item_takes_the_flag_from_the_others() -> None:
    result = patch(
        user(), {"op": "add", "path": "emails", "value": [{"value": "n@x.org", "primary": True}]}
    )
    assert [e.get("primary") for e in result.doc["emails"]] == [None, None, True]


def test_setting_primary_through_a_filter_clears_it_elsewhere() -> None:
    result = patch(
        user(), {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True}
    )
    assert result.doc["emails"] == [
        {"value": "bjensen@example.com", "type": "work"},
        {"value": "babs@jensen.org", "type": "home", "primary": True},
    ]


def test_a_list_with_two_primary_items_is_invalid() -> None:
    with pytest.raises(InvalidValue, match="primary"):
        patch(
            user(),
            {
                "op": "replace",
                "path": "emails",
                "value": [{"value": "a@b.c", "primary": True}, {"value": "d@e.f", "primary": True}],
            },
        )


def test_a_sub_attribute_path_without_filter_applies_to_every_item() -> None:
    result = patch(user(), {"op": "replace", "path": "emails.type", "value": "other"})
    assert [e["type"] for e in result.doc["emails"]] == ["other", "other"]


def test_entra_primary_eq_true_written_as_a_string() -> None:
    doc = user(roles=[{"value": "User"}, {"value": "Admin", "primary": True}])
    path = 'roles[primary eq "True"].value'
    result = patch(doc, {"op": "replace", "path": path, "value": "Owner"})
    assert result.doc["roles"] == [{"value": "User"}, {"value": "Owner", "primary": True}]
    created = patch(user(), {"op": "add", "path": path, "value": "Owner"})
    assert created.doc["roles"] == [{"primary": True, "value": "Owner"}]


def test_remove_with_a_value_array_removes_only_the_items_listed() -> None:
    doc = user(roles=[{"value": "Admin", "type": "t"}, {"value": "User", "type": "t"}])
    result = patch(doc, {"op": "remove", "path": "roles", "value": [{"value": "Admin"}]})
    assert result.doc["roles"] == [{"value": "User", "type": "t"}]


def test_a_single_item_without_its_array_is_accepted() -> None:
    result = patch(user(), {"op": "replace", "path": "phoneNumbers", "value": {"value": "555"}})
    assert result.doc["phoneNumbers"] == [{"value": "555"}]


def test_a_value_filter_on_a_single_valued_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch(user(), {"op": "replace", "path": 'name[givenName eq "B"].familyName', "value": "x"})


# -- values: types, null and empty ---------------------------------------------------------------


@pytest.mark.parametrize("sent", ["True", "false"])
def test_booleans_sent_as_strings_are_left_to_compat(sent: str) -> None:
    """Entra's "False" is rewritten by scimgate.scim.compat; the model wants a boolean."""
    with pytest.raises(InvalidValue, match="active"):
        patch(user(), {"op": "replace", "path": "active", "value": sent})


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("active", "yes", "active"),
        ("active", 0, "active"),
        ("userName", 5, "userName"),
        ("emails", ["a@b.c"], "emails"),
        ("name", 3, "name"),
        ('emails[type eq "work"].primary', "maybe", "emails.primary"),
        (f"{ENT}:employeeNumber", 7, "employeeNumber"),
    ],
)
def test_a_value_of_the_wrong_type_is_invalid_value_naming_the_attribute(
    path: str, value: Any, named: str
) -> None:
    with pytest.raises(InvalidValue, match=named):
        patch(user(), {"op": "replace", "path": path, "value": value})


@pytest.mark.parametrize("value", [None, ""])
def test_null_or_empty_string_in_replace_removes(value: Any) -> None:
    result = patch(user(title="x"), {"op": "replace", "path": "title", "value": value})
    assert "title" not in result.doc


def test_an_empty_list_in_replace_removes_a_multi_valued_attribute() -> None:
    result = patch(user(), {"op": "replace", "path": "emails", "value": []})
    assert "emails" not in result.doc


def test_null_in_add_removes_a_single_valued_attribute() -> None:
    result = patch(user(title="x"), {"op": "add", "value": {"title": None}})
    assert "title" not in result.doc


def test_an_empty_list_in_add_adds_nothing() -> None:
    doc = user()
    result = patch(doc, {"op": "add", "path": "emails", "value": []})
    assert result.doc is doc
    assert not result.changed


# -- mutability, required, unknown -------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["id", "meta", "meta.created", "groups", 'groups[value eq "g"].display']
)
def test_an_explicit_path_to_a_read_only_attribute_is_a_mutability_violation(path: str) -> None:
    with pytest.raises(MutabilityViolation) as caught:
        patch(user(), {"op": "replace", "path": path, "value": "x"})
    assert caught.value.scim_type == "mutability"


def test_password_is_accepted_and_never_stored() -> None:
    doc = user()
    result = patch(
        doc,
        {"op": "replace", "path": "password", "value": "t1meMa$heen"},
        {"op": "add", "value": {"password": "x"}},
    )
    assert result.doc is doc
    assert not result.changed


@pytest.mark.parametrize(
    ("rt", "doc", "path"),
    [(USER, user(), "userName"), (GROUP, {"displayName": "G"}, "displayName")],
)
def test_a_required_attribute_cannot_be_removed(
    rt: ResourceType, doc: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidValue, match=path):
        patch(doc, {"op": "remove", "path": path}, rt=rt)
    with pytest.raises(InvalidValue, match=path):
        patch(doc, {"op": "replace", "value": {path: None}}, rt=rt)


@pytest.mark.parametrize(
    "path", ["favouriteColour", "name.nickname", f"{ENT}:shoeSize", 'emails[type eq "w"].x']
)
def test_an_unknown_attribute_path_is_invalid_path(path: str) -> None:
    with pytest.raises(InvalidPath):
        patch(user(), {"op": "replace", "path": path, "value": "x"})


def test_group_members_must_be_split_off_first() -> None:
    with pytest.raises(ValueError, match="split_member_operations"):
        patch(
            {"displayName": "G"},
            {"op": "add", "path": "members", "value": [{"value": "u"}]},
            rt=GROUP,
        )


THING_SCHEMA = Schema(
    id="urn:example:schemas:Thing",
    name="Thing",
    description="A resource type with the attribute types the core schemas lack",
    attributes=(
        Attribute("serial", "string", mutability="immutable"),
        Attribute("count", "integer"),
        Attribute("weight", "decimal"),
        Attribute("seen", "dateTime"),
    ),
)
THING = ResourceType("Thing", "/Things", "test", THING_SCHEMA)


def test_an_immutable_attribute_can_be_set_once() -> None:
    first = patch({}, {"op": "add", "path": "serial", "value": "A1"}, rt=THING)
    assert first.doc == {"serial": "A1"}
    assert (
        patch(first.doc, {"op": "replace", "path": "serial", "value": "A1"}, rt=THING).changed
        is False
    )
    with pytest.raises(MutabilityViolation):
        patch(first.doc, {"op": "replace", "path": "serial", "value": "B2"}, rt=THING)
    with pytest.raises(MutabilityViolation):
        patch(first.doc, {"op": "remove", "path": "serial"}, rt=THING)


def test_integer_decimal_and_datetime_values_are_typed() -> None:
    result = patch(
        {},
        {"op": "add", "value": {"count": 3, "weight": 2.5, "seen": "2015-10-10T00:00:00Z"}},
        rt=THING,
    )
    assert result.doc == {"count": 3, "weight": 2.5, "seen": "2015-10-10T00:00:00Z"}
    for path, value in [("count", 2.5), ("count", True), ("weight", "2"), ("seen", "yesterday")]:
        with pytest.raises(InvalidValue, match=path):
            patch({}, {"op": "add", "path": path, "value": value}, rt=THING)


# -- atomicity and change detection ------------------------------------------------------


def test_a_failing_operation_leaves_the_document_as_it_was() -> None:
    doc = user(**{ENT: {"division": "d"}})
    before = copy.deepcopy(doc)
    with pytest.raises(InvalidValue, match=r"Operations\[2\]"):
        patch(
            doc,
            {"op": "replace", "path": "name.givenName", "value": "X"},
            {"op": "add", "path": f"{ENT}:employeeNumber", "value": "9"},
            {"op": "replace", "path": "active", "value": "maybe"},
        )
    assert doc == before


def test_the_input_document_is_never_modified() -> None:
    doc = user(**{ENT: {"division": "d"}}, roles=[{"value": "r"}])
    before = copy.deepcopy(doc)
    result = patch(
        doc,
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "n@x.org"},
        {"op": "add", "path": 'emails[type eq "home"].primary', "value": True},
        {"op": "replace", "path": "name.givenName", "value": "X"},
        {"op": "remove", "path": f"{ENT}:division"},
        {"op": "add", "path": f"{ENT}:employeeNumber", "value": "9"},
        {"op": "remove", "path": "roles"},
    )
    assert doc == before
    assert result.doc["emails"][0] == {"value": "n@x.org", "type": "work"}
    assert result.doc[ENT] == {"employeeNumber": "9"}


def test_a_patch_that_changes_nothing_reports_no_change() -> None:
    doc = user()
    result = patch(
        doc,
        {"op": "replace", "value": {"active": True, "name.givenName": "Barbara"}},
        {"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "bjensen@example.com"},
        {"op": "remove", "path": "title"},
    )
    assert result.changed is False
    assert result.doc is doc


def test_a_change_undone_in_the_same_request_reports_no_change() -> None:
    result = patch(
        user(),
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "path": "active", "value": True},
    )
    assert result.changed is False
