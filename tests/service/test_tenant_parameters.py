"""Services take the tenant as a ``Tenant``; only the tenant directory takes a slug.

The edge (a CLI argument, a URL path, the console session) resolves the slug
once with ``service.tenants.get_tenant`` and passes the entity down, so no
service looks a tenant up again or names it by slug or id.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import scimgate.service

# The resolver: the functions of the tenant directory itself are keyed by slug.
RESOLVER = "scimgate.service.tenants"
FORBIDDEN = frozenset({"slug", "tenant_id"})


def _service_modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(scimgate.service.__path__):
        yield importlib.import_module(f"{scimgate.service.__name__}.{info.name}")


def _public_functions(module: ModuleType) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Module-level functions and public methods of classes, all defined in ``module``."""
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            yield name, value
        elif inspect.isclass(value):
            for method_name, method in vars(value).items():
                if inspect.isfunction(method) and not method_name.startswith("_"):
                    yield f"{name}.{method_name}", method


def offenders(modules: list[ModuleType]) -> list[str]:
    found = []
    for module in modules:
        if module.__name__ == RESOLVER:
            continue
        for name, function in _public_functions(module):
            named = FORBIDDEN.intersection(inspect.signature(function).parameters)
            found += [f"{module.__name__}.{name}({p})" for p in sorted(named)]
    return found


def test_the_walk_sees_the_services() -> None:
    names = {module.__name__ for module in _service_modules()}
    assert {"scimgate.service.tokens", "scimgate.service.webhooks", RESOLVER} <= names
    tokens = importlib.import_module("scimgate.service.tokens")
    assert "create_token" in dict(_public_functions(tokens))


def test_no_service_names_the_tenant_by_slug_or_id() -> None:
    assert offenders(list(_service_modules())) == []


def test_a_slug_parameter_is_caught() -> None:
    module = ModuleType("scimgate.service.example")
    exec(  # noqa: S102 -- a made-up service module, built from a constant
        "def list_things(db, slug):\n    return []\n"
        "class Things:\n    def find(self, db, tenant_id):\n        return None\n",
        module.__dict__,
    )
    assert offenders([module]) == [
        "scimgate.service.example.list_things(slug)",
        "scimgate.service.example.Things.find(tenant_id)",
    ]
