"""The rules: SCIM resources, lifecycle, roles, tokens, webhooks, status. No HTTP, no SQL.

Offers to the HTTP layers, the CLI and the worker:

* SCIM: ``resource_services`` (one service object per resource type, one
  signature per verb), ``bulk``, ``listing``; users and groups behind them;
* lifecycle and roles: ``lifecycle`` (applies ``model.lifecycle`` and writes
  events in the change's transaction), ``roles``, ``settings``, ``profile``;
* tenants and credentials: ``tenants`` (resolves a slug to a ``Tenant``),
  ``tokens``, ``api_keys``, ``admins``;
* reading for the host app and the operator: ``app_view``, ``status``,
  ``audit``, ``monitoring``; delivery setup: ``webhooks``;
* ``ratelimit``: token buckets in process memory, per SCIM token (the SCIM layer)
  and per client address (the anonymous sign-in and setup-link routes).

A tenant-scoped function takes the resolved ``Tenant`` (a SCIM call gets it
inside its ``TenantScope``). Services open transactions through ``Database``
and work on the repositories it hands out; they never build SQL.
"""
