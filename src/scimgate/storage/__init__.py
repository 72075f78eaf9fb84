"""SQLAlchemy and the two databases (SQLite, PostgreSQL); nothing above it writes SQL.

Offers to the services: ``database.Database`` (transactions; the only thing
the HTTP layers may hold), which hands out:

* ``repository.TenantRepository``: the one door to a tenant's rows; its
  stores (``users``, ``groups``, ``roles``, ``recompute``, ``events``,
  ``webhooks``, ``app_queries``, ``audit``) are built for one tenant;
* ``directory.Directory``: tenants, token lookup, API keys, global webhooks.

Cross-tenant modules, each saying why in its docstring: ``admins``,
``audit_writer``, ``backlog``, ``deliveries``, ``tenant_activity``.
Underneath: ``tables`` (the schema), ``engine``, ``driver`` (prebuilt
statements), ``filters`` and ``json_sql`` (SCIM filters to SQL), ``staging``
and ``lifecycle_sql`` (set-based recompute), ``migrate`` and ``migrations``.
``tests/storage/test_scoping.py`` holds these lists to the code.
"""
