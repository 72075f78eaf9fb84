"""Alembic environment: runs migrations on the engine scimgate itself would build."""

from __future__ import annotations

from alembic import context

from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, pool_size=1)
    # A migration that refuses (or fails) must not leave its connection open.
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations()
