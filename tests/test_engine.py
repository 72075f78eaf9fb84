import sqlalchemy as sa

from scimgate.storage.tables import tenants


def test_the_schema_is_usable_on_each_backend(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("select 1"))
        count = conn.execute(sa.select(sa.func.count()).select_from(tenants)).scalar_one()
    assert count == 0
