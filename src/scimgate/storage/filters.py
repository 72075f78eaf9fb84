"""SCIM filters (RFC 7644 §3.4.2.2) and sortBy (§3.4.2.3) compiled to SQLAlchemy Core.

Where a value lives decides how it is read:

* a column (``user_name_lower``, ``external_id``, ``active``, timestamps...),
  so the common IdP lookups are plain index lookups;
* group membership rows (``User.groups``, ``Group.members``), via a
  correlated EXISTS over ``group_members`` scoped to the outer row's tenant;
* the JSON document for everything else: single values by path, multi-valued
  attributes through EXISTS over their items (``json_each`` on SQLite,
  ``jsonb_array_elements`` on PostgreSQL), so both halves of
  ``emails[type eq "work" and value co "x"]`` test the same item.

Every predicate is two-valued (never SQL NULL), so ``not (...)`` means what it
means in memory: ``ne`` is ``not eq``, and a missing attribute is ``ne``
anything and ``gt`` nothing. ``scimgate.model.matching.matches`` has the same
semantics; the differential tests hold the two together.

Dialect-specific SQL comes from the small elements in
``scimgate.storage.json_sql``; this module picks the operand and the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.errors import InvalidFilter, InvalidPath, InvalidValue
from scimgate.model.filter import And as AndExpr
from scimgate.model.filter import (
    AttrPath,
    Compare,
    Expr,
    Not,
    Present,
    Value,
    ValuePath,
    check_comparison,
    parse_datetime,
    parse_path,
)
from scimgate.model.filter import Or as OrExpr
from scimgate.model.identity import fold_user_name, fold_user_name_part
from scimgate.model.matching import compare_value
from scimgate.model.schemas import Attribute, ResolvedPath, ResourceType, resolve
from scimgate.storage.json_sql import (
    collate_binary,
    json_bool_is,
    json_items,
    json_number,
    json_present,
    json_text,
    match_pattern,
)
from scimgate.storage.tables import group_members, groups, users
from scimgate.storage.types import format_timestamp

Predicate = ColumnElement[bool]
_TRUE: Predicate = sa.true()
_FALSE: Predicate = sa.false()


class _Operand:
    """One single value as SQL: how to read it as text, number, boolean and
    whether it is present. ``lowered`` says the column holds the lower-cased
    value already, ``folds_user_name`` that it holds ``fold_user_name`` of it
    (so the filter value is folded the same way, never by the database);
    ``nullable`` False spares the IS NOT NULL guard."""

    __slots__ = ("attribute", "folds_user_name", "lowered", "nullable")

    def __init__(
        self,
        attribute: Attribute,
        *,
        lowered: bool = False,
        folds_user_name: bool = False,
        nullable: bool = True,
    ):
        self.attribute = attribute
        self.lowered = lowered
        self.folds_user_name = folds_user_name
        self.nullable = nullable

    def text(self) -> ColumnElement[Any]:
        raise InvalidFilter(f"'{self.attribute.name}' cannot be compared with a string")

    def number(self) -> ColumnElement[Any]:
        raise InvalidFilter(f"'{self.attribute.name}' cannot be compared with a number")

    def boolean_is(self, value: bool) -> Predicate:
        raise InvalidFilter(f"'{self.attribute.name}' cannot be compared with a boolean")

    def timestamp_compare(self, op: str, value: str) -> Predicate:
        # No core or enterprise dateTime lives in the document; one that does
        # must be stored as types.format_timestamp writes it, whose fixed-width
        # text order is time order.
        text = self.text()
        return _guard(text, _ORDER[op](text, format_timestamp(parse_datetime(value))), True)

    def present(self) -> Predicate:
        text = self.text()
        return sa.and_(text.is_not(None), text != "") if self.nullable else _TRUE


class _ColumnOperand(_Operand):
    __slots__ = ("column",)

    def __init__(self, column: ColumnElement[Any], attribute: Attribute, **kw: bool):
        super().__init__(attribute, **kw)
        self.column = column

    def text(self) -> ColumnElement[Any]:
        return self.column

    def boolean_is(self, value: bool) -> Predicate:
        return self.column == value if not self.nullable else self.column.is_(value)

    def timestamp_compare(self, op: str, value: str) -> Predicate:
        # Comparing with the column binds through its UTCDateTime type.
        return _ORDER[op](self.column, parse_datetime(value))


class _JsonOperand(_Operand):
    __slots__ = ("container", "steps")

    def __init__(self, container: ColumnElement[Any], steps: tuple[str, ...], attribute: Attribute):
        super().__init__(attribute)
        self.container = container
        self.steps = steps

    def text(self) -> ColumnElement[Any]:
        return json_text(self.container, self.steps)

    def number(self) -> ColumnElement[Any]:
        return json_number(self.container, self.steps)

    def boolean_is(self, value: bool) -> Predicate:
        return json_bool_is(self.container, self.steps, value)

    def present(self) -> Predicate:
        return json_present(self.container, self.steps)


class _ConstantOperand(_Operand):
    """A value the server derives (meta.resourceType, members.type): decided in Python."""

    __slots__ = ("value",)

    def __init__(self, value: str, attribute: Attribute):
        super().__init__(attribute, nullable=False)
        self.value = value

    def present(self) -> Predicate:
        return _TRUE


class _VersionOperand(_Operand):
    """meta.version, rendered from the ``version`` column as ``W/"<n>"``."""

    __slots__ = ("column",)

    def __init__(self, column: ColumnElement[Any], attribute: Attribute):
        super().__init__(attribute, nullable=False)
        self.column = column

    def present(self) -> Predicate:
        return _TRUE


_ORDER: dict[str, Callable[[Any, Any], Predicate]] = {
    "eq": lambda left, right: left == right,
    "gt": lambda left, right: left > right,
    "ge": lambda left, right: left >= right,
    "lt": lambda left, right: left < right,
    "le": lambda left, right: left <= right,
}


def _guard(read: ColumnElement[Any], predicate: Predicate, nullable: bool) -> Predicate:
    # ``x IS NOT NULL AND p``: FALSE rather than NULL for a missing value, so NOT works.
    return sa.and_(read.is_not(None), predicate) if nullable else predicate


def _compare(operand: _Operand, op: str, value: Value) -> Predicate:
    attribute = operand.attribute
    check_comparison(op, value, attribute)
    if value is None:
        present = operand.present()
        return present if op == "ne" else sa.not_(present)
    if op == "ne":
        return sa.not_(_compare(operand, "eq", value))
    if isinstance(operand, _ConstantOperand):
        return _TRUE if compare_value(operand.value, op, value, attribute) else _FALSE
    if isinstance(operand, _VersionOperand):
        return _compare_version(operand, op, value)
    if isinstance(value, bool):
        return operand.boolean_is(value)
    if isinstance(value, int | float):
        number = operand.number()
        return _guard(number, _ORDER[op](number, value), True)
    if attribute.type == "dateTime":
        return operand.timestamp_compare(op, value)
    read = operand.text()
    left = read
    if operand.folds_user_name:
        value = fold_user_name(value) if op == "eq" else fold_user_name_part(value)
    elif not attribute.case_exact:
        value = value.lower()
        if not operand.lowered:
            left = sa.func.lower(read)
    if op == "eq":
        predicate = left == value
    elif op in ("co", "sw", "ew"):
        predicate = match_pattern(left, op, value)
    else:
        # Code-point order on both backends, whatever the database's collation.
        predicate = _ORDER[op](collate_binary(left), value)
    return _guard(read, predicate, operand.nullable)


def _compare_version(operand: _VersionOperand, op: str, value: Value) -> Predicate:
    if op != "eq" or not isinstance(value, str):
        raise InvalidFilter("meta.version supports eq and ne with a string value only")
    digits = value.removeprefix("W/").strip('"')
    if not digits.isdigit() or len(digits) > 18:
        return _FALSE
    return operand.column == int(digits)


# ----------------------------------------------------------------------- scopes


class _Items:
    """The items of one multi-valued attribute, inside an EXISTS."""

    def __init__(self, attribute: Attribute) -> None:
        self.attribute = attribute

    def sub(self, name: str) -> Attribute:
        sub = self.attribute.sub(name) if self.attribute.sub_attributes else None
        if sub is None:
            raise InvalidFilter(f"'{self.attribute.name}' has no sub-attribute '{name}'")
        return sub

    def operand(self, sub: Attribute) -> _Operand:
        raise NotImplementedError

    def exists(self, predicate: Predicate) -> Predicate:
        raise NotImplementedError


class _JsonItems(_Items):
    def __init__(self, attribute: Attribute, table: sa.Table, steps: tuple[str, ...]) -> None:
        super().__init__(attribute)
        if attribute.type != "complex":
            raise InvalidFilter(f"filtering on '{attribute.name}' is not supported")
        self.table = table
        self.rows = json_items(table.c.doc, steps).table_valued("value")

    def operand(self, sub: Attribute) -> _Operand:
        return _JsonOperand(self.rows.c.value, (sub.name,), sub)

    def exists(self, predicate: Predicate) -> Predicate:
        return sa.exists().select_from(self.rows).where(predicate).correlate(self.table)


class _Memberships(_Items):
    """``User.groups`` and ``Group.members``: rows of group_members."""

    def __init__(self, attribute: Attribute, table: sa.Table) -> None:
        super().__init__(attribute)
        self.table = table
        self.of_user = table is users
        link = group_members.c.member_id if self.of_user else group_members.c.group_id
        self.where = [link == table.c.id, group_members.c.tenant_id == table.c.tenant_id]
        self.joined = False

    def operand(self, sub: Attribute) -> _Operand:
        name = sub.name
        if name == "value":
            column = group_members.c.group_id if self.of_user else group_members.c.member_id
            return _ColumnOperand(column, sub, nullable=False)
        if name == "display":
            self.joined = True
            if self.of_user:
                return _ColumnOperand(
                    groups.c.display_name_lower, sub, lowered=True, nullable=False
                )
            return _ColumnOperand(users.c.display_name, sub)
        if name == "type":
            return _ConstantOperand("direct" if self.of_user else "User", sub)
        raise InvalidFilter(f"filtering on '{self.attribute.name}.{name}' is not supported")

    def exists(self, predicate: Predicate) -> Predicate:
        source: sa.FromClause = group_members
        if self.joined:
            other = groups if self.of_user else users
            other_id = group_members.c.group_id if self.of_user else group_members.c.member_id
            source = group_members.join(other, other.c.id == other_id)
        return sa.exists().select_from(source).where(*self.where, predicate).correlate(self.table)


# -------------------------------------------------------------- column mapping

_COLUMNS: dict[str, dict[tuple[str, str | None], Callable[[sa.Table, Attribute], _Operand]]] = {
    "User": {
        ("id", None): lambda t, a: _ColumnOperand(t.c.id, a, nullable=False),
        ("externalId", None): lambda t, a: _ColumnOperand(t.c.external_id, a),
        ("userName", None): lambda t, a: _ColumnOperand(
            t.c.user_name_lower, a, folds_user_name=True, nullable=False
        ),
        ("displayName", None): lambda t, a: _ColumnOperand(t.c.display_name, a),
        ("active", None): lambda t, a: _ColumnOperand(t.c.active, a, nullable=False),
    },
    "Group": {
        ("id", None): lambda t, a: _ColumnOperand(t.c.id, a, nullable=False),
        ("externalId", None): lambda t, a: _ColumnOperand(t.c.external_id, a),
        ("displayName", None): lambda t, a: _ColumnOperand(
            t.c.display_name_lower, a, lowered=True, nullable=False
        ),
    },
}
_META: dict[str, Callable[[sa.Table, Attribute, ResourceType], _Operand]] = {
    "created": lambda t, a, rt: _ColumnOperand(t.c.created, a, nullable=False),
    "lastModified": lambda t, a, rt: _ColumnOperand(t.c.last_modified, a, nullable=False),
    "resourceType": lambda t, a, rt: _ConstantOperand(rt.name, a),
    "version": lambda t, a, rt: _VersionOperand(t.c.version, a),
}
_RELATIONS = {("User", "groups"), ("Group", "members")}


def _table(rt: ResourceType) -> sa.Table:
    if rt.name == "User":
        return users
    if rt.name == "Group":
        return groups
    raise ValueError(f"no table for resource type {rt.name!r}")


def _resolve(
    rt: ResourceType, path: AttrPath, error: type[InvalidFilter | InvalidValue]
) -> ResolvedPath:
    try:
        resolved = resolve(rt, path.text)
    except KeyError:
        raise error(f"unknown attribute '{path.text}'") from None
    for attribute in (resolved.attribute, resolved.sub_attribute):
        if attribute is not None and attribute.returned == "never":
            raise error(f"'{path.text}' cannot be filtered or sorted on")
    return resolved


def _doc_steps(resolved: ResolvedPath, rt: ResourceType) -> tuple[str, ...]:
    steps = (resolved.attribute.name,)
    return steps if resolved.schema is rt.schema else (resolved.schema.id, *steps)


class _Compiler:
    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt
        self.table = _table(rt)

    def compile(self, expr: Expr, items: _Items | None) -> Predicate:
        if isinstance(expr, AndExpr):
            return sa.and_(self.compile(expr.left, items), self.compile(expr.right, items))
        if isinstance(expr, OrExpr):
            return sa.or_(self.compile(expr.left, items), self.compile(expr.right, items))
        if isinstance(expr, Not):
            return sa.not_(self.compile(expr.expr, items))
        if items is not None:
            return self._item_leaf(expr, items)
        return self._leaf(expr)

    def _item_leaf(self, expr: Expr, items: _Items) -> Predicate:
        if isinstance(expr, ValuePath):
            raise InvalidFilter("a value filter cannot be nested")
        assert isinstance(expr, Compare | Present)
        path = expr.path
        if path.uri is not None or path.sub is not None:
            raise InvalidFilter(f"'{path.text}' inside [...] must name a sub-attribute")
        operand = items.operand(items.sub(path.attr))
        if isinstance(expr, Present):
            return operand.present()
        return _compare(operand, expr.op, expr.value)

    def _items(self, resolved: ResolvedPath) -> _Items:
        attribute = resolved.attribute
        if (self.rt.name, attribute.name) in _RELATIONS and resolved.schema is self.rt.schema:
            return _Memberships(attribute, self.table)
        return _JsonItems(attribute, self.table, _doc_steps(resolved, self.rt))

    def _leaf(self, expr: Expr) -> Predicate:
        assert isinstance(expr, Compare | Present | ValuePath)
        resolved = _resolve(self.rt, expr.path, InvalidFilter)
        attribute, sub = resolved.attribute, resolved.sub_attribute
        if isinstance(expr, ValuePath):
            if not attribute.multi_valued or sub is not None:
                raise InvalidFilter(f"'{expr.path.text}[...]' needs a multi-valued attribute")
            items = self._items(resolved)
            return items.exists(self.compile(expr.filter, items))
        if attribute.multi_valued:
            items = self._items(resolved)
            if isinstance(expr, Present):
                if sub is None and isinstance(items, _JsonItems):
                    return json_present(self.table.c.doc, _doc_steps(resolved, self.rt))
                return items.exists(items.operand(sub).present() if sub else _TRUE)
            # A comparison on the attribute itself compares its "value" (RFC 7644 §3.4.2.2).
            target = sub or items.sub("value")
            if expr.op == "ne":
                eq = _compare(items.operand(target), "eq", expr.value)
                return sa.not_(items.exists(eq))
            return items.exists(_compare(items.operand(target), expr.op, expr.value))
        operand = self._single(resolved)
        if isinstance(expr, Present):
            return operand.present()
        if (sub or attribute).type == "complex":
            raise InvalidFilter(f"'{expr.path.text}' is complex: compare one of its sub-attributes")
        return _compare(operand, expr.op, expr.value)

    def _single(self, resolved: ResolvedPath) -> _Operand:
        attribute, sub = resolved.attribute, resolved.sub_attribute
        if resolved.schema is self.rt.schema:
            if attribute.name == "meta":
                if sub is None:
                    return _ConstantOperand("", attribute)
                factory = _META.get(sub.name)
                if factory is None:
                    raise InvalidFilter(f"filtering on 'meta.{sub.name}' is not supported")
                return factory(self.table, sub, self.rt)
            column = _COLUMNS[self.rt.name].get((attribute.name, sub.name if sub else None))
            if column is not None:
                return column(self.table, sub or attribute)
        steps = _doc_steps(resolved, self.rt)
        return _JsonOperand(
            self.table.c.doc, steps + ((sub.name,) if sub else ()), sub or attribute
        )


_CACHE: dict[tuple[Expr, int], tuple[ResourceType, Predicate]] = {}


def user_name_equals(expr: Expr) -> str | None:
    """The folded name when ``expr`` is exactly ``userName eq "<string>"``, else None.

    That is how every IdP looks a user up before creating it; the store answers
    it on the driver with the unique (tenant_id, user_name_lower) index instead
    of compiling the filter (what compile_filter would build for it too:
    ``user_name_lower = fold_user_name(<value>)``).
    """
    if (
        isinstance(expr, Compare)
        and expr.op == "eq"
        and isinstance(expr.value, str)
        and expr.path.uri is None
        and expr.path.sub is None
        and expr.path.attr.lower() == "username"
    ):
        return fold_user_name(expr.value)
    return None


def compile_filter(expr: Expr, rt: ResourceType) -> Predicate:
    """The SQL condition for ``expr`` on ``rt``'s table (``users`` or ``groups``).

    The caller adds the tenant predicate. Raises ``InvalidFilter`` for an
    unknown attribute, a never-returned one (``password``), or an operator
    the attribute's type cannot take. Compiled conditions are cached by AST:
    both are immutable, and values are bound parameters.
    """
    key = (expr, id(rt))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rt:
        return cached[1]
    compiled = _Compiler(rt).compile(expr, None)
    if len(_CACHE) >= 2048:
        _CACHE.clear()
    _CACHE[key] = (rt, compiled)
    return compiled


# ------------------------------------------------------------------------ sortBy


def sort_key(rt: ResourceType, path: str) -> ColumnElement[Any]:
    """The SQL expression to order ``rt`` by for ``sortBy=path`` (RFC 7644 §3.4.2.3).

    Strings that are not case-exact sort by their lower-cased value. A
    multi-valued attribute sorts by its primary item's value, else its first.
    An unknown or unsortable attribute (a complex one without a sub-attribute,
    group membership, ``password``) raises ``InvalidValue``: a 400 tells the
    client its sortBy did nothing, where silently ignoring it would page in an
    order it did not ask for.
    """
    try:
        parsed = parse_path(path)
    except InvalidPath as exc:
        raise InvalidValue(f"sortBy: {exc.detail}") from None
    if parsed.filter is not None:
        raise InvalidValue("sortBy takes an attribute path, not a filter")
    resolved = _resolve(rt, parsed.path, InvalidValue)
    attribute, sub = resolved.attribute, resolved.sub_attribute
    table = _table(rt)
    if (rt.name, attribute.name) in _RELATIONS or (attribute.name == "meta" and sub is None):
        raise InvalidValue(f"cannot sort by '{parsed.path.text}'")
    if attribute.multi_valued:
        item = (sub or attribute.sub("value")) if attribute.type == "complex" else None
        if item is None:
            raise InvalidValue(f"cannot sort by '{parsed.path.text}'")
        read = _primary_or_first(table, _doc_steps(resolved, rt), item.name)
        return read if item.case_exact else sa.func.lower(read)
    target = sub or attribute
    if target.type == "complex":
        raise InvalidValue(f"'{parsed.path.text}' is complex: sort by one of its sub-attributes")
    return _single_sort_key(rt, resolved, target)


def _single_sort_key(
    rt: ResourceType, resolved: ResolvedPath, target: Attribute
) -> ColumnElement[Any]:
    """A single-valued attribute's sort key: its column or JSON value, typed
    where the type orders differently from its text."""
    try:
        operand = _Compiler(rt)._single(resolved)
    except InvalidFilter as exc:
        raise InvalidValue(exc.detail) from None
    if isinstance(operand, _VersionOperand):
        return operand.column
    if isinstance(operand, _ConstantOperand):
        return sa.literal(operand.value)
    if isinstance(operand, _ColumnOperand) and target.type in ("dateTime", "boolean"):
        return operand.column
    if isinstance(operand, _JsonOperand) and target.type in ("integer", "decimal"):
        return operand.number()
    read = operand.text()
    if operand.lowered or target.case_exact:
        return read
    return sa.func.lower(read)


def _primary_or_first(table: sa.Table, steps: tuple[str, ...], name: str) -> ColumnElement[Any]:
    rows = json_items(table.c.doc, steps).table_valued("value")
    primary = (
        sa.select(json_text(rows.c.value, (name,)))
        .select_from(rows)
        .where(json_bool_is(rows.c.value, ("primary",), True))
        .correlate(table)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(primary, json_text(table.c.doc, (*steps, 0, name)))


def order_by(rt: ResourceType, path: str, descending: bool = False) -> list[ColumnElement[Any]]:
    """ORDER BY clauses for sortBy/sortOrder: unassigned values last when
    ascending and first when descending (RFC 7644 §3.4.2.3), ties by id."""
    key = sort_key(rt, path)
    table = _table(rt)
    if descending:
        return [key.desc().nulls_first(), table.c.id.desc()]
    return [key.asc().nulls_last(), table.c.id.asc()]


def select_page(
    conn: sa.Connection,
    rt: ResourceType,
    columns: tuple[ColumnElement[Any], ...],
    scope: ColumnElement[bool],
    filter_expr: Expr | None,
    sort_by: str | None,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[Any]]:
    """(total, rows) of one list page, all in SQL: the tenant ``scope``, the filter,
    a stable order (ties broken by id), offset and limit."""
    table = _table(rt)
    conditions = [scope]
    if filter_expr is not None:
        conditions.append(compile_filter(filter_expr, rt))
    total = conn.execute(
        sa.select(sa.func.count()).select_from(table).where(*conditions)
    ).scalar_one()
    if limit <= 0 or offset >= total:
        return total, []
    order = (
        order_by(rt, sort_by, descending)
        if sort_by
        else [table.c.id.desc() if descending else table.c.id]
    )
    # The page's ids first, then their rows: the offset is skipped over index
    # entries (PostgreSQL would otherwise read every skipped row from the heap).
    page_ids = sa.select(table.c.id).where(*conditions).order_by(*order).offset(offset).limit(limit)
    if conn.dialect.name == "postgresql":
        # The ids as an array computed once, then the rows by primary key: a plan that
        # holds without statistics. Joined to the LIMITed subquery instead, a table not
        # yet analyzed (a tenant provisioned minutes ago) led PostgreSQL to run the
        # subquery again for every row of the tenant (bench/README.md). An IN over it
        # cannot become a semi-join either, and may also run once per candidate row.
        # The tenant is in the subquery, where the ids come from; repeated outside, it
        # would offer the planner the tenant's index to scan instead of the key.
        ids = sa.func.array(page_ids.scalar_subquery())
        query = sa.select(*columns).where(table.c.id == sa.any_(ids)).order_by(*order)
    else:
        page = page_ids.subquery("page")
        query = (
            sa.select(*columns)
            .select_from(table.join(page, table.c.id == page.c.id))
            .where(scope)
            .order_by(*order)
        )
    return total, list(conn.execute(query))
