"""The userName rule, as a pure function (RFC 8265 §3.3.2 mappings, toLowerCase)."""

# ruff: noqa: RUF001 - look-alike letters are what these tests are about

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scimgate.errors import InvalidValue
from scimgate.model.identity import check_user_name, fold_user_name, fold_user_name_part


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("BJensen", "bjensen"),
        ("Émile", "émile"),
        ("E\u0301mile", "émile"),
        ("STRASSE", "strasse"),
        ("Straße", "straße"),
        ("I", "i"),
        ("ı", "ı"),
        ("İ", "i\u0307"),
        ("ｅｘａｍｐｌｅ", "example"),
        ("ｶﾞ", "ガ"),
        ("ﬁ", "ﬁ"),
        ("  bob\t", "bob"),
        ("\u3000bob\u00a0", "bob"),
        ("b\u200bo\u200db\ufeff", "bob"),
        ("bob smith", "bob smith"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold_user_name(text) == folded


def test_a_part_is_not_trimmed() -> None:
    assert fold_user_name_part(" Ｓmith ") == " smith "


@given(st.text(max_size=12))
def test_folding_twice_changes_nothing(text: str) -> None:
    assert fold_user_name(fold_user_name(text)) == fold_user_name(text)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=12))
def test_ascii_names_fold_as_they_were_lowered_and_trimmed(text: str) -> None:
    assert fold_user_name(text) == text.strip().lower()


@pytest.mark.parametrize("text", ["bo\u200bb", "\u2060x", "x\u200e", "\u200b"])
def test_format_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue, match="invisible format characters"):
        check_user_name(text)


def test_plain_names_pass() -> None:
    check_user_name(" Émile ")
