"""When two userNames name the same user: one rule for uniqueness, filters and search.

RFC 7643 §4.1.1 makes ``userName`` unique per service provider and
case-insensitive, without saying what case means beyond ASCII. scimgate
follows the mappings of the PRECIS UsernameCaseMapped profile (RFC 8265
§3.3.2), in Python, so SQLite and PostgreSQL never disagree:

1. format characters (general category Cf: U+200B ZERO WIDTH SPACE, U+200D
   ZERO WIDTH JOINER, U+FEFF...) are dropped;
2. fullwidth and halfwidth forms map to their ordinary width (fullwidth
   ``example`` is ``example``), the PRECIS width mapping; the rest of NFKC is
   not applied, so ligatures, superscripts and letterlike symbols stay distinct;
3. surrounding white space is trimmed;
4. letters are lower-cased by Unicode's locale-independent toLowerCase, not
   case-folded: ``STRASSE`` and ``straße`` are two names (``Masse`` and
   ``Maße`` are two words), ``I`` and ``i`` are one, dotless i (U+0131) stays apart, and
   ``İ`` lowers to ``i`` with U+0307 COMBINING DOT ABOVE, apart from both;
5. the result is put in Normalization Form C, so a precomposed ``é`` and
   ``e`` + U+0301 are one name.

The name is stored as the client sent it (an IdP that reads back something
other than what it wrote would update it again) beside its folded form, which
holds the unique index. On write, ``check_user_name`` refuses what folding
would hide: a name with format characters, or one that folds to nothing.
"""

from __future__ import annotations

import unicodedata

from scimgate.errors import InvalidValue

_WIDTH_TAGS = ("<wide> ", "<narrow> ")


def _map(text: str) -> str:
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) == "Cf":
            continue
        decomposition = unicodedata.decomposition(char)
        if decomposition.startswith(_WIDTH_TAGS):
            char = chr(int(decomposition.partition(" ")[2], 16))
        out.append(char)
    return "".join(out)


def _finish(text: str) -> str:
    return unicodedata.normalize("NFC", text.lower())


def fold_user_name(text: str) -> str:
    """The form two userNames share exactly when they name the same user."""
    if text.isascii():
        return text.strip().lower()
    return _finish(_map(text).strip())


def fold_user_name_part(text: str) -> str:
    """A piece of a userName (what ``sw``, ``co`` and ``ew`` look for) folded like a
    whole one, but not trimmed: a space inside a name is part of it."""
    if text.isascii():
        return text.lower()
    return _finish(_map(text))


def check_user_name(text: str) -> None:
    """Refuse a userName that folding would silently change beyond case, width
    and form: invisible characters, or nothing left after trimming."""
    hidden = sorted({char for char in text if unicodedata.category(char) == "Cf"})
    if hidden:
        names = ", ".join(f"U+{ord(char):04X}" for char in hidden)
        raise InvalidValue(f"userName must not contain invisible format characters ({names})")
    if not fold_user_name(text):
        raise InvalidValue("userName is required")
