"""``scimgate apikey|role|role-mapping|user|settings``: the host-app API's CLI mirrors.

``user list``, ``role list``, ``role-mapping list`` and ``settings show`` print,
with ``--json``, exactly the objects the host API returns (camelCase);
``apikey`` prints the CLI's usual snake_case shapes.
"""

from __future__ import annotations

from typing import Any

import click
import orjson

from scimgate.api.models import RoleOut, RuleOut, SettingsOut, UserOut
from scimgate.cli_extensions import COMMANDS
from scimgate.cli_support import current_settings, database, emit_json, fail, iso
from scimgate.errors import InvalidValue
from scimgate.service import api_keys as key_service
from scimgate.service import app_view
from scimgate.service import roles as role_service
from scimgate.service import settings as settings_service
from scimgate.service.tenants import get_tenant
from scimgate.storage.api_keys import ApiKeyRow

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


# -- API keys ----------------------------------------------------------------------------


def _key_json(key: ApiKeyRow) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "tenant": key.tenant_slug,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at),
    }


@click.group()
def apikey() -> None:
    """Host-app API keys (for /api)."""


@apikey.command("create")
@click.option("--tenant", "slug", help="Bind the key to this tenant (default: operator key).")
@click.option("--name", help='A name such as "Billing backend".')
@_JSON
def apikey_create(slug: str | None, name: str | None, as_json: bool) -> None:
    """Create an API key. The key is printed once and never stored."""
    with database(current_settings()) as db:
        issued = key_service.create_api_key(db, slug, name)
    if as_json:
        emit_json({**_key_json(issued.key), "key": issued.secret})
        return
    scope = f"tenant {slug}" if slug else "every tenant (operator key)"
    click.echo(f"API key {issued.key.id} ({issued.key.name}) for {scope}")
    click.echo(f"  Key: {issued.secret}")
    click.echo("  Copy it now: it cannot be shown again.")


@apikey.command("list")
@_JSON
def apikey_list(as_json: bool) -> None:
    """List API keys (never their secrets)."""
    with database(current_settings()) as db:
        found = key_service.list_api_keys(db)
    if as_json:
        emit_json([_key_json(k) for k in found])
        return
    for k in found:
        state = "revoked" if k.revoked_at else "active"
        scope = k.tenant_slug or "*"
        click.echo(f"{k.id}\t{k.prefix}…\t{state}\t{scope}\t{k.name}")


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key: the next request with it gets 401."""
    with database(current_settings()) as db:
        key_service.revoke_api_key(db, key_id)
    click.echo(f"API key {key_id} revoked")


# -- roles and role mappings --------------------------------------------------------------


@click.group()
def role() -> None:
    """A tenant's app roles."""


@role.command("list")
@click.argument("slug")
@_JSON
def role_list(slug: str, as_json: bool) -> None:
    with database(current_settings()) as db:
        found = role_service.list_roles(db, get_tenant(db, slug))
    if as_json:
        emit_json([RoleOut.of(r).as_json() for r in found])
        return
    for r in found:
        click.echo(f"{r.key}\t{r.name}")


@role.command("add")
@click.argument("slug")
@click.argument("key")
@click.option("--name", help="Display name (defaults to the key).")
def role_add(slug: str, key: str, name: str | None) -> None:
    """Add role KEY to tenant SLUG."""
    with database(current_settings()) as db:
        role_service.add_role(db, get_tenant(db, slug), key, name)
    click.echo(f"role {key} added to {slug}")


@role.command("remove")
@click.argument("slug")
@click.argument("key")
def role_remove(slug: str, key: str) -> None:
    """Remove role KEY (refused for the default role or a role mappings use)."""
    with database(current_settings()) as db:
        role_service.delete_role(db, get_tenant(db, slug), key)
    click.echo(f"role {key} removed from {slug}")


@click.group("role-mapping")
def role_mapping() -> None:
    """Rules that give the members of an IdP group an app role."""


@role_mapping.command("add")
@click.argument("slug")
@click.option("--group", required=True, help="The group's displayName, externalId or id.")
@click.option("--role", "role_key", required=True, help="The role key to give its members.")
@click.option(
    "--priority",
    type=click.IntRange(0, role_service.MAX_PRIORITY),
    default=role_service.DEFAULT_PRIORITY,
    show_default=True,
    help="Smaller wins in single role mode.",
)
@click.option(
    "--match",
    "match_type",
    type=click.Choice(role_service.MATCH_TYPES),
    default="display_name",
    show_default=True,
    help="What --group names.",
)
@_JSON
def role_mapping_add(
    slug: str, group: str, role_key: str, priority: int, match_type: str, as_json: bool
) -> None:
    """Map a group to a role in tenant SLUG; roles are recomputed at once."""
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug)
        rule = role_service.add_rule(
            db, tenant, group, role_key, priority=priority, match_type=match_type
        )
        counts = {r.id: n for r, n in role_service.list_rules(db, tenant)}
    if as_json:
        emit_json(RuleOut.of(rule, counts.get(rule.id, 0)).as_json())
        return
    click.echo(
        f"role mapping {rule.id}: {match_type} {group!r} -> {role_key} (priority {priority})"
    )


@role_mapping.command("list")
@click.argument("slug")
@_JSON
def role_mapping_list(slug: str, as_json: bool) -> None:
    """Tenant SLUG's rules, strongest first."""
    with database(current_settings()) as db:
        found = role_service.list_rules(db, get_tenant(db, slug))
    if as_json:
        emit_json([RuleOut.of(rule, count).as_json() for rule, count in found])
        return
    for rule, count in found:
        click.echo(
            f"{rule.id}\t{rule.match_type}={rule.match_value}\t{rule.role_key}\t"
            f"priority {rule.priority}\t{count} users"
        )


@role_mapping.command("remove")
@click.argument("slug")
@click.argument("rule_id", type=int)
def role_mapping_remove(slug: str, rule_id: int) -> None:
    """Remove rule RULE_ID; roles are recomputed at once."""
    with database(current_settings()) as db:
        role_service.remove_rule(db, get_tenant(db, slug), rule_id)
    click.echo(f"role mapping {rule_id} removed")


# -- users -----------------------------------------------------------------------------


@click.group()
def user() -> None:
    """Users as the host app sees them."""


@user.command("list")
@click.argument("slug")
@click.option("--active/--inactive", default=None, help="Only enabled (or disabled) users.")
@click.option("--role", "role_key", help="Only users holding this role.")
@click.option("--updated-since", help="ISO-8601; only users changed at or after it.")
@_JSON
def user_list(
    slug: str,
    active: bool | None,
    role_key: str | None,
    updated_since: str | None,
    as_json: bool,
) -> None:
    """Every (not deleted) user of tenant SLUG, in the host API's shape."""
    found: list[UserOut] = []
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug)
        since = app_view.parse_timestamp(updated_since) if updated_since else None
        cursor: str | None = None
        while True:
            page = app_view.list_users(
                db,
                tenant,
                cursor=cursor,
                limit=app_view.MAX_PAGE,
                active=active,
                role=role_key,
                updated_since=since,
            )
            found += [UserOut.of(u) for u in page.items]
            if page.next is None:
                break
            cursor = page.next
    if as_json:
        emit_json([u.as_json() for u in found])
        return
    for u in found:
        state = "active" if u.active else f"inactive ({u.deactivation_reason})"
        click.echo(f"{u.id}\t{u.user_name}\t{state}\t{','.join(u.roles) or '-'}")


# -- settings ----------------------------------------------------------------------------


@click.group("settings")
def settings_group() -> None:
    """A tenant's lifecycle and mapping settings."""


@settings_group.command("show")
@click.argument("slug")
@_JSON
def settings_show(slug: str, as_json: bool) -> None:
    with database(current_settings()) as db:
        found = settings_service.get_settings(db, get_tenant(db, slug))
    if as_json:
        emit_json(SettingsOut.of(found).as_json())
        return
    for key, value in found.to_dict().items():
        click.echo(f"{key}={_show(value)}")


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _typed(key: str, text: str) -> Any:
    """A command-line string as the JSON value the setting takes."""
    if key == "deactivate_unmapped":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise InvalidValue("deactivate_unmapped must be true or false")
    if key == "soft_delete_days":
        try:
            return int(text)
        except ValueError:
            raise InvalidValue("soft_delete_days must be a whole number of days") from None
    if key == "default_role" and text.lower() in ("", "none", "null"):
        return None
    if key == "scim_extensions":
        return [urn.strip() for urn in text.split(",") if urn.strip()]
    if key == "attribute_mapping":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise InvalidValue("attribute_mapping takes a JSON object") from None
    return text


@settings_group.command("set")
@click.argument("slug")
@click.argument("assignments", nargs=-1, required=True)
def settings_set(slug: str, assignments: tuple[str, ...]) -> None:
    """Change settings: KEY=VALUE ..., or attribute_mapping.FIELD=PATH (empty PATH removes)."""
    with database(current_settings()) as db:
        tenant = get_tenant(db, slug)
        changes: dict[str, Any] = {}
        mapping: dict[str, str] | None = None
        for item in assignments:
            key, sep, text = item.partition("=")
            if not sep:
                fail(f"{item!r} is not KEY=VALUE")
            if key.startswith("attribute_mapping."):
                if mapping is None:
                    current = settings_service.get_settings(db, tenant)
                    mapping = dict(current.attribute_mapping)
                field = key.removeprefix("attribute_mapping.")
                if text:
                    mapping[field] = text
                else:
                    mapping.pop(field, None)
                continue
            changes[key] = _typed(key, text)
        if mapping is not None:
            changes["attribute_mapping"] = mapping
        settings_service.update_settings(db, tenant, changes)
    click.echo(f"settings of {slug} updated")


COMMANDS.extend([apikey, role, role_mapping, user, settings_group])
