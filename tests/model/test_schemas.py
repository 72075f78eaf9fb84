from __future__ import annotations

import pytest

from scimgate.model.schemas import (
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER,
    ENTERPRISE_USER_SCHEMA,
    GROUP,
    GROUP_SCHEMA,
    RESOURCE_TYPES,
    SCHEMAS,
    USER,
    USER_SCHEMA,
    Attribute,
    ResourceType,
    Schema,
    resolve,
)

ENTERPRISE = ENTERPRISE_USER_SCHEMA


def _attr(rt: ResourceType, name: str) -> Attribute:
    attr = rt.schema.attribute(name)
    assert attr is not None
    return attr


def _sub(attr: Attribute, name: str) -> Attribute:
    sub = attr.sub(name)
    assert sub is not None
    return sub


def test_user_schema_lists_every_rfc_attribute_in_order() -> None:
    assert [a.name for a in USER.schema.attributes] == [
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "password",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ]


def test_user_name_is_required_unique_and_case_insensitive() -> None:
    user_name = _attr(USER, "userName")
    assert user_name.required
    assert user_name.uniqueness == "server"
    assert not user_name.case_exact


def test_name_has_the_six_rfc_sub_attributes() -> None:
    assert [s.name for s in _attr(USER, "name").sub_attributes] == [
        "formatted",
        "familyName",
        "givenName",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
    ]


def test_password_is_write_only_and_never_returned() -> None:
    password = _attr(USER, "password")
    assert (password.mutability, password.returned) == ("writeOnly", "never")


def test_profile_url_is_an_external_reference() -> None:
    profile = _attr(USER, "profileUrl")
    assert (profile.type, profile.reference_types) == ("reference", ("external",))


def test_active_is_a_boolean() -> None:
    assert _attr(USER, "active").type == "boolean"


@pytest.mark.parametrize(
    ("attribute", "canonical"),
    [
        ("emails", ("work", "home", "other")),
        ("phoneNumbers", ("work", "home", "mobile", "fax", "pager", "other")),
        ("ims", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        ("photos", ("photo", "thumbnail")),
        ("addresses", ("work", "home", "other")),
        ("groups", ("direct", "indirect")),
    ],
)
def test_type_sub_attributes_carry_the_rfc_canonical_values(
    attribute: str, canonical: tuple[str, ...]
) -> None:
    assert _sub(_attr(USER, attribute), "type").canonical_values == canonical


def test_addresses_have_their_components_and_primary() -> None:
    assert [s.name for s in _attr(USER, "addresses").sub_attributes] == [
        "formatted",
        "streetAddress",
        "locality",
        "region",
        "postalCode",
        "country",
        "type",
        "primary",
    ]


def test_groups_and_all_their_sub_attributes_are_read_only() -> None:
    groups = _attr(USER, "groups")
    assert groups.mutability == "readOnly"
    assert [s.name for s in groups.sub_attributes] == ["value", "$ref", "display", "type"]
    assert {s.mutability for s in groups.sub_attributes} == {"readOnly"}


def test_certificate_values_are_binary_and_photo_values_references() -> None:
    assert _sub(_attr(USER, "x509Certificates"), "value").type == "binary"
    assert _sub(_attr(USER, "photos"), "value").type == "reference"


def test_plural_attributes_have_value_display_type_and_primary() -> None:
    for name in ("emails", "phoneNumbers", "ims", "photos", "entitlements", "roles"):
        attr = _attr(USER, name)
        assert attr.multi_valued
        assert [s.name for s in attr.sub_attributes] == ["value", "display", "type", "primary"]


def test_enterprise_manager_is_complex_with_a_read_only_display_name() -> None:
    manager = ENTERPRISE_USER.attribute("manager")
    assert manager is not None
    assert manager.type == "complex"
    assert [s.name for s in manager.sub_attributes] == ["value", "$ref", "displayName"]
    assert _sub(manager, "displayName").mutability == "readOnly"
    assert _sub(manager, "$ref").reference_types == ("User",)


def test_enterprise_schema_has_the_rfc_attributes() -> None:
    assert [a.name for a in ENTERPRISE_USER.attributes] == [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ]


def test_group_display_name_is_required_and_unique() -> None:
    display_name = _attr(GROUP, "displayName")
    assert display_name.required
    assert display_name.uniqueness == "server"


def test_group_members_sub_attributes_follow_the_rfc() -> None:
    members = _attr(GROUP, "members")
    assert members.multi_valued
    mutability = {s.name: s.mutability for s in members.sub_attributes}
    assert mutability == {
        "value": "immutable",
        "$ref": "immutable",
        "display": "readOnly",
        "type": "immutable",
    }
    assert _sub(members, "type").canonical_values == ("User", "Group")


def test_common_attributes_are_kept_out_of_schema_definitions() -> None:
    for schema in SCHEMAS:
        assert {"id", "externalid", "meta"}.isdisjoint(a.name.lower() for a in schema.attributes)
    assert [a.name for a in COMMON_ATTRIBUTES] == ["id", "externalId", "meta"]


def test_id_is_read_only_always_returned_case_exact_and_unique() -> None:
    id_attr = resolve(USER, "id").attribute
    assert (id_attr.mutability, id_attr.returned) == ("readOnly", "always")
    assert id_attr.case_exact
    assert id_attr.uniqueness == "server"


def test_external_id_is_case_exact() -> None:
    assert resolve(GROUP, "externalId").attribute.case_exact


def test_meta_is_read_only_with_its_five_sub_attributes() -> None:
    meta = resolve(USER, "meta").attribute
    assert meta.mutability == "readOnly"
    assert [s.name for s in meta.sub_attributes] == [
        "resourceType",
        "created",
        "lastModified",
        "location",
        "version",
    ]


def test_lookups_ignore_case_and_answer_none_for_unknown_names() -> None:
    emails = USER.schema.attribute("EMAILS")
    assert emails is not None
    assert emails.name == "emails"
    assert _sub(emails, "PrImArY").name == "primary"
    assert USER.schema.attribute("nope") is None
    assert emails.sub("nope") is None


@pytest.mark.parametrize(
    ("path", "schema", "attribute", "sub"),
    [
        ("userName", USER_SCHEMA, "userName", None),
        ("USERNAME", USER_SCHEMA, "userName", None),
        ("name.givenName", USER_SCHEMA, "name", "givenName"),
        ("Name.FamilyName", USER_SCHEMA, "name", "familyName"),
        ("emails.value", USER_SCHEMA, "emails", "value"),
        (f"{USER_SCHEMA}:name.givenName", USER_SCHEMA, "name", "givenName"),
        (f"{USER_SCHEMA.upper()}:USERNAME", USER_SCHEMA, "userName", None),
        (f"{ENTERPRISE}:manager.value", ENTERPRISE, "manager", "value"),
        (f"{ENTERPRISE}:employeeNumber", ENTERPRISE, "employeeNumber", None),
        (f"{ENTERPRISE.lower()}:MANAGER", ENTERPRISE, "manager", None),
        ("employeeNumber", ENTERPRISE, "employeeNumber", None),
        ("meta.lastModified", USER_SCHEMA, "meta", "lastModified"),
        ("id", USER_SCHEMA, "id", None),
        ("groups.display", USER_SCHEMA, "groups", "display"),
    ],
)
def test_resolve_accepts_plain_dotted_and_urn_prefixed_paths(
    path: str, schema: str, attribute: str, sub: str | None
) -> None:
    resolved = resolve(USER, path)
    assert resolved.schema.id == schema
    assert resolved.attribute.name == attribute
    assert (resolved.sub_attribute.name if resolved.sub_attribute else None) == sub


def test_group_paths_resolve_against_the_group_schema() -> None:
    assert resolve(GROUP, "members.value").schema.id == GROUP_SCHEMA
    assert resolve(GROUP, "meta.created").sub_attribute is not None
    assert resolve(GROUP, f"{GROUP_SCHEMA}:displayName").attribute.name == "displayName"


@pytest.mark.parametrize(
    "path",
    [
        ENTERPRISE,
        "nope",
        "name.nope",
        "name.givenName.more",
        "members",
        f"{USER_SCHEMA}:employeeNumber",
        f"{GROUP_SCHEMA}:userName",
        "urn:example:unknown:2.0:User:userName",
        "",
    ],
)
def test_resolve_raises_key_error_when_nothing_matches(path: str) -> None:
    with pytest.raises(KeyError):
        resolve(USER, path)


def test_unprefixed_names_prefer_the_core_schema_over_extensions() -> None:
    shadowing = Schema(
        id="urn:example:ext:2.0:User",
        name="Ext",
        description="",
        attributes=(Attribute("displayName", "string"), Attribute("badge", "string")),
    )
    rt = ResourceType("User", "/Users", "", USER.schema, extensions=(shadowing,))
    assert resolve(rt, "displayName").schema.id == USER_SCHEMA
    assert resolve(rt, "badge").schema.id == shadowing.id
    assert resolve(rt, "urn:example:ext:2.0:User:displayName").schema.id == shadowing.id


def test_resource_types_expose_their_extensions_by_urn() -> None:
    assert USER.extension(ENTERPRISE.upper()) is ENTERPRISE_USER
    assert GROUP.extension(ENTERPRISE) is None
    assert [rt.endpoint for rt in RESOURCE_TYPES] == ["/Users", "/Groups"]
