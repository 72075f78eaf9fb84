"""The IdP compatibility layer: every named tolerance, and the strictness kept beside them.

Rewrites are checked through the whole pipeline a request takes (compat
rewrite, then the model), so each test says what ends up stored.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scimgate.errors import InvalidValue, NoTarget
from scimgate.model.filter import Compare, parse_filter, parse_path
from scimgate.model.idp import IDP_NAMES
from scimgate.model.patch import PatchResult, apply_patch, parse_patch_request
from scimgate.model.patch_apply import typed_filter
from scimgate.model.patch_members import (
    AddMembers,
    MemberChange,
    RemoveMembers,
    split_member_operations,
)
from scimgate.model.schemas import (
    ENTERPRISE_USER_SCHEMA,
    GROUP,
    GROUP_SCHEMA,
    PATCH_OP_SCHEMA,
    USER,
    USER_SCHEMA,
    ResourceType,
)
from scimgate.model.validation import normalize_resource
from scimgate.scim.compat import (
    BY_NAME,
    TOLERANCES,
    normalize_bulk_body,
    normalize_patch_body,
    normalize_resource_body,
)
from tests.scim.contract import ERROR_SCHEMA, ScimClient, assert_scim_error, resources

ENT = ENTERPRISE_USER_SCHEMA
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "compatibility.md"


def stored(
    body: dict[str, Any], rt: ResourceType = USER, registered: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """What a POST body becomes: compat rewrite, then the model's validation."""
    rewritten = normalize_resource_body(copy.deepcopy(body), rt, registered)
    doc, _ = normalize_resource(rewritten, rt, registered_extensions=registered)
    return doc


def members_of(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    return normalize_resource(normalize_resource_body(copy.deepcopy(body), GROUP), GROUP)[1]


def patch_message(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_SCHEMA], "Operations": copy.deepcopy(list(ops))}


def patched(doc: dict[str, Any], *ops: dict[str, Any], rt: ResourceType = USER) -> PatchResult:
    """What a PATCH does to ``doc``: compat rewrite, parse, apply."""
    message = normalize_patch_body(patch_message(*ops), rt)
    return apply_patch(doc, parse_patch_request(message, max_operations=100), rt)


def member_changes(*ops: dict[str, Any]) -> list[MemberChange]:
    message = normalize_patch_body(patch_message(*ops), GROUP)
    rest, changes = split_member_operations(parse_patch_request(message, max_operations=100))
    assert rest == []
    return changes


def user(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "userName": "bjensen",
        "active": True,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
    }
    doc.update(extra)
    return doc


# -- rewrites ---------------------------------------------------------------------------


def test_onelogin_legacy_urns_read_as_the_ietf_ones() -> None:
    doc = stored(
        {
            "schemas": ["urn:scim:schemas:core:2.0", "urn:scim:schemas:extension:enterprise:2.0"],
            "userName": "bjensen",
            "urn:scim:schemas:extension:enterprise:2.0": {"employeeNumber": "42"},
            "urn:scim:schemas:core:2.0:displayName": "Babs",
        }
    )
    assert doc == {"userName": "bjensen", "displayName": "Babs", ENT: {"employeeNumber": "42"}}
    group = stored({"urn:scim:schemas:core:2.0:Group": {"displayName": "G"}}, GROUP)
    assert group == {"displayName": "G"}


def test_onelogin_legacy_urns_in_patch_paths() -> None:
    path = "urn:scim:schemas:extension:enterprise:2.0:employeeNumber"
    result = patched(user(), {"op": "replace", "path": path, "value": "7"})
    assert result.doc[ENT] == {"employeeNumber": "7"}


def test_an_attribute_that_merely_starts_like_a_legacy_urn_is_not_renamed() -> None:
    """``...:core:2.0:userName`` is the attribute userName, not the schema ``...:core:2.0:User``."""
    body = normalize_resource_body({"urn:scim:schemas:core:2.0:userName": "b"}, USER)
    assert body == {"userName": "b"}


def test_core_attributes_nested_under_the_core_urn_are_lifted() -> None:
    assert stored({USER_SCHEMA: {"userName": "bjensen", "Active": "true"}}) == {
        "userName": "bjensen",
        "active": True,
    }


def test_urn_prefixed_keys_move_into_the_extension_object() -> None:
    doc = stored(
        {
            "userName": "bjensen",
            f"{ENT}:employeeNumber": "7",
            f"{ENT}:manager.value": "boss",
            ENT: {"department": "Tours", "employeeNumber": "6"},
            f"{USER_SCHEMA}:displayName": "Babs",
        }
    )
    assert doc[ENT] == {"department": "Tours", "employeeNumber": "7", "manager": {"value": "boss"}}
    assert doc["displayName"] == "Babs"


def test_urn_prefixed_keys_of_a_registered_extension_are_kept_nested() -> None:
    registered = frozenset({CUSTOM})
    body = {"userName": "b", CUSTOM.lower(): {"badge": 1}, f"{CUSTOM}:site.floor": 3}
    assert stored(body, registered=registered)[CUSTOM] == {"badge": 1, "site": {"floor": 3}}


def test_urn_prefixed_keys_of_an_unknown_extension_are_ignored() -> None:
    """Entra's custom attributes are kept only once the tenant registers their extension."""
    assert stored({"userName": "b", f"{CUSTOM}:costCenter": "9"}) == {"userName": "b"}


def test_entra_path_less_values_with_dotted_and_urn_prefixed_keys() -> None:
    result = patched(
        user(**{ENT: {"division": "d"}}),
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENT}:employeeNumber": "Aklq",
            },
        },
    )
    assert result.doc["displayName"] == "Bjfe"
    assert result.doc["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert result.doc[ENT] == {"division": "d", "employeeNumber": "Aklq"}
    assert "name.givenName" not in result.doc


def test_dotted_keys_in_a_body_move_into_their_complex_attribute() -> None:
    doc = stored({"userName": "b", "name.givenName": "Barbara", "NAME.familyName": "Jensen"})
    assert doc["name"] == {"givenName": "Barbara", "familyName": "Jensen"}


def test_a_dotted_key_of_a_multi_valued_attribute_names_no_item() -> None:
    assert stored({"userName": "b", "emails.value": "b@example.com"}) == {"userName": "b"}


@pytest.mark.parametrize("op", ["Replace", "REPLACE", "replace"])
def test_op_names_in_any_case(op: str) -> None:
    assert patched(user(), {"op": op, "path": "title", "value": "Boss"}).doc["title"] == "Boss"


def test_add_and_remove_in_any_case() -> None:
    assert patched(user(), {"op": "Add", "path": "title", "value": "x"}).doc["title"] == "x"
    assert "title" not in patched(user(title="x"), {"op": "REMOVE", "path": "title"}).doc


def test_a_filtered_key_in_a_value_object_becomes_an_operation() -> None:
    result = patched(
        user(),
        {
            "op": "replace",
            "value": {'emails[type eq "work"].value': "new@example.com", "title": "t"},
        },
    )
    assert result.doc["emails"][0] == {"value": "new@example.com", "type": "work", "primary": True}
    assert result.doc["title"] == "t"


def test_an_unreadable_filtered_key_is_still_ignored() -> None:
    result = patched(user(), {"op": "replace", "value": {"emails[type eq": "x", "title": "t"}})
    assert result.doc == user(title="t")


@pytest.mark.parametrize(("sent", "expected"), [("True", True), ("false", False), ("FALSE", False)])
def test_booleans_as_strings_in_a_body(sent: str, expected: bool) -> None:
    doc = stored({"userName": "b", "active": sent, "emails": [{"value": "a@b.c", "Primary": sent}]})
    assert doc["active"] is expected
    assert doc["emails"] == [{"value": "a@b.c", "primary": expected}]


@pytest.mark.parametrize(("sent", "expected"), [("True", True), ("False", False), ("false", False)])
def test_booleans_as_strings_in_a_patch(sent: str, expected: bool) -> None:
    before = user(active=not expected)
    assert patched(before, {"op": "Replace", "path": "active", "value": sent}).doc["active"] is (
        expected
    )
    assert patched(before, {"op": "replace", "value": {"active": sent}}).doc["active"] is expected
    emails = patched(before, {"op": "add", "path": 'emails[type eq "work"].primary', "value": sent})
    assert emails.doc["emails"][0].get("primary", False) is expected


def test_a_string_that_is_no_boolean_is_still_refused() -> None:
    with pytest.raises(InvalidValue, match="active"):
        stored({"userName": "b", "active": "yes"})


def test_a_manager_given_as_a_bare_id() -> None:
    assert stored({"userName": "b", ENT: {"manager": "26118915"}})[ENT] == {
        "manager": {"value": "26118915"}
    }
    assert stored({"userName": "b", f"{ENT}:manager": "26118915"})[ENT] == {
        "manager": {"value": "26118915"}
    }
    result = patched(user(), {"op": "Replace", "path": f"{ENT}:manager", "value": "26118915"})
    assert result.doc[ENT] == {"manager": {"value": "26118915"}}


def test_a_new_manager_id_replaces_the_whole_manager() -> None:
    doc = user(**{ENT: {"manager": {"value": "old", "$ref": "../Users/old"}}})
    result = patched(doc, {"op": "add", "path": f"{ENT}:manager", "value": "new"})
    assert result.doc[ENT]["manager"] == {"value": "new"}


def test_members_given_as_bare_ids() -> None:
    assert members_of({"displayName": "G", "members": ["u1", {"value": "u2"}]}) == [
        {"value": "u1"},
        {"value": "u2"},
    ]
    assert member_changes({"op": "add", "path": "members", "value": "u1"}) == [AddMembers(("u1",))]
    assert member_changes({"op": "add", "path": "members", "value": ["u1", "u2"]}) == [
        AddMembers(("u1", "u2"))
    ]


def test_an_entra_role_given_as_json_text_is_decoded() -> None:
    role = '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}'
    result = patched(user(), {"op": "Add", "path": "roles", "value": [{"value": role}]})
    assert result.doc["roles"] == [{"value": "25", "display": "Role1234"}]
    result = patched(user(), {"op": "add", "path": "roles", "value": role})
    assert result.doc["roles"] == [{"value": "25", "display": "Role1234"}]
    assert stored({"userName": "b", "roles": [{"value": role, "primary": "True"}]})["roles"] == [
        {"value": "25", "display": "Role1234", "primary": True}
    ]


def test_a_role_that_merely_starts_with_a_brace_is_kept_as_text() -> None:
    result = patched(user(), {"op": "add", "path": "roles", "value": [{"value": "{admin"}]})
    assert result.doc["roles"] == [{"value": "{admin"}]


def test_bulk_operations_are_rewritten_by_method() -> None:
    body = normalize_bulk_body(
        {
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"active": "False"}},
                {
                    "method": "PATCH",
                    "path": "/Users/x",
                    "data": {"Operations": [{"op": "Replace", "path": "active", "value": "True"}]},
                },
                {"method": "POST", "path": "/Groups", "data": {"members": ["bulkId:a"]}},
                {"method": "DELETE", "path": "/Users/x"},
            ]
        }
    )
    ops = body["Operations"]
    assert ops[0]["data"] == {"active": False}
    assert ops[1]["data"]["Operations"] == [{"op": "replace", "path": "active", "value": True}]
    assert ops[2]["data"] == {"members": [{"value": "bulkId:a"}]}


def test_bodies_too_malformed_to_rewrite_are_left_for_the_model() -> None:
    assert normalize_patch_body({"Operations": "nope"}, USER) == {"Operations": "nope"}
    odd = {"Operations": [7, {"op": 3, "path": 5, "value": {}}]}
    assert normalize_patch_body(copy.deepcopy(odd), USER) == odd
    assert normalize_resource_body({1: 2, "active": ["x"]}, USER) == {1: 2, "active": ["x"]}  # type: ignore[dict-item]


# -- tolerances the model implements ------------------------------------------------------


def test_add_on_a_single_valued_attribute_replaces_it() -> None:
    assert patched(user(), {"op": "Add", "path": "active", "value": "False"}).doc["active"] is False
    assert patched(user(), {"op": "add", "value": {"active": False}}).doc["active"] is False


def test_entra_remove_of_members_with_a_value_array_removes_only_those() -> None:
    found = member_changes(
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": "a"}, {"value": "b"}]}
    )
    assert found == [RemoveMembers(("a", "b"))]
    roles = user(roles=[{"value": "Admin"}, {"value": "User"}])
    result = patched(roles, {"op": "Remove", "path": "roles", "value": [{"value": "Admin"}]})
    assert result.doc["roles"] == [{"value": "User"}]


def test_a_filtered_path_that_matches_nothing_creates_the_item() -> None:
    result = patched(
        user(emails=[]),
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@example.com"},
    )
    assert result.doc["emails"] == [{"type": "work", "value": "w@example.com"}]
    with pytest.raises(NoTarget):
        patched(user(), {"op": "replace", "path": 'emails[value co "zz"].type', "value": "home"})


def test_a_string_boolean_in_a_value_filter_compares_booleans() -> None:
    expr = parse_path('roles[primary eq "True"].value').filter
    assert expr is not None
    typed = typed_filter(USER.schema.attribute("roles"), expr)  # type: ignore[arg-type]
    assert isinstance(typed, Compare)
    assert typed.value is True
    doc = user(roles=[{"value": "User"}, {"value": "Admin", "primary": True}])
    path = 'roles[primary eq "True"].value'
    result = patched(doc, {"op": "replace", "path": path, "value": "Owner"})
    assert result.doc["roles"] == [{"value": "User"}, {"value": "Owner", "primary": True}]


def test_read_only_attributes_in_bodies_are_ignored() -> None:
    doc = stored({"userName": "b", "id": "x", "meta": {"resourceType": "User"}, "groups": []})
    assert doc == {"userName": "b"}
    result = patched(
        {"displayName": "Old"},
        {"op": "replace", "value": {"id": "g", "displayName": "New"}},
        rt=GROUP,
    )
    assert result.doc == {"displayName": "New"}


def test_okta_password_placeholder_is_never_stored() -> None:
    assert stored({"userName": "b", "password": "1mz050nq"}) == {"userName": "b"}
    assert patched(user(), {"op": "replace", "path": "password", "value": "x"}).changed is False


def test_unknown_schema_uris_are_ignored() -> None:
    body = {
        "schemas": [GROUP_SCHEMA, ADSCIM],
        "displayName": "G",
        "meta": {"resourceType": "Group"},
    }
    assert stored(body, GROUP) == {"displayName": "G"}


def test_an_extension_urn_missing_from_schemas_still_counts() -> None:
    doc = stored({"schemas": [USER_SCHEMA], "userName": "b", ENT: {"department": "Tours"}})
    assert doc[ENT] == {"department": "Tours"}


def test_unknown_attributes_are_ignored() -> None:
    assert stored({"userName": "b", "adreses": [{"country": "DE"}]}) == {"userName": "b"}


def test_attribute_names_in_any_case_are_stored_canonically() -> None:
    doc = stored({"UserName": "b", ENT: {"Department": "x", "Manager": {"Value": "m"}}})
    assert doc == {"userName": "b", ENT: {"department": "x", "manager": {"value": "m"}}}


def test_filter_operators_in_any_case() -> None:
    expr = parse_filter('username Eq "x" AND NOT (title PR)')
    assert expr == parse_filter('username eq "x" and not (title pr)')


def test_bare_filter_values() -> None:
    assert parse_filter("userName sw O") == parse_filter('userName sw "O"')
    assert parse_filter("emails.Value co example.com") == parse_filter(
        'emails.Value co "example.com"'
    )


# -- through HTTP: both databases ------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", None, "text/plain"])
def test_any_content_type_is_read_as_json(scim: ScimClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = scim.request(
        "POST", "/Users", content=b'{"userName": "g@example.com"}', headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/scim+json")


def test_a_trailing_slash_on_a_collection_is_the_collection(scim: ScimClient) -> None:
    created = scim.make_user(displayName="BobIsAmazing")
    listed = scim.get("/Users/", params={"filter": 'DisplayName eq "BobIsAmazing"'})
    assert [r["id"] for r in resources(listed)] == [created["id"]]
    assert scim.post("/Groups/", {"schemas": [GROUP_SCHEMA], "displayName": "G"}).status_code == 201
    assert_scim_error(scim.get("/Users//x"), 404)


def test_repeated_member_adds_and_removes_change_nothing(scim: ScimClient) -> None:
    alice = scim.make_user()
    group = scim.make_group(members=[alice])
    add = {"op": "add", "path": "members", "value": [{"value": alice["id"]}]}
    assert scim.patch_ops(f"/Groups/{group['id']}", add).status_code == 204
    version = scim.fetch(f"/Groups/{group['id']}")["meta"]["version"]
    assert scim.patch_ops(f"/Groups/{group['id']}", add).status_code == 204
    fetched = scim.fetch(f"/Groups/{group['id']}")
    assert [m["value"] for m in fetched["members"]] == [alice["id"]]
    assert fetched["meta"]["version"] == version
    gone = {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}
    assert scim.patch_ops(f"/Groups/{group['id']}", gone).status_code == 204
    assert scim.patch_ops(f"/Groups/{group['id']}", gone).status_code == 204
    assert "members" not in scim.fetch(f"/Groups/{group['id']}")


def test_a_put_without_active_keeps_the_state(scim: ScimClient) -> None:
    created = scim.make_user(active=False)
    body = scim.user_body(userName=created["userName"])
    del body["active"]
    response = scim.put(f"/Users/{created['id']}", body)
    assert response.status_code == 200, response.text
    assert scim.fetch(f"/Users/{created['id']}")["active"] is False


def test_entra_shapes_through_http(scim: ScimClient) -> None:
    boss = scim.make_user()
    created = scim.post(
        "/Users",
        {
            "schemas": [USER_SCHEMA, ENT],
            "userName": "e@example.com",
            "active": "True",
            "meta": {"resourceType": "User"},
            "roles": [],
            f"{ENT}:manager": boss["id"],
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    response = scim.patch_ops(
        f"/Users/{user_id}",
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "e@example.com"},
    )
    assert response.status_code == 200, response.text
    fetched = scim.fetch(f"/Users/{user_id}")
    assert fetched["active"] is False
    assert fetched["emails"] == [{"type": "work", "value": "e@example.com"}]
    assert fetched[ENT]["manager"]["value"] == boss["id"]


# -- strictness kept where it protects data ---------------------------------------------------


def test_malformed_json_is_still_invalid_syntax(scim: ScimClient) -> None:
    response = scim.request("POST", "/Users", content=b'{"userName": "b",', headers={})
    assert_scim_error(response, 400, "invalidSyntax")


def test_a_missing_user_name_is_still_refused(scim: ScimClient) -> None:
    response = scim.post("/Users", {"schemas": [USER_SCHEMA], "active": "True"})
    assert_scim_error(response, 400, "invalidValue")
    assert "userName" in response.json()["detail"]


@pytest.mark.parametrize("text", ['userName eq "x', "userName eq", "userName like x", "(a pr"])
def test_a_broken_filter_is_still_invalid_filter(scim: ScimClient, text: str) -> None:
    assert_scim_error(scim.get("/Users", params={"filter": text}), 400, "invalidFilter")


def test_a_patch_on_an_unknown_id_is_still_not_found(scim: ScimClient) -> None:
    op = {"op": "Replace", "path": "active", "value": "False"}
    response = scim.patch_ops("/Users/00919288221112222", op)
    assert_scim_error(response, 404)
    assert response.json()["schemas"] == [ERROR_SCHEMA]
    assert resources(scim.get("/Users")) == []


def test_an_unknown_op_is_still_invalid_syntax(scim: ScimClient) -> None:
    created = scim.make_user()
    response = scim.patch_ops(f"/Users/{created['id']}", {"op": "Move", "path": "title"})
    assert_scim_error(response, 400, "invalidSyntax")


# -- the registry itself --------------------------------------------------------------------

COVERED_BY: dict[str, tuple[Callable[..., None], ...]] = {
    "onelogin-legacy-urns": (
        test_onelogin_legacy_urns_read_as_the_ietf_ones,
        test_onelogin_legacy_urns_in_patch_paths,
    ),
    "core-urn-wrapper": (test_core_attributes_nested_under_the_core_urn_are_lifted,),
    "urn-prefixed-keys": (
        test_urn_prefixed_keys_move_into_the_extension_object,
        test_entra_path_less_values_with_dotted_and_urn_prefixed_keys,
    ),
    "dotted-keys": (
        test_dotted_keys_in_a_body_move_into_their_complex_attribute,
        test_entra_path_less_values_with_dotted_and_urn_prefixed_keys,
    ),
    "op-name-case": (test_op_names_in_any_case, test_add_and_remove_in_any_case),
    "filtered-keys-in-value-objects": (test_a_filtered_key_in_a_value_object_becomes_an_operation,),
    "string-booleans": (test_booleans_as_strings_in_a_body, test_booleans_as_strings_in_a_patch),
    "bare-id-references": (test_a_manager_given_as_a_bare_id, test_members_given_as_bare_ids),
    "json-encoded-role-values": (test_an_entra_role_given_as_json_text_is_decoded,),
    "add-acts-as-replace": (test_add_on_a_single_valued_attribute_replaces_it,),
    "remove-members-by-value-array": (
        test_entra_remove_of_members_with_a_value_array_removes_only_those,
    ),
    "filtered-path-creates-item": (test_a_filtered_path_that_matches_nothing_creates_the_item,),
    "string-booleans-in-value-filters": (
        test_a_string_boolean_in_a_value_filter_compares_booleans,
    ),
    "read-only-attributes-ignored": (test_read_only_attributes_in_bodies_are_ignored,),
    "password-ignored": (test_okta_password_placeholder_is_never_stored,),
    "unknown-schema-uris": (test_unknown_schema_uris_are_ignored,),
    "extension-urn-missing-from-schemas": (
        test_an_extension_urn_missing_from_schemas_still_counts,
    ),
    "unknown-attributes-ignored": (test_unknown_attributes_are_ignored,),
    "case-insensitive-attribute-names": (test_attribute_names_in_any_case_are_stored_canonically,),
    "case-insensitive-filter-operators": (test_filter_operators_in_any_case,),
    "bare-filter-values": (test_bare_filter_values,),
    "any-content-type": (test_any_content_type_is_read_as_json,),
    "trailing-slash-collections": (test_a_trailing_slash_on_a_collection_is_the_collection,),
    "idempotent-member-changes": (test_repeated_member_adds_and_removes_change_nothing,),
    "put-without-active-keeps-state": (test_a_put_without_active_keeps_the_state,),
}


def test_every_tolerance_has_a_test() -> None:
    assert set(COVERED_BY) == set(BY_NAME)
    assert len(BY_NAME) == len(TOLERANCES)


def test_every_tolerance_is_documented_in_compatibility_md() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", text, re.MULTILINE))
    assert documented == set(BY_NAME)
    for tolerance in TOLERANCES:
        section = text.split(f"### `{tolerance.name}`", 1)[1].split("\n### ", 1)[0]
        assert tolerance.where in section, tolerance.name


def test_every_tolerance_names_its_idps_and_source_and_real_code() -> None:
    for tolerance in TOLERANCES:
        assert tolerance.idps, tolerance.name
        assert all(idp in IDP_NAMES or idp == "generic" for idp in tolerance.idps), tolerance.name
        assert tolerance.source, tolerance.name
        assert tolerance.summary, tolerance.name
        assert tolerance.applies_to, tolerance.name
        rewrites = [tolerance.resource, tolerance.operation, tolerance.value]
        assert any(rewrites) != (tolerance.implemented_in is not None), tolerance.name
        module_name, _, attr = tolerance.where.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attr)), tolerance.where
