"""建库 — create the schema and the rows every book starts with.

`migrate()` (Alembic) is how real databases get their schema; `create_all`
is the fast path the test-suite uses, and a test proves both give the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert, select

from jxc.storage.audit import GENESIS
from jxc.storage.tables import books, locations, metadata

MIGRATIONS = Path(__file__).parent / "migrations"

# code, name, kind — the virtual locations of DESIGN.md (虚拟库位)
VIRTUAL_LOCATIONS = (
    ("V-SUPPLIER", "供应商", "supplier"),
    ("V-CUSTOMER", "客户", "customer"),
    ("V-PRODUCTION", "生产", "production"),
    ("V-SCRAP", "报损", "scrap"),
    ("V-COUNT", "盘盈盘亏", "count_diff"),
    ("V-OPENING", "期初", "opening"),
    ("V-TRANSIT", "在途", "transit"),
)


def seed_rows(conn: Connection) -> None:
    """The book head row and the virtual locations, if missing."""
    if conn.execute(select(books.c.id).where(books.c.id == 1)).first() is None:
        conn.execute(insert(books).values(id=1, name="默认账套", audit_seq=0, audit_hash=GENESIS))
    now = datetime.now(UTC)
    for code, name, kind in VIRTUAL_LOCATIONS:
        if conn.execute(select(locations.c.id).where(locations.c.code == code)).first() is None:
            conn.execute(insert(locations).values(code=code, name=name, kind=kind, active=True,
                                                  version=1, updated_at=now))


def create_all(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        seed_rows(conn)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``; safe to rerun."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
