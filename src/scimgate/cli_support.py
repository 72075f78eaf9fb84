"""What every ``scimgate`` command shares: settings, the database, output and errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn

import click
import orjson
from pydantic import ValidationError

from scimgate.config import Settings
from scimgate.errors import ScimgateError
from scimgate.storage.database import Database


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def emit_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """A Database for one command; a ScimgateError inside becomes one line on stderr."""
    db = Database.from_url(settings.database_url, pool_size=2)
    try:
        yield db
    except ScimgateError as exc:
        fail(exc.detail)
    finally:
        db.dispose()


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")


def current_settings() -> Settings:
    settings = click.get_current_context().find_root().obj
    assert isinstance(settings, Settings)
    return settings
