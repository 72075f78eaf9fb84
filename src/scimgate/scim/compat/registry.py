"""The named tolerances: what scimgate accepts beyond RFC 7643/7644, who needs it, why.

Every deviation from the RFCs that scimgate tolerates for an identity
provider is one ``Tolerance`` here. Most are rewrites in this package, run
by the routes before the service call (``bodies``): the model then only sees
RFC-shaped requests. The others are part of an algorithm that lives
elsewhere (the filter tokenizer, PATCH on filtered paths, membership rows)
and are listed with ``implemented_in`` pointing at it, so that
docs/reference/compatibility.md can be checked against this list.

A new IdP quirk is one entry here (with its function) plus a sample file
under tests/samples/<idp>/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import scimgate.scim.compat.keys as keys
from scimgate.model.idp import ENTRA, GOOGLE, JUMPCLOUD, OKTA, ONELOGIN, PING, SAILPOINT
from scimgate.scim.compat.shape import Shape
from scimgate.scim.compat.values import (
    BARE_ID_REFERENCES,
    JSON_ENCODED_ROLE_VALUES,
    STRING_BOOLEANS,
    ValueFix,
)

ResourceRewrite = Callable[[dict[Any, Any], Shape], None]
OperationRewrite = Callable[[dict[Any, Any], Shape], "list[dict[Any, Any]] | None"]
Applies = Literal["resource", "patch", "filter", "request"]
GENERIC = "generic"  # no IdP documented; kept because clients were seen sending it


@dataclass(frozen=True, slots=True)
class Tolerance:
    """One tolerance. ``applies_to``: which requests it concerns — resource
    bodies (POST/PUT), PATCH bodies, filters, or the request itself.
    ``resource`` rewrites the keys of resource-shaped objects (bodies and
    path-less PATCH values; it may only concern keys holding ``:`` or ``.``,
    as the driver skips objects without such keys), ``operation`` one PATCH
    operation, ``value`` one attribute value wherever it appears; an entry
    without any of them names the code that implements it in
    ``implemented_in``."""

    name: str
    idps: tuple[str, ...]
    source: str
    summary: str
    applies_to: tuple[Applies, ...]
    resource: ResourceRewrite | None = None
    operation: OperationRewrite | None = None
    value: ValueFix | None = None
    implemented_in: str | None = None

    @property
    def where(self) -> str:
        """The dotted name of the code that implements it."""
        if self.implemented_in is not None:
            return self.implemented_in
        fn = self.resource or self.operation or (self.value.fix if self.value else None)
        assert fn is not None
        return f"{fn.__module__}.{fn.__qualname__}"


_COMPAT_DOC = (
    "MicrosoftDocs/entra-docs application-provisioning-config-problem-scim-compatibility.md"
)
_ENTRA_DOC = "MicrosoftDocs/entra-docs use-scim-to-provision-users-and-groups.md"
_MS_TESTS = "AzureAD/SCIMReferenceCode PostmanCollection.json"
_OKTA_DOC = "okta/okta-developer-docs docs/reference/scim/scim-20"

TOLERANCES: tuple[Tolerance, ...] = (
    # -- rewrites in this package, in the order they run ---------------------------------
    Tolerance(
        "onelogin-legacy-urns",
        (ONELOGIN,),
        "OneLogin SCIM JSON templates (idp-behaviour notes: urn:scim:schemas:core:2.0 seen)",
        "`urn:scim:schemas:core:2.0` and `urn:scim:schemas:extension:enterprise:2.0` "
        "in keys and PATCH paths read as the IETF URNs.",
        ("resource", "patch"),
        resource=keys.rename_legacy_urns,
        operation=keys.rename_legacy_urn_in_path,
    ),
    Tolerance(
        "core-urn-wrapper",
        (GENERIC,),
        "generic SCIM clients; no IdP documents it",
        "Core attributes nested in an object under the core schema URN are lifted "
        "to the top level.",
        ("resource", "patch"),
        resource=keys.unwrap_core_urn,
    ),
    Tolerance(
        "urn-prefixed-keys",
        (ENTRA,),
        f"{_ENTRA_DOC} (custom attributes `urn:ietf:params:scim:schemas:extension:<Name>:"
        "2.0:User:<attr>`); aadOptscim062020 path-less PATCH values",
        "Keys such as `urn:...:enterprise:2.0:User:employeeNumber` move into the object "
        "under their extension URN (unknown, unregistered extensions are still ignored).",
        ("resource", "patch"),
        resource=keys.nest_urn_prefixed_keys,
    ),
    Tolerance(
        "dotted-keys",
        (ENTRA,),
        f"{_COMPAT_DOC} (aadOptscim062020: `name.givenName` in path-less PATCH values)",
        "Keys such as `name.givenName` move into their single-valued complex attribute.",
        ("resource", "patch"),
        resource=keys.nest_dotted_keys,
    ),
    Tolerance(
        "op-name-case",
        (ENTRA,),
        f'{_COMPAT_DOC}; {_MS_TESTS} (`"op": "Replace"`)',
        "PATCH `op` in any letter case (`Replace`, `Add`, `Remove`).",
        ("patch",),
        operation=keys.lower_case_op,
    ),
    Tolerance(
        "filtered-keys-in-value-objects",
        (GENERIC,),
        "generic SCIM clients; no IdP documents it",
        "A path-less PATCH value key that is a filtered path "
        '(`emails[type eq "work"].value`) becomes an operation with that path.',
        ("patch",),
        operation=keys.split_filtered_keys,
    ),
    Tolerance(
        "string-booleans",
        (ENTRA,),
        f'{_COMPAT_DOC} (`"value": "False"`); {_MS_TESTS} (`"active": "True"` on POST)',
        'Booleans given as `"True"`/`"False"` in any letter case.',
        ("resource", "patch"),
        value=STRING_BOOLEANS,
    ),
    Tolerance(
        "bare-id-references",
        (ENTRA,),
        f'{_ENTRA_DOC} (`"manager": "<id>"`); {_MS_TESTS} (member added as a bare id)',
        'A manager or a member given as a bare id string is `{"value": id}`.',
        ("resource", "patch"),
        value=BARE_ID_REFERENCES,
    ),
    Tolerance(
        "json-encoded-role-values",
        (ENTRA,),
        f"{_ENTRA_DOC} (app-role assignments in PATCH)",
        "A role or entitlement whose value is a JSON object encoded as a string is decoded.",
        ("resource", "patch"),
        value=JSON_ENCODED_ROLE_VALUES,
    ),
    # -- implemented where the algorithm lives ---------------------------------------------
    Tolerance(
        "add-acts-as-replace",
        (ENTRA, SAILPOINT),
        f'RFC 7644 §3.5.2.1; {_COMPAT_DOC} (`"Add"` on an empty attribute); SailPoint '
        'disables with `{"op": "add", "value": {"active": false}}`',
        "`add` on a single-valued attribute replaces its value.",
        ("patch",),
        implemented_in="scimgate.model.patch_apply.apply_target",
    ),
    Tolerance(
        "remove-members-by-value-array",
        (ENTRA,),
        f"{_COMPAT_DOC} (default `Remove` of members with a value array)",
        '`remove` of `members` (or `roles`) with `"value": [...]` removes just those, '
        "never all of them.",
        ("patch",),
        implemented_in="scimgate.model.patch_members.split_member_operations",
    ),
    Tolerance(
        "filtered-path-creates-item",
        (ENTRA,),
        f'{_COMPAT_DOC} (`emails[type eq "work"].value` on a user without a work email)',
        "add/replace on a value filter that matches nothing creates the item from the "
        "filter's `eq` terms.",
        ("patch",),
        implemented_in="scimgate.model.patch_apply.apply_target",
    ),
    Tolerance(
        "string-booleans-in-value-filters",
        (ENTRA,),
        f'{_ENTRA_DOC} (`roles[primary eq "True"]`)',
        'A value filter comparing a boolean sub-attribute with `"True"`/`"False"` '
        "compares booleans.",
        ("patch",),
        implemented_in="scimgate.model.patch_apply.typed_filter",
    ),
    Tolerance(
        "read-only-attributes-ignored",
        (OKTA, ENTRA),
        f"RFC 7643 §2.2; {_OKTA_DOC} (`id` in every group rename); {_ENTRA_DOC} "
        "(`meta` in create bodies)",
        "`id`, `meta`, `groups` and other read-only attributes in bodies are ignored.",
        ("resource", "patch"),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "password-ignored",
        (OKTA,),
        f"{_OKTA_DOC} (a meaningless `password` in every create)",
        "`password` is accepted and never stored.",
        ("resource", "patch"),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "unknown-schema-uris",
        (ENTRA, ONELOGIN),
        f"{_ENTRA_DOC} (`http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/"
        "2.0/Group` in group creates); OneLogin templates",
        "URIs in `schemas` that scimgate does not know are ignored.",
        ("resource",),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "extension-urn-missing-from-schemas",
        (ENTRA,),
        f"{_ENTRA_DOC} (custom extension attributes whose URN is not in `schemas`)",
        "Extension attributes count whether or not their URN is listed in `schemas`.",
        ("resource",),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "unknown-attributes-ignored",
        (ENTRA,),
        f"{_MS_TESTS} (PUT with a misspelled attribute must answer 200)",
        "Attributes no schema defines are ignored, not refused.",
        ("resource",),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "case-insensitive-attribute-names",
        (ENTRA, PING),
        f'RFC 7643 §2.1; {_MS_TESTS} (`"Primary"`, `"Manager": {{"Value": ..}}`)',
        "Attribute names in bodies, paths and filters match in any letter case and are "
        "stored in their canonical spelling.",
        ("resource", "patch", "filter"),
        implemented_in="scimgate.model.validation.normalize_resource",
    ),
    Tolerance(
        "case-insensitive-filter-operators",
        (PING,),
        'RFC 7644 §3.4.2.2; PingOne sends `username Eq "%s"`',
        "Filter operators and `and`/`or`/`not` in any letter case.",
        ("filter",),
        implemented_in="scimgate.model.filter.parse_filter",
    ),
    Tolerance(
        "bare-filter-values",
        (ENTRA,),
        f"{_MS_TESTS} (`userName sw O`, `emails.Value co example.com`, "
        "`meta.Created gt 2015-10-10T00:00:00Z`)",
        "An unquoted value after a filter operator is read as a string (numbers, "
        "dateTimes and true/false/null keep their type).",
        ("filter",),
        implemented_in="scimgate.model.filter.parse_filter",
    ),
    Tolerance(
        "any-content-type",
        (GOOGLE, ENTRA),
        "Google sends `application/json`; Entra's Test Connection may send no content type",
        "Request bodies are read as JSON whatever their content type.",
        ("request",),
        implemented_in="scimgate.scim.params.read_json_object",
    ),
    Tolerance(
        "trailing-slash-collections",
        (ENTRA,),
        f"{_MS_TESTS} (`GET /Users/?filter=DisplayName+eq+...`)",
        "`/Users/` and `/Groups/` answer like `/Users` and `/Groups`.",
        ("request",),
        implemented_in="scimgate.scim.routes.scim_routes",
    ),
    Tolerance(
        "idempotent-member-changes",
        (JUMPCLOUD, OKTA),
        "JumpCloud repeats member adds; Okta re-sends memberships on Push Now",
        "Adding a present member or removing an absent one succeeds and changes nothing.",
        ("patch",),
        implemented_in="scimgate.service.groups.patch_group",
    ),
    Tolerance(
        "put-without-active-keeps-state",
        (ONELOGIN, PING),
        "OneLogin templates and PingFederate PUTs may leave `active` out",
        "A PUT without `active` keeps the user's current state.",
        ("resource",),
        implemented_in="scimgate.service.users.replace_user",
    ),
)

BY_NAME: dict[str, Tolerance] = {t.name: t for t in TOLERANCES}
RESOURCE_REWRITES: tuple[ResourceRewrite, ...] = tuple(
    t.resource for t in TOLERANCES if t.resource is not None
)
OPERATION_REWRITES: tuple[OperationRewrite, ...] = tuple(
    t.operation for t in TOLERANCES if t.operation is not None
)
VALUE_FIXES: tuple[ValueFix, ...] = tuple(t.value for t in TOLERANCES if t.value is not None)
