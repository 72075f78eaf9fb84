"""``scimgate role`` and ``scimgate role-mapping``: a tenant's app roles, and the rules that
give them to the members of IdP groups.

With ``--json`` they print the host API's Role and RoleMapping objects.
"""

from __future__ import annotations

import click

from scimgate.api.models import RoleOut, RuleOut
from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, json_option
from scimgate.service import roles as role_service
from scimgate.service.tenants import get_tenant


@click.group()
def role() -> None:
    """A tenant's app roles."""


@role.command("list")
@click.argument("slug")
@json_option
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
@json_option
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
@json_option
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
