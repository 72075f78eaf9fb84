"""How commands print: ``--json`` output and timestamps.

Every ``--json`` object uses camelCase keys, as SCIM and the host API do, so a
script reads the same names from the CLI and from ``/api``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
import orjson

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def emit_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
