"""SCIM filter and attribute-path grammar (RFC 7644 §3.4.2.2, §3.5.2) as an AST.

Parsing is a regex tokenizer plus a recursive-descent parser whose recursion
is bounded by ``max_depth`` (parentheses, ``not (...)`` and ``[...]`` each add
a level). Runs of ``and``/``or`` are read in a loop and folded into a balanced
tree, so a long ``id eq "a" or id eq "b" or ...`` list stays shallow for
every later tree walk.

Decisions beyond the ABNF:

* Attribute names, operators, ``and``/``or``/``not`` and ``true``/``false``/
  ``null`` are case-insensitive (ABNF literals are; PingOne sends ``Eq``).
  The AST keeps names as written; resolving them is the compilers' job.
* Values are JSON literals, but a value may also come unquoted
  (``userName sw O``, ``emails.Value co example.com``,
  ``meta.created gt 2015-10-10T00:00:00Z``), as Microsoft's reference tests
  send them. After a comparison operator the next token can only be a value,
  so the tokenizer reads everything up to the next blank, bracket or
  parenthesis as one: a number, a dateTime, ``true``/``false``/``null``
  (still literals), or else a string.
* ``not`` needs its parentheses (``not (a pr)``), as the ABNF says.
* A value filter cannot hold another value filter (RFC 7644 errata 5887).
* A URN-prefixed path splits at its last ``:`` (``urn:...:2.0:User:name.givenName``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from scimgate.errors import InvalidFilter, InvalidPath
from scimgate.model.schemas import Attribute

# A comparison value as parsed: str, bool, None (null), int, float.
# Typing a value against an attribute (dateTime, boolean) happens in the compilers.
Value = str | bool | int | float | None

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
SUBSTRING_OPS = frozenset({"co", "sw", "ew"})


@dataclass(frozen=True, slots=True)
class AttrPath:
    """``[urn:]attr[.sub]``. ``uri`` is the schema URN prefix when one was written."""

    uri: str | None
    attr: str
    sub: str | None = None

    @property
    def text(self) -> str:
        """The path in SCIM notation, as ``scimgate.model.schemas.resolve`` takes it."""
        name = f"{self.attr}.{self.sub}" if self.sub else self.attr
        return f"{self.uri}:{name}" if self.uri else name


@dataclass(frozen=True, slots=True)
class Compare:
    path: AttrPath
    op: str  # lower-cased: eq ne co sw ew gt ge lt le
    value: Value


@dataclass(frozen=True, slots=True)
class Present:
    path: AttrPath


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


@dataclass(frozen=True, slots=True)
class ValuePath:
    """``emails[type eq "work" and value co "@x.org"]``: ``filter``'s paths are
    relative to the multi-valued attribute ``path`` (their ``attr`` is the
    sub-attribute name)."""

    path: AttrPath
    filter: Expr


Expr = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True, slots=True)
class PatchPath:
    """A PATCH ``path`` (RFC 7644 §3.5.2): ``attr``, ``attr.sub``,
    ``attr[filter]``, ``attr[filter].sub``, each optionally URN-prefixed."""

    path: AttrPath  # the attribute (and sub-attribute when no filter is given)
    filter: Expr | None = None
    sub_after_filter: str | None = None  # the ``.sub`` after ``[filter]``


# --------------------------------------------------------------------------- lexer

_TOKEN = re.compile(
    r"""
    [ \t\r\n]*
    (?:
      (?P<str>"(?:[^"\\\x00-\x1f]|\\[^\x00-\x1f])*")
    | (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)
        (?=[ \t\r\n()\[\]]|$)
    | (?P<num>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=[ \t\r\n()\[\]]|$)
    | (?P<word>[A-Za-z$_][A-Za-z0-9$_:.\-]*)
    | (?P<sub>\.[A-Za-z$_][A-Za-z0-9$_\-]*)
    | (?P<punct>[()\[\]])
    | (?P<end>$)
    )
    """,
    re.VERBOSE,
)
# The overwhelmingly common shape, ``attr op "plain string"``, skips the tokenizer.
_SIMPLE = re.compile(
    r"[ \t\r\n]*([A-Za-z$_][A-Za-z0-9$_:.\-]*)[ \t\r\n]+([A-Za-z]{2})[ \t\r\n]*"
    r'"([^"\\\x00-\x1f]*)"[ \t\r\n]*\Z'
)
_NAME = re.compile(r"[A-Za-z$_][A-Za-z0-9$_\-]*\Z")
_LITERALS: dict[str, Value] = {"true": True, "false": False, "null": None}
# An unquoted value: the run of characters after an operator up to a blank,
# a bracket, a parenthesis or a quote; then typed by its whole shape.
_BARE = re.compile(r'[ \t\r\n]*([^\x00-\x20\x7f()\[\]"]+)')
_BARE_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\Z"
)
_BARE_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
_NOT_A_PATH = frozenset({"and", "or", "not"})

# (kind, text, column) — kind is str/dt/num/word/bare/sub/( /) /[ /]/end.
_Token = tuple[str, str, int]


class _SyntaxError(Exception):
    """Raised inside the parser; the public functions re-raise it typed."""


def _after_operator(tokens: list[_Token]) -> bool:
    """Whether the next token stands where only a value can: right after
    ``path op`` (``pr`` takes no value)."""
    if len(tokens) < 2:
        return False
    op_kind, op, _ = tokens[-1]
    path_kind, path, _ = tokens[-2]
    return (
        op_kind == "word"
        and op.lower() in COMPARE_OPS
        and path_kind == "word"
        and path.lower() not in _NOT_A_PATH
    )


def _bare_value(text: str, pos: int) -> tuple[_Token, int] | None:
    """The unquoted value at ``pos``, typed by its shape, and where it ends."""
    found = _BARE.match(text, pos)
    if found is None:
        return None
    run = found.group(1)
    if _BARE_DATETIME.match(run):
        kind = "dt"
    elif _BARE_NUMBER.match(run):
        kind = "num"
    elif run.lower() in _LITERALS:
        kind = "word"
    else:
        kind = "bare"
    return (kind, run, found.start(1) + 1), found.end()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    size = len(text)
    match = _TOKEN.match
    while True:
        if _after_operator(tokens):
            bare = _bare_value(text, pos)
            if bare is not None:
                tokens.append(bare[0])
                pos = bare[1]
                continue
        found = match(text, pos)
        if found is None:
            # Skip the blanks the pattern failed after, to point at the culprit.
            while pos < size and text[pos] in " \t\r\n":
                pos += 1
            char = text[pos]
            if char == '"':
                raise _SyntaxError(f"unterminated or malformed string at column {pos + 1}")
            raise _SyntaxError(f"unexpected character {char!r} at column {pos + 1}")
        kind = found.lastgroup
        assert kind is not None
        start = found.start(kind)
        token = found.group(kind)
        if kind == "punct":
            kind = token
        tokens.append((kind, token, start + 1))
        if kind == "end":
            return tokens
        pos = found.end()


def _split_attr_path(word: str, column: int) -> AttrPath:
    uri: str | None = None
    name = word
    if word[:4].lower() == "urn:":
        uri, _, name = word.rpartition(":")
    elif ":" in word:
        raise _SyntaxError(f"a URI prefix must start with 'urn:' at column {column}: {word!r}")
    attr, dot, sub = name.partition(".")
    if not _NAME.match(attr) or (dot and not _NAME.match(sub)):
        raise _SyntaxError(f"invalid attribute path {word!r} at column {column}")
    return AttrPath(uri, attr, sub if dot else None)


def _string_value(token: str, column: int) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        value = json.loads(token)
    except ValueError:
        raise _SyntaxError(f"invalid escape in the string at column {column}") from None
    assert isinstance(value, str)
    # Lone surrogates cannot be encoded for the database; NUL is refused by PostgreSQL.
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        raise _SyntaxError(f"the string at column {column} holds a forbidden character")
    return value


def _number_value(token: str, column: int) -> int | float:
    try:
        if "." in token or "e" in token or "E" in token:
            number = float(token)
            if not math.isfinite(number):
                raise ValueError(token)
            return number
        return int(token)
    except ValueError:
        raise _SyntaxError(f"number out of range at column {column}") from None


# -------------------------------------------------------------------------- parser


def _fold(cls: type[And] | type[Or], terms: list[Expr], low: int, high: int) -> Expr:
    if high - low == 1:
        return terms[low]
    middle = (low + high + 1) // 2
    return cls(_fold(cls, terms, low, middle), _fold(cls, terms, middle, high))


class _Parser:
    __slots__ = ("max_depth", "pos", "tokens")

    def __init__(self, tokens: list[_Token], max_depth: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.max_depth = max_depth

    def _fail(self, expected: str) -> _SyntaxError:
        kind, text, column = self.tokens[self.pos]
        found = "the end of the filter" if kind == "end" else repr(text)
        return _SyntaxError(f"expected {expected} at column {column}, found {found}")

    def _keyword(self, *words: str) -> str | None:
        kind, text, _ = self.tokens[self.pos]
        if kind == "word":
            lowered = text.lower()
            if lowered in words:
                return lowered
        return None

    def _expect(self, kind: str, expected: str) -> None:
        if self.tokens[self.pos][0] != kind:
            raise self._fail(expected)
        self.pos += 1

    def _enter(self, depth: int) -> int:
        if depth >= self.max_depth:
            column = self.tokens[self.pos][2]
            raise _SyntaxError(f"the filter nests deeper than {self.max_depth} at column {column}")
        return depth + 1

    def expression(self, depth: int, in_value_filter: bool) -> Expr:
        terms = [self._conjunction(depth, in_value_filter)]
        while self._keyword("or"):
            self.pos += 1
            terms.append(self._conjunction(depth, in_value_filter))
        return _fold(Or, terms, 0, len(terms))

    def _conjunction(self, depth: int, in_value_filter: bool) -> Expr:
        terms = [self._term(depth, in_value_filter)]
        while self._keyword("and"):
            self.pos += 1
            terms.append(self._term(depth, in_value_filter))
        return _fold(And, terms, 0, len(terms))

    def _term(self, depth: int, in_value_filter: bool) -> Expr:
        kind, text, column = self.tokens[self.pos]
        if kind == "(":
            inner = self._enter(depth)
            self.pos += 1
            expr = self.expression(inner, in_value_filter)
            self._expect(")", "')'")
            return expr
        if kind != "word":
            raise self._fail("an attribute path, '(' or 'not ('")
        if text.lower() == "not" and self.tokens[self.pos + 1][0] == "(":
            inner = self._enter(depth)
            self.pos += 2
            expr = self.expression(inner, in_value_filter)
            self._expect(")", "')'")
            return Not(expr)
        path = _split_attr_path(text, column)
        self.pos += 1
        if self.tokens[self.pos][0] == "[":
            if in_value_filter:
                raise _SyntaxError(f"a value filter cannot be nested at column {column}")
            inner = self._enter(depth)
            self.pos += 1
            expr = self.expression(inner, True)
            self._expect("]", "']'")
            if self.tokens[self.pos][0] == "sub":
                raise self._fail("'and', 'or', ')' or the end (no '.sub' after '[...]' here)")
            return ValuePath(path, expr)
        op = self._keyword("pr", *COMPARE_OPS)
        if op is None:
            raise self._fail("an operator (eq ne co sw ew gt ge lt le pr)")
        self.pos += 1
        if op == "pr":
            return Present(path)
        return Compare(path, op, self._value())

    def _value(self) -> Value:
        kind, text, column = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return _string_value(text, column)
        if kind == "dt":
            return text
        if kind == "num":
            return _number_value(text, column)
        if kind == "bare":
            if any("\ud800" <= char <= "\udfff" for char in text):
                raise _SyntaxError(f"the value at column {column} holds a forbidden character")
            return text
        if kind == "word":
            lowered = text.lower()
            if lowered in _LITERALS:
                return _LITERALS[lowered]
            raise _SyntaxError(
                f"unquoted value {text!r} at column {column}: string values must be "
                'in double quotes, e.g. "' + text + '"'
            )
        self.pos -= 1
        raise self._fail('a value (a "string", a number, true, false or null)')


_DEPTH_CEILING = 100


@functools.lru_cache(maxsize=2048)
def _parse_filter(text: str, max_depth: int) -> Expr:
    simple = _SIMPLE.match(text)
    if simple is not None:
        op = simple.group(2).lower()
        if op in COMPARE_OPS:
            return Compare(
                _split_attr_path(simple.group(1), simple.start(1) + 1), op, simple.group(3)
            )
    parser = _Parser(_tokenize(text), max_depth)
    expr = parser.expression(0, False)
    if parser.tokens[parser.pos][0] != "end":
        raise parser._fail("'and', 'or' or the end of the filter")
    return expr


def parse_filter(text: str, *, max_length: int = 4096, max_depth: int = 32) -> Expr:
    """Parse a filter. Raises ``scimgate.errors.InvalidFilter``.

    Parsed filters are cached by text: the AST is immutable, and clients
    repeat the same few filters (``userName eq "..."``) endlessly.
    """
    if len(text) > max_length:
        raise InvalidFilter(f"the filter is longer than {max_length} characters")
    if not text.strip():
        raise InvalidFilter("the filter is empty")
    try:
        # Clamped so that no caller-supplied limit can walk into the recursion limit.
        return _parse_filter(text, min(max_depth, _DEPTH_CEILING))
    except _SyntaxError as exc:
        raise InvalidFilter(str(exc)) from None
    except RecursionError:
        raise InvalidFilter("the filter nests too deeply") from None


class _PathFilterError(_SyntaxError):
    """A syntax error inside the ``[...]`` of a PATCH path."""


@functools.lru_cache(maxsize=1024)
def _parse_path(text: str) -> PatchPath:
    parser = _Parser(_tokenize(text), 32)
    kind, word, column = parser.tokens[0]
    if kind != "word":
        raise parser._fail("an attribute path")
    path = _split_attr_path(word, column)
    parser.pos = 1
    expr: Expr | None = None
    sub: str | None = None
    if parser.tokens[1][0] == "[":
        parser.pos = 2
        try:
            expr = parser.expression(1, True)
            parser._expect("]", "']'")
        except _SyntaxError as exc:
            # RFC 7644 §3.12: a bad filter inside a path is an invalidFilter.
            raise _PathFilterError(str(exc)) from None
        if parser.tokens[parser.pos][0] == "sub":
            if path.sub is not None:
                raise _SyntaxError(f"'{path.text}[...]' cannot take a further sub-attribute")
            sub = parser.tokens[parser.pos][1][1:]
            parser.pos += 1
    if parser.tokens[parser.pos][0] != "end":
        raise parser._fail("'[' or the end of the path")
    return PatchPath(path, expr, sub)


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH path. Raises ``InvalidPath``, or ``InvalidFilter`` for a bad ``[filter]``."""
    if len(text) > 4096:
        raise InvalidPath("the path is longer than 4096 characters")
    if not text.strip():
        raise InvalidPath("the path is empty")
    try:
        return _parse_path(text)
    except _PathFilterError as exc:
        raise InvalidFilter(str(exc)) from None
    except _SyntaxError as exc:
        raise InvalidPath(str(exc)) from None
    except RecursionError:
        raise InvalidPath("the path nests too deeply") from None


def parse_datetime(value: str) -> datetime:
    """Parse an xsd:dateTime filter value into an aware UTC datetime.

    A value without an offset is taken as UTC. Raises ``InvalidFilter`` (the
    value came from a filter); callers parsing other input re-raise as needed.
    """
    text = value.strip().upper()
    if len(text) < 16 or text[10] != "T":
        raise InvalidFilter(f"{value!r} is not an xsd:dateTime (e.g. 2015-10-10T00:00:00Z)")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidFilter(f"{value!r} is not a valid xsd:dateTime") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# ------------------------------------------------------- comparisons a type takes


def check_comparison(op: str, value: Value, attribute: Attribute | None) -> None:
    """Refuse a comparison the attribute's type cannot take (RFC 7644 §3.4.2.2:
    "invalidFilter ... the specified attribute and filter comparison
    combination is not supported"). Shared by ``matches`` and the SQL compiler."""
    kind = attribute.type if attribute is not None else None
    if value is None:
        if op not in ("eq", "ne"):
            raise InvalidFilter(f"'{op}' cannot compare with null")
        return
    if isinstance(value, bool) or kind == "boolean":
        if op not in ("eq", "ne"):
            raise InvalidFilter(f"'{op}' cannot compare booleans (only eq and ne)")
        if not isinstance(value, bool):
            raise InvalidFilter(f"a boolean attribute takes true or false, not {value!r}")
        if kind not in (None, "boolean"):
            raise InvalidFilter(f"a {kind} attribute cannot be compared with {value!r}")
        return
    if isinstance(value, int | float):
        if kind not in (None, "integer", "decimal"):
            raise InvalidFilter(f"a {kind} attribute cannot be compared with {value!r}")
        if op in SUBSTRING_OPS:
            raise InvalidFilter(f"'{op}' applies to strings only")
        return
    if kind in ("integer", "decimal", "complex"):
        raise InvalidFilter(f"a {kind} attribute cannot be compared with a string")
    if kind == "dateTime":
        if op in SUBSTRING_OPS:
            raise InvalidFilter(f"'{op}' applies to strings, not dateTime attributes")
        parse_datetime(value)
