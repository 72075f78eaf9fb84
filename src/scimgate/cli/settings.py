"""``scimgate settings``: a tenant's lifecycle and mapping settings.

``settings set`` takes the setting names as the text output shows them (snake_case);
``settings show --json`` prints the host API's Settings object (camelCase).
"""

from __future__ import annotations

from typing import Any

import click
import orjson

from scimgate.api.models import SettingsOut
from scimgate.cli._context import current_settings, database, fail
from scimgate.cli._output import emit_json, json_option
from scimgate.errors import InvalidValue
from scimgate.service import settings as settings_service
from scimgate.service.tenants import get_tenant


@click.group("settings")
def settings_group() -> None:
    """A tenant's lifecycle and mapping settings."""


@settings_group.command("show")
@click.argument("slug")
@json_option
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
