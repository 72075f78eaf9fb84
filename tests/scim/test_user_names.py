"""userName matching beyond ASCII: uniqueness and filters agree on both databases.

The rule is ``model/identity.py``'s (docs/reference/scim.md, "userName matching").
"""

# ruff: noqa: RUF001 - look-alike letters are what these tests are about

from __future__ import annotations

import pytest

from tests.scim.contract import ScimClient, assert_scim_error

NFD_E = "e\u0301"

# (first userName, second userName, same user?)
CASES = [
    ("Émile", "émile", True),
    ("ÉMILE", "émile", True),
    ("émile", f"{NFD_E}mile", True),
    (f"{NFD_E}MILE", "Émile", True),
    ("STRASSE", "straße", False),
    ("strasse", "STRASSE", True),
    ("STRAẞE", "straße", True),
    ("Iris", "iris", True),
    ("ıris", "iris", False),
    ("İris", "iris", False),
    ("İris", "Iris", False),
    ("İris", "i\u0307ris", True),
    ("ｅｘａｍｐｌｅ", "example", True),
    ("ＥＸＡＭＰＬＥ", "example", True),
    ("ｶﾞ", "ガ", True),
    ("ﬁnn", "finn", False),
    (" bob ", "bob", True),
    ("bob\u3000", "BOB", True),
    ("bob smith", "bobsmith", False),
    ("ΟΔΟΣ", "οδος", True),
]


def _ids(scim: ScimClient, text: str) -> list[str]:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    response = scim.get("/Users", params={"filter": f'userName eq "{escaped}"'})
    assert response.status_code == 200, response.text
    return [user["id"] for user in response.json()["Resources"]]


@pytest.mark.parametrize(("first", "second", "same"), CASES)
def test_a_second_name_is_the_same_user_exactly_when_it_folds_alike(
    scim: ScimClient, first: str, second: str, same: bool
) -> None:
    created = scim.make_user(userName=first)
    response = scim.post("/Users", scim.user_body(userName=second))
    if same:
        assert_scim_error(response, 409, "uniqueness")
        assert _ids(scim, second) == [created["id"]]
    else:
        assert response.status_code == 201, response.text
        assert _ids(scim, second) == [response.json()["id"]]
    assert _ids(scim, first) == [created["id"]]


def test_the_name_is_returned_as_it_was_sent(scim: ScimClient) -> None:
    sent = f" {NFD_E}mile "
    created = scim.make_user(userName=sent)
    assert created["userName"] == sent
    assert scim.get(f"/Users/{created['id']}").json()["userName"] == sent


def test_renaming_onto_a_name_that_folds_alike_is_a_conflict(scim: ScimClient) -> None:
    scim.make_user(userName="Émile")
    other = scim.make_user(userName="zoe")
    rename = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "userName", "value": f"{NFD_E}MILE"}],
    }
    assert_scim_error(scim.patch(f"/Users/{other['id']}", rename), 409, "uniqueness")


@pytest.mark.parametrize(
    ("operator", "value", "found"),
    [
        ("sw", "émile.", True),
        ("sw", f"{NFD_E}MILE", True),
        ("co", "ZOË", True),
        ("co", "ｚｏ", True),
        ("ew", "zoe\u0308", True),
        ("ew", "zoe", False),
        ("sw", "emile", False),
        ("gt", "émile", True),
        ("lt", "émile", False),
    ],
)
def test_substring_and_order_filters_fold_the_value_like_the_name(
    scim: ScimClient, operator: str, value: str, found: bool
) -> None:
    created = scim.make_user(userName=f"{NFD_E}mile.Zoë")
    response = scim.get("/Users", params={"filter": f'userName {operator} "{value}"'})
    assert response.status_code == 200, response.text
    ids = [user["id"] for user in response.json()["Resources"]]
    assert ids == ([created["id"]] if found else [])


@pytest.mark.parametrize(
    ("user_name", "detail"),
    [
        ("bo\u200bb", "U+200B"),
        ("\ufeffbob", "U+FEFF"),
        ("zw\u200dj", "U+200D"),
        ("a\u00adb\u200bc", "U+00AD, U+200B"),
        ("\u200b", "U+200B"),
        (" \u3000 ", "required"),
    ],
)
def test_invisible_or_empty_names_are_refused(
    scim: ScimClient, user_name: str, detail: str
) -> None:
    response = scim.post("/Users", scim.user_body(userName=user_name))
    assert_scim_error(response, 400, "invalidValue")
    assert detail in response.json()["detail"]


def test_a_filter_value_with_invisible_characters_finds_the_plain_name(scim: ScimClient) -> None:
    created = scim.make_user(userName="bob")
    assert _ids(scim, "b\u200bob") == [created["id"]]
