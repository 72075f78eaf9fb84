"""Tenant predicates live in the tenant stores and in named cross-tenant modules only.

A module of ``scimgate.storage`` that compares a tenant column (or writes
``tenant_id = ...`` in SQL text) must be one of the stores TenantRepository
builds for a tenant, a statement builder those stores run, or a cross-tenant
module that says so. A module that opens the engine itself must be the
database handle or one of the cross-tenant modules; the tenant stores work on
the connection their repository was given.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import scimgate

STORAGE = Path(scimgate.__file__).parent / "storage"

# The stores TenantRepository constructs for one tenant (repository.py holds the tokens).
TENANT_STORES = frozenset(
    {
        "repository",
        "users",
        "groups",
        "roles",
        "recompute",
        "events",
        "webhooks",
        "app_queries",
        "audit",
        "setup_links",
        "health",
        "sso",
        # Not built by TenantRepository but by Database.reads, for one tenant all the same.
        "reads",
    }
)
# Statement builders the tenant stores run on their own connection, inside their scope.
STORE_STATEMENTS = frozenset({"filters", "staging", "lifecycle_sql"})
# Cross-tenant on a connection that ``Database.directory()`` opens.
CROSS_TENANT_ON_DIRECTORY = frozenset(
    {"directory", "api_keys", "deliveries", "webhook_secrets", "sso_secrets"}
)
# Cross-tenant, opening the engine themselves for the operator, the worker and the recorder.
CROSS_TENANT_OWN_ENGINE = frozenset(
    {"admins", "audit_writer", "backlog", "integrity", "tenant_activity"}
)
# The handle that owns the engine, and the module that builds it.
ENGINE_OWNERS = frozenset({"database", "engine"})

MAY_NAME_A_TENANT = (
    TENANT_STORES | STORE_STATEMENTS | CROSS_TENANT_ON_DIRECTORY | CROSS_TENANT_OWN_ENGINE
)
MAY_OPEN_THE_ENGINE = ENGINE_OWNERS | CROSS_TENANT_OWN_ENGINE

_COLUMN_TESTS = frozenset({"is_", "is_not", "isnot", "in_", "not_in", "notin_", "between"})
_OPENERS = frozenset({"connect", "begin", "raw_connection", "create_engine", "make_engine"})
_SQL_TENANT_PREDICATE = re.compile(r"\btenant_id\s*(=|IN\s*\()", re.IGNORECASE)


def _is_tenant_column(node: ast.AST) -> bool:
    """``<table>.c.tenant_id`` or ``tenants.c.id``."""
    if not isinstance(node, ast.Attribute):
        return False
    column_of = node.value
    if not (isinstance(column_of, ast.Attribute) and column_of.attr == "c"):
        return False
    if node.attr == "tenant_id":
        return True
    return (
        node.attr == "id"
        and isinstance(column_of.value, ast.Name)
        and column_of.value.id == ("tenants")
    )


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
    return found


def tenant_predicates(source: str) -> Iterator[int]:
    """Line numbers where ``source`` compares a tenant column or writes one in SQL text."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_tenant_column(n) for o in operands for n in ast.walk(o)):
                yield node.lineno
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _COLUMN_TESTS and _is_tenant_column(node.func.value):
                yield node.lineno
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _SQL_TENANT_PREDICATE.search(node.value)
        ):
            yield node.lineno


def engine_openings(source: str) -> Iterator[int]:
    """Line numbers where ``source`` reaches for an engine or opens a connection itself."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "engine":
            yield node.lineno
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _OPENERS:
                yield node.lineno


def _modules() -> dict[str, str]:
    found = {
        path.relative_to(STORAGE).with_suffix("").as_posix().replace("/", "."): path.read_text()
        for path in sorted(STORAGE.rglob("*.py"))
        if "migrations" not in path.relative_to(STORAGE).parts
    }
    assert "repository" in found
    return found


def test_only_tenant_stores_and_cross_tenant_modules_compare_a_tenant_column() -> None:
    offences = [
        f"storage/{name}.py:{line}"
        for name, source in _modules().items()
        if name not in MAY_NAME_A_TENANT
        for line in sorted(set(tenant_predicates(source)))
    ]
    assert offences == []


def test_only_the_database_and_cross_tenant_modules_open_the_engine() -> None:
    offences = [
        f"storage/{name}.py:{line}"
        for name, source in _modules().items()
        if name not in MAY_OPEN_THE_ENGINE
        for line in sorted(set(engine_openings(source)))
    ]
    assert offences == []


def test_the_cross_tenant_modules_say_why_in_their_docstring() -> None:
    modules = _modules()
    for name in sorted(CROSS_TENANT_ON_DIRECTORY | CROSS_TENANT_OWN_ENGINE):
        docstring = ast.get_docstring(ast.parse(modules[name])) or ""
        assert "cross-tenant" in docstring.lower(), name


def test_every_module_named_here_exists() -> None:
    """A rename must update these lists, or they would allow a module that is gone."""
    named = MAY_NAME_A_TENANT | MAY_OPEN_THE_ENGINE
    assert named - set(_modules()) == set()


@pytest.mark.parametrize(
    "source",
    [
        "users.c.tenant_id == self._tenant_id",
        "x = sa.and_(users.c.id == u, users.c.tenant_id == t)",
        "user_roles.c.tenant_id + 0 == tenant",
        "tenants.c.id == tenant_id",
        "scim_tokens.c.tenant_id.in_(part)",
        "webhooks.c.tenant_id.is_(None)",
        'SQL = "DELETE FROM users WHERE tenant_id = %s AND id = %s"',
        'SQL = "SELECT id FROM groups WHERE tenant_id IN (%s, %s)"',
    ],
)
def test_a_tenant_predicate_is_found(source: str) -> None:
    assert list(tenant_predicates(source)) != []


@pytest.mark.parametrize(
    "source",
    [
        '"""Keyset pages on the (tenant_id, id) indexes; tenant_id = the caller\'s."""',
        "users.insert().values(tenant_id=self._tenant_id, id=user_id)",
        'SQL = "INSERT INTO group_members (group_id, member_id, tenant_id) VALUES (%s, %s, %s)"',
        "users.c.id == user_id",
        "account.tenant_id",
    ],
)
def test_a_statement_that_names_no_tenant_is_not_a_predicate(source: str) -> None:
    assert list(tenant_predicates(source)) == []


@pytest.mark.parametrize(
    "source",
    [
        "with db.engine.connect() as conn: pass",
        "with db.engine.begin() as conn: pass",
        "raw = self.engine.raw_connection()",
        "engine = make_engine(url)",
    ],
)
def test_opening_the_engine_is_found(source: str) -> None:
    assert list(engine_openings(source)) != []


def test_working_on_a_given_connection_is_not_opening_the_engine() -> None:
    source = "with self._conn.begin_nested():\n    self._conn.execute(users.delete())"
    assert list(engine_openings(source)) == []
