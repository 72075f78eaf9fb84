"""SCIM schema definitions (RFC 7643 §4, §7, §8.7) as immutable Python data.

The core User and Group schemas, the Enterprise User extension and the common
attributes every resource carries (``id``, ``externalId``, ``meta``). Each
object builds its lower-cased lookup tables once, when it is created, so that
``Attribute.sub``, ``Schema.attribute`` and ``resolve`` are single dict
lookups on the request path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition (RFC 7643 §7). ``name`` is the canonical spelling."""

    name: str
    type: str  # string boolean decimal integer dateTime binary reference complex
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly readWrite immutable writeOnly
    returned: str = "default"  # always never default request
    uniqueness: str = "none"  # none server global
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""
    _subs: dict[str, Attribute] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subs", {a.name.lower(): a for a in self.sub_attributes})

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (case-insensitive), or None."""
        return self._subs.get(name.lower())


@dataclass(frozen=True, slots=True)
class Schema:
    id: str  # the schema URN
    name: str
    description: str
    attributes: tuple[Attribute, ...] = field(repr=False)
    _index: dict[str, Attribute] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {a.name.lower(): a for a in self.attributes})

    def attribute(self, name: str) -> Attribute | None:
        """The top-level attribute called ``name`` (case-insensitive), or None."""
        return self._index.get(name.lower())


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """An attribute path resolved against a resource type.

    ``schema`` is the schema the attribute belongs to (core or an extension);
    ``attribute`` is the top-level attribute; ``sub_attribute`` is set for
    ``name.givenName`` style paths. Common attributes (id, externalId, meta)
    resolve against the core schema.
    """

    schema: Schema
    attribute: Attribute
    sub_attribute: Attribute | None = None


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str  # "User", "Group"
    endpoint: str  # "/Users", "/Groups"
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()
    required_extensions: frozenset[str] = field(default_factory=frozenset)
    _paths: dict[str, ResolvedPath] = field(init=False, repr=False, compare=False, hash=False)
    _extension_index: dict[str, Schema] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths", _path_index(self.schema, self.extensions))
        object.__setattr__(self, "_extension_index", {s.id.lower(): s for s in self.extensions})

    def extension(self, urn: str) -> Schema | None:
        """The extension schema whose URN is ``urn`` (case-insensitive), or None."""
        return self._extension_index.get(urn.lower())


def _path_index(core: Schema, extensions: tuple[Schema, ...]) -> dict[str, ResolvedPath]:
    """Every spelling ``resolve`` accepts, lower-cased, mapped to its answer.

    Unprefixed names go to the core schema first (it is indexed first and
    ``setdefault`` keeps the first claim), then to the extensions in order.
    """
    index: dict[str, ResolvedPath] = {}
    for schema in (core, *extensions):
        attributes = schema.attributes + COMMON_ATTRIBUTES if schema is core else schema.attributes
        prefix = schema.id.lower() + ":"
        for attr in attributes:
            paths = [(attr.name.lower(), ResolvedPath(schema, attr))]
            paths += [
                (f"{attr.name.lower()}.{sub.name.lower()}", ResolvedPath(schema, attr, sub))
                for sub in attr.sub_attributes
            ]
            for key, resolved in paths:
                index[prefix + key] = resolved
                index.setdefault(key, resolved)
    return index


def resolve(resource_type: ResourceType, path: str) -> ResolvedPath:
    """Resolve ``path`` (``userName``, ``name.givenName``, ``emails.value``,
    ``urn:...:enterprise:2.0:User:manager.value``, ``meta.lastModified``),
    case-insensitively. Raises ``KeyError`` when nothing matches."""
    return resource_type._paths[path.lower()]


# -- definitions ---------------------------------------------------------------


def _string(
    name: str,
    description: str,
    *,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    canonical_values: tuple[str, ...] = (),
) -> Attribute:
    return Attribute(
        name,
        "string",
        required=required,
        case_exact=case_exact,
        mutability=mutability,
        returned=returned,
        uniqueness=uniqueness,
        canonical_values=canonical_values,
        description=description,
    )


def _plural(
    name: str,
    description: str,
    *,
    value_type: str = "string",
    value_reference_types: tuple[str, ...] = (),
    type_values: tuple[str, ...] = (),
) -> Attribute:
    """The value/display/type/primary shape RFC 7643 §2.4 gives multi-valued attributes."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            Attribute(
                "value",
                value_type,
                case_exact=value_type in ("binary", "reference"),
                reference_types=value_reference_types,
                description="The attribute's significant value.",
            ),
            _string("display", "A human-readable name, for display only."),
            _string("type", "A label for the value's function.", canonical_values=type_values),
            Attribute(
                "primary",
                "boolean",
                description="Marks the preferred value; true appears at most once.",
            ),
        ),
    )


COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "id",
        "string",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
        description="The service provider's identifier of the resource.",
    ),
    _string(
        "externalId",
        "The provisioning client's identifier of the resource.",
        case_exact=True,
    ),
    Attribute(
        "meta",
        "complex",
        mutability="readOnly",
        description="Resource metadata maintained by the service provider.",
        sub_attributes=(
            _string(
                "resourceType",
                "The name of the resource's type.",
                case_exact=True,
                mutability="readOnly",
            ),
            Attribute(
                "created",
                "dateTime",
                mutability="readOnly",
                description="When the resource was added.",
            ),
            Attribute(
                "lastModified",
                "dateTime",
                mutability="readOnly",
                description="When the resource last changed.",
            ),
            Attribute(
                "location",
                "reference",
                case_exact=True,
                mutability="readOnly",
                reference_types=("uri",),
                description="The URI of the resource.",
            ),
            _string(
                "version",
                "The entity tag of the resource's current version.",
                case_exact=True,
                mutability="readOnly",
            ),
        ),
    ),
)
"""RFC 7643 §3.1: on every resource, but part of no schema definition."""


_NAME = Attribute(
    "name",
    "complex",
    description="The parts of the user's real name.",
    sub_attributes=(
        _string("formatted", "The full name as it is displayed."),
        _string("familyName", "The family (last) name."),
        _string("givenName", "The given (first) name."),
        _string("middleName", "The middle name or names."),
        _string("honorificPrefix", "The honorific prefix, such as 'Ms.'."),
        _string("honorificSuffix", "The honorific suffix, such as 'III'."),
    ),
)

_ADDRESSES = Attribute(
    "addresses",
    "complex",
    multi_valued=True,
    description="Physical mailing addresses of the user.",
    sub_attributes=(
        _string("formatted", "The full address as printed on a label."),
        _string("streetAddress", "The street part of the address."),
        _string("locality", "The city or locality."),
        _string("region", "The state or region."),
        _string("postalCode", "The postal code."),
        _string("country", "The country."),
        _string("type", "A label for the address.", canonical_values=("work", "home", "other")),
        Attribute(
            "primary",
            "boolean",
            description="Marks the preferred address; true appears at most once.",
        ),
    ),
)

_GROUPS = Attribute(
    "groups",
    "complex",
    multi_valued=True,
    mutability="readOnly",
    description="The groups the user belongs to, maintained through Group membership.",
    sub_attributes=(
        _string("value", "The id of the group.", case_exact=True, mutability="readOnly"),
        Attribute(
            "$ref",
            "reference",
            case_exact=True,
            mutability="readOnly",
            reference_types=("Group",),
            description="The URI of the group.",
        ),
        _string("display", "The group's display name.", mutability="readOnly"),
        _string(
            "type",
            "How the user belongs to the group.",
            mutability="readOnly",
            canonical_values=("direct", "indirect"),
        ),
    ),
)

USER_CORE = Schema(
    id=USER_SCHEMA,
    name="User",
    description="User Account",
    attributes=(
        _string(
            "userName",
            "The user's unique sign-in name; required and unique within the tenant.",
            required=True,
            uniqueness="server",
        ),
        _NAME,
        _string("displayName", "The name of the user as shown to people."),
        _string("nickName", "The casual name of the user."),
        Attribute(
            "profileUrl",
            "reference",
            case_exact=True,
            reference_types=("external",),
            description="The URL of the user's online profile.",
        ),
        _string("title", "The user's job title."),
        _string("userType", "The user's relationship to the organization."),
        _string("preferredLanguage", "The user's preferred language, such as 'en-US'."),
        _string("locale", "The user's locale for formatting, such as 'en-US'."),
        _string("timezone", "The user's IANA time zone, such as 'Europe/Paris'."),
        Attribute("active", "boolean", description="Whether the user may sign in."),
        _string(
            "password",
            "A password to set; never stored or returned by this server.",
            case_exact=True,
            mutability="writeOnly",
            returned="never",
        ),
        _plural("emails", "Email addresses.", type_values=("work", "home", "other")),
        _plural(
            "phoneNumbers",
            "Phone numbers.",
            type_values=("work", "home", "mobile", "fax", "pager", "other"),
        ),
        _plural(
            "ims",
            "Instant messaging addresses.",
            type_values=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
        ),
        _plural(
            "photos",
            "URLs of photos of the user.",
            value_type="reference",
            value_reference_types=("external",),
            type_values=("photo", "thumbnail"),
        ),
        _ADDRESSES,
        _GROUPS,
        _plural("entitlements", "Things the user is entitled to."),
        _plural("roles", "Roles the user holds."),
        _plural("x509Certificates", "X.509 certificates issued to the user.", value_type="binary"),
    ),
)

ENTERPRISE_USER = Schema(
    id=ENTERPRISE_USER_SCHEMA,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _string("employeeNumber", "The identifier the organization gives the user."),
        _string("costCenter", "The user's cost center."),
        _string("organization", "The user's organization."),
        _string("division", "The user's division."),
        _string("department", "The user's department."),
        Attribute(
            "manager",
            "complex",
            description="The user's manager, another User of the same tenant.",
            sub_attributes=(
                _string("value", "The id of the manager.", required=True, case_exact=True),
                Attribute(
                    "$ref",
                    "reference",
                    case_exact=True,
                    reference_types=("User",),
                    description="The URI of the manager.",
                ),
                _string("displayName", "The manager's display name.", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_CORE = Schema(
    id=GROUP_SCHEMA,
    name="Group",
    description="Group",
    attributes=(
        _string(
            "displayName",
            "The group's name; required and unique within the tenant.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            description="The users and groups that belong to the group.",
            sub_attributes=(
                _string(
                    "value",
                    "The id of the member.",
                    case_exact=True,
                    mutability="immutable",
                ),
                Attribute(
                    "$ref",
                    "reference",
                    case_exact=True,
                    mutability="immutable",
                    reference_types=("User", "Group"),
                    description="The URI of the member.",
                ),
                _string("display", "The member's display name.", mutability="readOnly"),
                _string(
                    "type",
                    "The member's resource type.",
                    mutability="immutable",
                    canonical_values=("User", "Group"),
                ),
            ),
        ),
    ),
)

USER = ResourceType(
    name="User",
    endpoint="/Users",
    description="User Account",
    schema=USER_CORE,
    extensions=(ENTERPRISE_USER,),
)

GROUP = ResourceType(
    name="Group",
    endpoint="/Groups",
    description="Group",
    schema=GROUP_CORE,
)

SCHEMAS: tuple[Schema, ...] = (USER_CORE, ENTERPRISE_USER, GROUP_CORE)
"""What ``/Schemas`` lists."""

RESOURCE_TYPES: tuple[ResourceType, ...] = (USER, GROUP)
"""What ``/ResourceTypes`` lists."""
