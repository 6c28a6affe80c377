"""Alembic environment: the engine comes from `jxc.storage.schema.alembic_config`."""

from __future__ import annotations

from alembic import context

from jxc.storage.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.dbapi_connection  # no SQLAlchemy begin yet: a PRAGMA still takes effect
    if sqlite:  # batch mode copies a table and drops the old one; with foreign keys on, SQLite refuses
        raw.execute("PRAGMA foreign_keys=OFF")  # the DROP of a table other rows point at
    try:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite and (broken := raw.execute("PRAGMA foreign_key_check").fetchall()):
            raise RuntimeError(f"migration left rows pointing at nothing / 迁移后外键不一致: {broken[:5]}")
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")
