"""Group membership changes split out of a PATCH, as Okta, Entra and RFC 7644 send them."""

from __future__ import annotations

from typing import Any

import pytest

from scimgate.errors import InvalidValue, MutabilityViolation
from scimgate.model.filter import parse_filter
from scimgate.model.patch import PatchOperation, apply_patch, parse_patch_request
from scimgate.model.patch_members import (
    AddMembers,
    MemberChange,
    RemoveAllMembers,
    RemoveMembers,
    RemoveMembersWhere,
    ReplaceMembers,
    split_member_operations,
)
from scimgate.model.schemas import GROUP, PATCH_OP_SCHEMA

A = "2819c223-7f76-453a-919d-413861904646"
B = "902c246b-6245-4190-8e05-00816be7344a"
C = "c3a26dd3-27a0-4dec-a2ac-ce211e105f97"


def split(*ops: dict[str, Any]) -> tuple[list[PatchOperation], list[MemberChange]]:
    parsed = parse_patch_request(
        {"schemas": [PATCH_OP_SCHEMA], "Operations": list(ops)}, max_operations=1000
    )
    return split_member_operations(parsed)


def changes(*ops: dict[str, Any]) -> list[MemberChange]:
    rest, found = split(*ops)
    assert rest == []
    return found


def test_rfc_add_of_a_member() -> None:
    assert changes(
        {
            "op": "add",
            "path": "members",
            "value": [{"display": "Babs Jensen", "$ref": "x", "value": A}],
        }
    ) == [AddMembers((A,))]


def test_a_single_member_object_without_its_array() -> None:
    assert changes({"op": "add", "path": "members", "value": {"value": A}}) == [AddMembers((A,))]


def test_a_member_given_as_a_bare_string_is_left_to_compat() -> None:
    """The model takes RFC-shaped members; scimgate.scim.compat rewrites bare ids first."""
    with pytest.raises(InvalidValue, match="value"):
        changes({"op": "add", "path": "members", "value": [A]})


def test_okta_remove_by_value_filter_becomes_a_removal_by_id() -> None:
    assert changes({"op": "remove", "path": f'members[value eq "{A}"]'}) == [RemoveMembers((A,))]


def test_a_filter_of_value_eq_terms_joined_by_or_becomes_a_removal_by_id() -> None:
    found = changes({"op": "remove", "path": f'members[value eq "{A}" or value eq "{B}"]'})
    assert found == [RemoveMembers((A, B))]


def test_any_other_member_filter_is_kept_as_a_filter() -> None:
    found = changes({"op": "remove", "path": 'members[type eq "User" and value sw "28"]'})
    assert found == [RemoveMembersWhere(parse_filter('type eq "User" and value sw "28"'))]


def test_entra_remove_with_a_value_removes_only_those_members() -> None:
    found = changes(
        {
            "op": "remove",
            "path": "members",
            "value": [{"$ref": None, "value": A}, {"$ref": None, "value": B}],
        }
    )
    assert found == [RemoveMembers((A, B))]


def test_rfc_remove_of_all_members() -> None:
    assert changes({"op": "remove", "path": "members"}) == [RemoveAllMembers()]
    assert changes({"op": "remove", "path": "members", "value": None}) == [RemoveAllMembers()]


def test_replace_with_a_list_and_with_an_empty_list() -> None:
    assert changes({"op": "replace", "path": "members", "value": [{"value": A}, {"value": B}]}) == [
        ReplaceMembers((A, B))
    ]
    assert changes({"op": "replace", "path": "members", "value": []}) == [ReplaceMembers(())]


def test_add_or_remove_with_an_empty_list_changes_nothing() -> None:
    assert changes({"op": "add", "path": "members", "value": []}) == []
    assert changes({"op": "remove", "path": "members", "value": []}) == []


def test_rfc_remove_then_add_keeps_the_order() -> None:
    found = changes(
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [{"value": A}]},
        {"op": "remove", "path": f'members[value eq "{A}"]'},
    )
    assert found == [RemoveAllMembers(), AddMembers((A,)), RemoveMembers((A,))]


def test_okta_one_operation_per_member_is_folded_into_one_change() -> None:
    found = changes(
        {"op": "remove", "path": f'members[value eq "{A}"]'},
        {"op": "remove", "path": f'members[value eq "{B}"]'},
        {"op": "add", "path": "members", "value": [{"value": C}]},
        {"op": "add", "path": "members", "value": [{"value": A}, {"value": C}]},
    )
    assert found == [RemoveMembers((A, B)), AddMembers((C, A))]


def test_duplicate_ids_in_one_value_are_dropped() -> None:
    assert changes({"op": "add", "path": "members", "value": [{"value": A}, {"value": A}]}) == [
        AddMembers((A,))
    ]


def test_members_in_a_path_less_replace_replace_the_members() -> None:
    rest, found = split(
        {"op": "replace", "value": {"id": "g1", "displayName": "New", "members": [{"value": A}]}}
    )
    assert found == [ReplaceMembers((A,))]
    assert [op.value for op in rest] == [{"id": "g1", "displayName": "New"}]
    assert apply_patch({"displayName": "Old"}, rest, GROUP).doc == {"displayName": "New"}


def test_members_in_a_path_less_add_add_members() -> None:
    rest, found = split({"op": "add", "value": {"members": [{"value": A}]}})
    assert found == [AddMembers((A,))]
    assert rest == []


def test_a_urn_prefixed_members_path() -> None:
    path = "urn:ietf:params:scim:schemas:core:2.0:Group:members"
    assert changes({"op": "add", "path": path, "value": [{"value": A}]}) == [AddMembers((A,))]


def test_other_operations_pass_through_in_order() -> None:
    rest, found = split(
        {"op": "replace", "path": "displayName", "value": "X"},
        {"op": "add", "path": "members", "value": [{"value": A}]},
        {"op": "replace", "path": "externalId", "value": "e"},
    )
    assert [op.path_text for op in rest] == ["displayName", "externalId"]
    assert found == [AddMembers((A,))]
    result = apply_patch({"displayName": "G"}, rest, GROUP)
    assert result.doc == {"displayName": "X", "externalId": "e"}


@pytest.mark.parametrize(
    "value",
    [[{"display": "Babs"}], [{"value": None}], [{"value": 5}], [{"value": ""}], [7], [None]],
)
def test_a_member_without_a_value_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidValue, match="value"):
        split({"op": "add", "path": "members", "value": value})


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "members.display", "value": "x"},
        {"op": "remove", "path": f'members[value eq "{A}"].display'},
        {"op": "add", "path": f'members[value eq "{A}"]', "value": {"value": A}},
        {"op": "replace", "path": f'members[value eq "{A}"]', "value": {"value": B}},
    ],
)
def test_members_cannot_be_changed_in_part(op: dict[str, Any]) -> None:
    with pytest.raises(MutabilityViolation):
        split(op)


def test_errors_name_the_failing_operation() -> None:
    with pytest.raises(InvalidValue, match=r"Operations\[1\]"):
        split(
            {"op": "add", "path": "members", "value": [{"value": A}]},
            {"op": "add", "path": "members", "value": [{}]},
        )
