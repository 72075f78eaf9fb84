"""The filter and PATCH-path grammar (RFC 7644 §3.4.2.2, §3.5.2) and in-memory matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scimgate.errors import InvalidFilter, InvalidPath
from scimgate.model.filter import (
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    parse_datetime,
    parse_filter,
    parse_path,
)
from scimgate.model.matching import matches
from scimgate.model.schemas import GROUP, USER, Attribute, resolve

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def eq(attr: str, value: object, sub: str | None = None, uri: str | None = None) -> Compare:
    return Compare(AttrPath(uri, attr, sub), "eq", value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "bjensen"', eq("userName", "bjensen")),
        (
            'name.familyName co "O\'Malley"',
            Compare(AttrPath(None, "name", "familyName"), "co", "O'Malley"),
        ),
        ('userName sw "J"', Compare(AttrPath(None, "userName", None), "sw", "J")),
        ("title pr", Present(AttrPath(None, "title"))),
        (
            'emails.value ew "@example.com"',
            Compare(AttrPath(None, "emails", "value"), "ew", "@example.com"),
        ),
        (
            'meta.lastModified ge "2011-05-13T04:42:34Z"',
            Compare(AttrPath(None, "meta", "lastModified"), "ge", "2011-05-13T04:42:34Z"),
        ),
        ("x ne 42", Compare(AttrPath(None, "x"), "ne", 42)),
        ("x lt -1.5e2", Compare(AttrPath(None, "x"), "lt", -150.0)),
        ("x le 0.25", Compare(AttrPath(None, "x"), "le", 0.25)),
        ("x gt 0", Compare(AttrPath(None, "x"), "gt", 0)),
        ("active eq true", eq("active", True)),
        ("active eq FALSE", eq("active", False)),
        ("title eq null", eq("title", None)),
        (r'title eq "a\"b\\c\u00e9\n"', eq("title", 'a"b\\cé\n')),
        ('title eq ""', eq("title", "")),
        ('  userName   eq   "x"  ', eq("userName", "x")),
        ('userName eq"x"', eq("userName", "x")),
        ('members.$ref eq "x"', eq("members", "x", sub="$ref")),
    ],
)
def test_each_comparison_parses_to_its_node(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


def test_attribute_names_and_operators_are_case_insensitive_and_kept_as_written() -> None:
    assert parse_filter('username Eq "x"') == eq("username", "x")
    assert parse_filter('USERNAME EQ "x" AND title PR') == And(
        eq("USERNAME", "x"), Present(AttrPath(None, "title"))
    )


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    a, b, c = (Present(AttrPath(None, name)) for name in "abc")
    assert parse_filter("a pr or b pr and c pr") == Or(a, And(b, c))
    assert parse_filter("a pr and b pr or c pr") == Or(And(a, b), c)
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(a, b), c)
    assert parse_filter("not (a pr) and b pr") == And(Not(a), b)
    assert parse_filter("not(a pr or b pr)") == Not(Or(a, b))
    assert parse_filter("a pr and b pr and c pr") == And(And(a, b), c)


def test_a_value_path_keeps_both_conditions_on_one_node() -> None:
    assert parse_filter('emails[type eq "work" and value co "@example.com"]') == ValuePath(
        AttrPath(None, "emails"),
        And(eq("type", "work"), Compare(AttrPath(None, "value"), "co", "@example.com")),
    )
    assert parse_filter(
        'userType eq "Employee" and emails[type eq "work" or not (primary pr)]'
    ) == And(
        eq("userType", "Employee"),
        ValuePath(
            AttrPath(None, "emails"),
            Or(eq("type", "work"), Not(Present(AttrPath(None, "primary")))),
        ),
    )


def test_urn_prefixed_paths_split_at_the_last_colon() -> None:
    assert parse_filter(f'{ENTERPRISE}:employeeNumber eq "1"') == eq(
        "employeeNumber", "1", uri=ENTERPRISE
    )
    assert parse_filter(f'{ENTERPRISE}:manager.value eq "26118915"') == eq(
        "manager", "26118915", "value", ENTERPRISE
    )
    core = "urn:ietf:params:scim:schemas:core:2.0:User"
    assert parse_filter(f"{core}:name.givenName pr") == Present(AttrPath(core, "name", "givenName"))
    assert AttrPath(ENTERPRISE, "manager", "value").text == f"{ENTERPRISE}:manager.value"


def test_an_unquoted_date_time_is_read_as_a_string() -> None:
    assert parse_filter("meta.Created gt 2015-10-10T00:00:00Z") == Compare(
        AttrPath(None, "meta", "Created"), "gt", "2015-10-10T00:00:00Z"
    )
    assert parse_filter("meta.created lt 2015-10-10T00:00:00.123+02:00 or a pr").left == Compare(  # type: ignore[union-attr]
        AttrPath(None, "meta", "created"), "lt", "2015-10-10T00:00:00.123+02:00"
    )


def test_an_unquoted_value_after_an_operator_is_read_as_a_string() -> None:
    """Microsoft's reference tests send bare words: after an operator only a value can stand."""
    assert parse_filter("userName sw O") == Compare(AttrPath(None, "userName"), "sw", "O")
    assert parse_filter("emails.Value co example.com") == Compare(
        AttrPath(None, "emails", "Value"), "co", "example.com"
    )
    assert parse_filter("userName eq b@x.org and title eq and") == And(
        eq("userName", "b@x.org"), eq("title", "and")
    )
    assert parse_filter("emails[type eq work]") == ValuePath(
        AttrPath(None, "emails"), eq("type", "work")
    )


def test_unquoted_literals_numbers_and_dates_keep_their_type() -> None:
    assert parse_filter("active eq True").value is True  # type: ignore[union-attr]
    assert parse_filter("manager eq null").value is None  # type: ignore[union-attr]
    assert parse_filter("level gt 5").value == 5  # type: ignore[union-attr]
    assert parse_filter("level gt 5x").value == "5x"  # type: ignore[union-attr]
    assert parse_filter("meta.created gt 2015-10-10T14:38:21.8617979-07:00").value == (  # type: ignore[union-attr]
        "2015-10-10T14:38:21.8617979-07:00"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("userName eq", "expected a value"),
        ("userName eq )", "expected a value"),
        ("userName eq \x01", "unexpected character"),
        ('userName eq "x" title pr', "expected 'and', 'or' or the end of the filter at column 17"),
        ('userName "x"', "expected an operator"),
        (
            'userName like "x"',
            "expected an operator (eq ne co sw ew gt ge lt le pr) at column 10, found 'like'",
        ),
        ('(userName eq "x"', "expected ')' at column 17"),
        ('userName eq "x")', "column 16"),
        ("not title pr", "expected an operator"),
        ('userName eq "x" and', "expected an attribute path"),
        ('userName eq "unterminated', "unterminated or malformed string at column 13"),
        (r'userName eq "bad \q escape"', "invalid escape in the string at column 13"),
        (r'userName eq "\ud800"', "forbidden character"),
        (r'userName eq "\u0000"', "forbidden character"),
        ('userName eq "tab\there"', "malformed string"),
        ("userName eq 1e999", "number out of range"),
        ('userName ~ "x"', "unexpected character '~' at column 10"),
        ('x:y eq "1"', "URI prefix must start with 'urn:'"),
        ('name. eq "1"', "invalid attribute path"),
        ('name.given.family eq "1"', "invalid attribute path"),
        ('emails[type eq "work"].value eq "x"', "no '.sub' after '[...]' here"),
        ("emails[addresses[type pr]]", "a value filter cannot be nested at column 8"),
        ('emails[type eq "work"', "expected ']'"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_a_malformed_filter_says_what_and_where(text: str, where: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert where in caught.value.detail
    assert caught.value.scim_type == "invalidFilter"


def test_the_length_limit_is_enforced_before_parsing() -> None:
    text = 'userName eq "' + "x" * 5000 + '"'
    with pytest.raises(InvalidFilter, match="longer than 4096"):
        parse_filter(text)
    assert parse_filter(text, max_length=6000) == eq("userName", "x" * 5000)


def test_nesting_beyond_the_depth_limit_is_refused_not_a_crash() -> None:
    assert parse_filter("(" * 32 + "a pr" + ")" * 32) == Present(AttrPath(None, "a"))
    with pytest.raises(InvalidFilter, match="deeper than 32"):
        parse_filter("(" * 33 + "a pr" + ")" * 33)
    with pytest.raises(InvalidFilter, match="deeper than 3"):
        parse_filter("not (not (not (not (a pr))))", max_depth=3)
    hostile = "not (" * 20000 + "a pr" + ")" * 20000
    with pytest.raises(InvalidFilter):
        parse_filter(hostile, max_length=10**6, max_depth=10**6)


def test_a_long_or_chain_becomes_a_shallow_tree() -> None:
    text = " or ".join(f'id eq "{index}"' for index in range(250))

    def depth(node: object) -> int:
        if isinstance(node, And | Or):
            return 1 + max(depth(node.left), depth(node.right))
        return 0

    tree = parse_filter(text)
    assert depth(tree) <= 10
    assert matches(tree, {"id": "249"})
    assert not matches(tree, {"id": "250"})


def test_parsed_filters_are_cached() -> None:
    text = 'userName eq "bjensen@example.com"'
    assert parse_filter(text) is parse_filter(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("members", PatchPath(AttrPath(None, "members"))),
        ("name.familyName", PatchPath(AttrPath(None, "name", "familyName"))),
        (
            'members[value eq "2819c223"]',
            PatchPath(AttrPath(None, "members"), eq("value", "2819c223")),
        ),
        (
            'emails[type eq "work"].value',
            PatchPath(AttrPath(None, "emails"), eq("type", "work"), "value"),
        ),
        (f"{ENTERPRISE}:employeeNumber", PatchPath(AttrPath(ENTERPRISE, "employeeNumber"))),
        (f"{ENTERPRISE}:manager.value", PatchPath(AttrPath(ENTERPRISE, "manager", "value"))),
        (
            'addresses[type eq "work" and not (primary eq false)].streetAddress',
            PatchPath(
                AttrPath(None, "addresses"),
                And(eq("type", "work"), Not(eq("primary", False))),
                "streetAddress",
            ),
        ),
    ],
)
def test_patch_paths_parse(text: str, expected: PatchPath) -> None:
    assert parse_path(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        'emails[type eq "work"].value.x',
        "a b",
        'emails[type eq "w"] x',
        "name.given.family",
        '"quoted"',
        "emails.value[type pr].x",
    ],
)
def test_a_malformed_patch_path_is_an_invalid_path(text: str) -> None:
    with pytest.raises(InvalidPath):
        parse_path(text)


@pytest.mark.parametrize("text", ["emails[", 'emails[type eq "work"', "emails[type[value pr]]"])
def test_a_malformed_filter_inside_a_patch_path_is_an_invalid_filter(text: str) -> None:
    """RFC 7644 §3.12 names invalidFilter for the filter of a PATCH path."""
    with pytest.raises(InvalidFilter):
        parse_path(text)


def test_parse_datetime_gives_aware_utc() -> None:
    assert parse_datetime("2015-10-10T00:00:00Z") == datetime(2015, 10, 10, tzinfo=UTC)
    assert parse_datetime("2015-10-10T02:00:00+02:00") == datetime(2015, 10, 10, tzinfo=UTC)
    assert parse_datetime("2015-10-10t00:00:00.5z") == datetime(
        2015, 10, 10, 0, 0, 0, 500000, tzinfo=UTC
    )
    assert parse_datetime("2015-10-10T00:00:00").tzinfo is UTC
    assert parse_datetime("2015-10-10T00:00:00-01:00").utcoffset() == timedelta(0)
    for bad in ["2015-10-10", "yesterday", "2015-13-10T00:00:00Z", "2015-10-10T25:00:00Z"]:
        with pytest.raises(InvalidFilter):
            parse_datetime(bad)


# ----------------------------------------------------------------- matching

EMAILS = USER.schema.attribute("emails")
MEMBERS = GROUP.schema.attribute("members")
WORK = {"value": "BJensen@Example.com", "type": "work", "primary": True}
HOME = {"value": "babs@jensen.org", "type": "home"}


@pytest.mark.parametrize(
    ("text", "item", "expected"),
    [
        ('type eq "work"', WORK, True),
        ('type eq "WORK"', WORK, True),
        ('TYPE eq "work"', WORK, True),
        ('type eq "work"', HOME, False),
        ('value co "@example"', WORK, True),
        ('value sw "bjensen"', WORK, True),
        ('value ew ".COM"', WORK, True),
        ('value ew ".com"', HOME, False),
        ('type ne "work"', HOME, True),
        ("primary eq true", WORK, True),
        ("primary eq true", HOME, False),
        ("primary ne true", HOME, True),
        ("primary eq false", HOME, False),
        ("primary pr", HOME, False),
        ("display pr", {"value": "x", "display": ""}, False),
        ('type eq "work" and value co "example"', WORK, True),
        ('type eq "work" and value co "jensen.org"', WORK, False),
        ('not (type eq "work")', HOME, True),
        ('type lt "hone"', HOME, True),
        ('type gt "hone"', HOME, False),
        ("type eq null", {"value": "x"}, True),
        ("type ne null", WORK, True),
    ],
)
def test_matches_one_item_of_a_multi_valued_attribute(
    text: str, item: dict[str, object], expected: bool
) -> None:
    assert matches(parse_filter(text), item, EMAILS) is expected


def test_matches_honours_case_exact_sub_attributes() -> None:
    member = {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs"}
    assert matches(parse_filter('value eq "2819c223-7f76-453a-919d-413861904646"'), member, MEMBERS)
    assert not matches(
        parse_filter('value eq "2819C223-7F76-453A-919D-413861904646"'), member, MEMBERS
    )
    assert matches(parse_filter('display eq "BABS"'), member, MEMBERS)
    # Without a definition every string compares case-insensitively.
    assert matches(parse_filter('value eq "2819C223-7F76-453A-919D-413861904646"'), member)


def test_matches_compares_numbers_and_date_times_by_value() -> None:
    item = {"n": 10, "at": "2015-10-10T02:00:00+02:00"}
    assert matches(parse_filter("n gt 9.5"), item)
    assert not matches(parse_filter("n lt 10"), item)
    assert matches(parse_filter("n ge 10 and n le 10"), item)
    assert not matches(parse_filter('n eq "10"'), item)
    meta = resolve(USER, "meta").attribute
    resource = {"meta": {"created": "2015-10-10T02:00:00+02:00"}}
    assert matches(parse_filter("meta.created eq 2015-10-10T00:00:00Z"), resource, _holder(meta))
    assert matches(parse_filter('meta.created lt "2015-10-10T00:00:01Z"'), resource, _holder(meta))


def _holder(*attributes: Attribute) -> Attribute:
    """A stand-in definition whose sub-attributes are a resource's attributes."""
    return Attribute("resource", "complex", sub_attributes=attributes)


def test_matches_walks_a_whole_resource_with_value_paths_and_urns() -> None:
    user = {
        "userName": "bjensen",
        "name": {"familyName": "Jensen"},
        "emails": [WORK, HOME],
        ENTERPRISE: {"department": "Sales"},
    }
    assert matches(parse_filter('emails[type eq "home" and value ew "jensen.org"]'), user)
    assert not matches(parse_filter('emails[type eq "home" and value ew "example.com"]'), user)
    assert matches(parse_filter('emails.value ew "example.com"'), user)
    assert matches(parse_filter('emails co "babs"'), user)
    assert not matches(parse_filter('emails ne "babs@jensen.org"'), user)
    assert matches(parse_filter(f'{ENTERPRISE}:department eq "sales"'), user)
    assert matches(
        parse_filter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "BJENSEN"'), user
    )
    assert not matches(parse_filter('urn:example:other:2.0:User:userName eq "bjensen"'), user)
    assert matches(parse_filter('nickName ne "x"'), user)
    assert not matches(parse_filter('nickName gt "a"'), user)
    assert matches(parse_filter("NAME.FAMILYNAME pr and not (name.givenName pr)"), user)


@pytest.mark.parametrize(
    "text",
    [
        "primary gt true",
        'primary eq "true"',
        "value co 5",
        'value co "jensen" and primary le false',
        "value gt null",
    ],
)
def test_matches_refuses_comparisons_the_type_cannot_take(text: str) -> None:
    with pytest.raises(InvalidFilter):
        matches(parse_filter(text), WORK, EMAILS)


def test_a_date_time_filter_value_must_be_a_date_time() -> None:
    meta = resolve(USER, "meta").attribute
    with pytest.raises(InvalidFilter, match="xsd:dateTime"):
        matches(parse_filter('meta.created gt "last week"'), {"meta": {}}, _holder(meta))
