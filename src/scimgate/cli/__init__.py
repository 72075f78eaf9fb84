"""The ``scimgate`` command line: offers ``main``, the click group behind the
``scimgate`` script and ``python -m scimgate``.

Each command or group lives in the module named after it, and is registered
here, once:

* ``serve``, ``demo`` (serve.py): run the HTTP server
* ``db upgrade``, ``db check`` (db.py): apply migrations, check the database
* ``tenant`` (tenants.py), ``token`` (tokens.py): tenants and their SCIM tokens
* ``status`` (status.py): a tenant's provisioning status
* ``admin`` (admins.py): admin console accounts
* ``apikey`` (apikeys.py), ``role``, ``role-mapping`` (roles.py), ``user`` (users.py),
  ``settings`` (settings.py): mirrors of the host-app API
* ``webhook`` (webhooks.py), ``worker`` (worker.py): webhooks and their delivery
* ``secrets reseal`` (secrets.py): seal stored secrets with the current SECRET_KEY
* ``sso`` (sso.py): single sign-on connections and the SP values

Every ``--json`` output uses camelCase keys, like SCIM and the host API; these
shapes are a contract other tools rely on (docs/reference/cli.md).
"""

from __future__ import annotations

import click

from scimgate.cli import (
    admins,
    apikeys,
    db,
    roles,
    secrets,
    serve,
    settings,
    sso,
    status,
    tenants,
    tokens,
    users,
    webhooks,
    worker,
)
from scimgate.cli._context import load_settings

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """scimgate: multi-tenant SCIM 2.0 provisioning service."""
    ctx.obj = load_settings()


main.add_command(serve.serve)
main.add_command(serve.demo)
main.add_command(db.db)
main.add_command(tenants.tenant)
main.add_command(tokens.token)
main.add_command(status.status)
main.add_command(admins.admin)
main.add_command(apikeys.apikey)
main.add_command(roles.role)
main.add_command(roles.role_mapping)
main.add_command(users.user)
main.add_command(settings.settings_group)
main.add_command(webhooks.webhook)
main.add_command(worker.worker)
main.add_command(secrets.secrets)
main.add_command(sso.sso_group)
