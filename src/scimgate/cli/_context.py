"""What every ``scimgate`` command shares: settings, the database and how errors end a command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from scimgate.config import Settings
from scimgate.errors import ScimgateError
from scimgate.storage.database import Database


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
