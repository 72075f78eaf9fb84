"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine


def format_timestamp(value: datetime) -> str:
    """Render an aware datetime as fixed-width ISO-8601 UTC with microseconds.

    Fixed width matters on SQLite: text order then equals time order, so
    ``meta.lastModified gt "..."`` compares correctly as strings.
    """
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, fixed-width text on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(27))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        if dialect.name == "sqlite":
            return format_timestamp(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)


# A JSON document: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
