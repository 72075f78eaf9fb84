"""SQL elements that read the JSON document, one spelling per dialect.

SQLite (JSON1): ``json_extract``, ``json_type``, ``json_each``, and GLOB for
substring matches (its LIKE ignores ASCII case, which would be wrong for
case-exact attributes). PostgreSQL (JSONB): ``->``/``->>``, ``jsonb_typeof``,
``jsonb_array_elements``, LIKE with an ESCAPE clause.

Paths are tuples of attribute names (and list indexes) taken from the schema
definitions, never from client input, so they are rendered as SQL literals;
this keeps them part of the statement cache key. Client values are always
bound parameters.

Each element declares ``_traverse_internals`` and ``inherit_cache`` so that
SQLAlchemy can cache the compiled statements built from it.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

Step = str | int
_SAFE_STEP = re.compile(r"[A-Za-z0-9:._$\-]+\Z")


def _checked(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    for step in steps:
        if isinstance(step, str) and not _SAFE_STEP.match(step):
            raise ValueError(f"unsafe JSON path step {step!r}")
    return steps


def _sqlite_path(steps: tuple[Step, ...]) -> str:
    parts = "".join(f"[{step}]" if isinstance(step, int) else f'."{step}"' for step in steps)
    return f"'${parts}'"


def _pg_path(container: str, steps: tuple[Step, ...], last: str = "->") -> str:
    """``container -> 'a' -> 'b'`` (``last`` is ``->>`` to read the final step as text)."""
    text = container
    for index, step in enumerate(steps):
        arrow = last if index == len(steps) - 1 else "->"
        text += f" {arrow} {step}" if isinstance(step, int) else f" {arrow} '{step}'"
    return f"({text})"


class _JsonElement(ColumnElement[Any]):
    """Base: a JSON document (or item) and a path into it."""

    inherit_cache = True
    _traverse_internals = [
        ("container", InternalTraversal.dp_clauseelement),
        ("steps", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, container: ColumnElement[Any], steps: tuple[Step, ...]) -> None:
        self.container = container
        self.steps = _checked(steps)


class _JsonText(_JsonElement):
    inherit_cache = True
    type = sa.String()


class _JsonNumber(_JsonElement):
    inherit_cache = True
    # Float, not Numeric: bound values stay plain numbers (no Decimal warnings on SQLite).
    type = sa.Float()


class _JsonPresent(_JsonElement):
    inherit_cache = True
    type = sa.Boolean()


class _JsonBoolIs(_JsonElement):
    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        *_JsonElement._traverse_internals,
        ("value", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, container: ColumnElement[Any], steps: tuple[Step, ...], value: bool):
        super().__init__(container, steps)
        self.value = value


def json_text(container: ColumnElement[Any], steps: tuple[Step, ...]) -> ColumnElement[Any]:
    """The value at ``steps`` as SQL text (NULL when missing)."""
    return _JsonText(container, steps)


def json_number(container: ColumnElement[Any], steps: tuple[Step, ...]) -> ColumnElement[Any]:
    """The value at ``steps`` as a number, NULL unless it is a JSON number."""
    return _JsonNumber(container, steps)


def json_present(container: ColumnElement[Any], steps: tuple[Step, ...]) -> ColumnElement[bool]:
    """True when the value at ``steps`` is neither missing, null, "", [] nor {}."""
    return _JsonPresent(container, steps)


def json_bool_is(
    container: ColumnElement[Any], steps: tuple[Step, ...], value: bool
) -> ColumnElement[bool]:
    """True when the value at ``steps`` is the JSON boolean ``value`` (never NULL)."""
    return _JsonBoolIs(container, steps, value)


@compiles(_JsonText, "sqlite")
def _text_sqlite(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    container = compiler.process(element.container, **kw)
    return f"json_extract({container}, {_sqlite_path(element.steps)})"


@compiles(_JsonText)
def _text_pg(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return _pg_path(compiler.process(element.container, **kw), element.steps, "->>")


@compiles(_JsonNumber, "sqlite")
def _number_sqlite(element: _JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    container = compiler.process(element.container, **kw)
    path = _sqlite_path(element.steps)
    return (
        f"(CASE WHEN json_type({container}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({container}, {path}) END)"
    )


@compiles(_JsonNumber)
def _number_pg(element: _JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    container = compiler.process(element.container, **kw)
    value = _pg_path(container, element.steps)
    text = _pg_path(container, element.steps, "->>")
    return f"(CASE WHEN jsonb_typeof{value} = 'number' THEN CAST({text} AS NUMERIC) END)"


@compiles(_JsonPresent, "sqlite")
def _present_sqlite(element: _JsonPresent, compiler: SQLCompiler, **kw: Any) -> str:
    container = compiler.process(element.container, **kw)
    path = _sqlite_path(element.steps)
    value = f"json_extract({container}, {path})"
    return (
        f"(CASE json_type({container}, {path})"
        f" WHEN 'text' THEN {value} <> ''"
        f" WHEN 'array' THEN json_array_length({container}, {path}) > 0"
        f" WHEN 'object' THEN {value} <> '{{}}'"
        " WHEN 'null' THEN 0"
        f" ELSE json_type({container}, {path}) IS NOT NULL END)"
    )


@compiles(_JsonPresent)
def _present_pg(element: _JsonPresent, compiler: SQLCompiler, **kw: Any) -> str:
    value = _pg_path(compiler.process(element.container, **kw), element.steps)
    return (
        f"(CASE jsonb_typeof({value})"
        f" WHEN 'string' THEN ({value} #>> '{{}}') <> ''"
        f" WHEN 'array' THEN jsonb_array_length({value}) > 0"
        f" WHEN 'object' THEN {value} <> CAST('{{}}' AS JSONB)"
        " WHEN 'null' THEN false"
        f" ELSE {value} IS NOT NULL END)"
    )


@compiles(_JsonBoolIs, "sqlite")
def _bool_sqlite(element: _JsonBoolIs, compiler: SQLCompiler, **kw: Any) -> str:
    container = compiler.process(element.container, **kw)
    # IS is SQLite's null-safe equality: a missing value gives 0, not NULL.
    literal = "'true'" if element.value else "'false'"
    return f"(json_type({container}, {_sqlite_path(element.steps)}) IS {literal})"


@compiles(_JsonBoolIs)
def _bool_pg(element: _JsonBoolIs, compiler: SQLCompiler, **kw: Any) -> str:
    value = _pg_path(compiler.process(element.container, **kw), element.steps)
    literal = "'true'" if element.value else "'false'"
    return f"({value} IS NOT DISTINCT FROM CAST({literal} AS JSONB))"


# ------------------------------------------------------------------ array items


class _JsonItems(FunctionElement[Any]):
    """The items of the JSON array at ``steps``, as a table with one column ``value``."""

    name = "json_items"
    inherit_cache = True
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("steps", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, container: ColumnElement[Any], steps: tuple[Step, ...]) -> None:
        self.steps = _checked(steps)
        super().__init__(container)


def json_items(container: ColumnElement[Any], steps: tuple[Step, ...]) -> FunctionElement[Any]:
    """``json_each`` / ``jsonb_array_elements`` over the array at ``steps``;
    call ``.table_valued("value")`` on it to select from it."""
    return _JsonItems(container, steps)


def _items_container(element: _JsonItems, compiler: SQLCompiler, **kw: Any) -> str:
    (container,) = element.clauses.clauses
    return compiler.process(container, **kw)


@compiles(_JsonItems, "sqlite")
def _items_sqlite(element: _JsonItems, compiler: SQLCompiler, **kw: Any) -> str:
    container = _items_container(element, compiler, **kw)
    return f"json_each({container}, {_sqlite_path(element.steps)})"


@compiles(_JsonItems)
def _items_pg(element: _JsonItems, compiler: SQLCompiler, **kw: Any) -> str:
    value = _pg_path(_items_container(element, compiler, **kw), element.steps)
    # jsonb_array_elements raises on a non-array; NULL yields no rows instead.
    return f"jsonb_array_elements(CASE jsonb_typeof({value}) WHEN 'array' THEN {value} END)"


# -------------------------------------------------------------- pattern matching


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_escape(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)


class _PatternType(sa.types.TypeDecorator[str]):
    """Turns the raw filter value into a LIKE or GLOB pattern when it is bound,
    so one statement (and one cache entry) serves both dialects."""

    impl = sa.String()
    cache_ok = True

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            body, wildcard = _glob_escape(value), "*"
        else:
            body, wildcard = _like_escape(value), "%"
        before = wildcard if self.op in ("co", "ew") else ""
        after = wildcard if self.op in ("co", "sw") else ""
        return before + body + after


class _Match(ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("left", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, left: ColumnElement[Any], pattern: ColumnElement[Any]) -> None:
        self.left = left
        self.pattern = pattern


def match_pattern(left: ColumnElement[Any], op: str, value: str) -> ColumnElement[bool]:
    """``left`` contains (co), starts with (sw) or ends with (ew) ``value``,
    case-sensitively; lower both sides first for a case-insensitive match."""
    return _Match(left, sa.bindparam(None, value, type_=_PatternType(op)))


@compiles(_Match, "sqlite")
def _match_sqlite(element: _Match, compiler: SQLCompiler, **kw: Any) -> str:
    left = compiler.process(element.left, **kw)
    return f"({left} GLOB {compiler.process(element.pattern, **kw)})"


@compiles(_Match)
def _match_pg(element: _Match, compiler: SQLCompiler, **kw: Any) -> str:
    left = compiler.process(element.left, **kw)
    return f"({left} LIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\')"


# ---------------------------------------------------------------------- ordering


class _BinaryOrder(ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals = [("expr", InternalTraversal.dp_clauseelement)]

    def __init__(self, expr: ColumnElement[Any]) -> None:
        self.expr = expr
        self.type = expr.type


def collate_binary(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """``expr`` compared in code-point order: ``COLLATE "C"`` on PostgreSQL
    (whose default collation may be a locale's), as is on SQLite (BINARY)."""
    return _BinaryOrder(expr)


@compiles(_BinaryOrder, "sqlite")
def _order_sqlite(element: _BinaryOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.expr, **kw)


@compiles(_BinaryOrder)
def _order_pg(element: _BinaryOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.expr, **kw)} COLLATE "C")'
