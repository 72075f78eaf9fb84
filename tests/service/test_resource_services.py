"""One service object per resource type: the SCIM callers find it, never branch on the type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scimgate.model.schemas import GROUP, RESOURCE_TYPES, USER
from scimgate.service.resource_services import SERVICES, bulk_target, service_for

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "scimgate"


def test_every_resource_type_has_its_service() -> None:
    assert [s.rt for s in SERVICES] == list(RESOURCE_TYPES)
    for rt in RESOURCE_TYPES:
        assert service_for(rt).rt is rt
    assert (service_for(USER).related, service_for(GROUP).related) == ("groups", "members")


@pytest.mark.parametrize(
    ("path", "rt", "resource_id"),
    [
        ("/Users", USER, None),
        ("/Groups", GROUP, None),
        ("/Users/2819c223", USER, "2819c223"),
        ("/Groups/bulkId:qwerty", GROUP, "bulkId:qwerty"),
    ],
)
def test_a_bulk_path_names_a_service_and_maybe_an_id(
    path: str, rt: object, resource_id: str | None
) -> None:
    target = bulk_target(path)
    assert target is not None
    assert (target[0].rt, target[1]) == (rt, resource_id)


@pytest.mark.parametrize(
    "path", ["/Users/", "/Users/a/b", "Users", "/users", "/Me", "/Schemas", "", "/"]
)
def test_any_other_bulk_path_names_nothing(path: str) -> None:
    assert bulk_target(path) is None


@pytest.mark.parametrize(
    "module",
    ["scim/routes.py", "scim/compat/bodies.py", "service/bulk.py", "service/listing.py"],
)
def test_the_scim_callers_do_not_branch_on_the_resource_type(module: str) -> None:
    source = (PACKAGE / module).read_text()
    assert not re.search(r"\b(is|==)\s+(USER|GROUP)\b|\"(Users|Groups)\"", source)
