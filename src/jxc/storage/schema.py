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
from jxc.storage.tables import approval_rules, books, locations, metadata, reasons, roles

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
    """Every row a new book starts with (what the migrations seed, for create_all)."""
    seed_book(conn)
    seed_documents(conn)


def seed_book(conn: Connection) -> None:
    """The book head row and the virtual locations, if missing (migration 0001)."""
    if conn.execute(select(books.c.id).where(books.c.id == 1)).first() is None:
        conn.execute(insert(books).values(id=1, name="默认账套", audit_seq=0, audit_hash=GENESIS))
    now = datetime.now(UTC)
    for code, name, kind in VIRTUAL_LOCATIONS:
        if conn.execute(select(locations.c.id).where(locations.c.code == code)).first() is None:
            conn.execute(insert(locations).values(code=code, name=name, kind=kind, active=True,
                                                  version=1, updated_at=now))


# kind, code, zh, en — the reason lists documents choose from (plus free text)
REASONS = (
    ("scrap", "expired", "过期", "expired"), ("scrap", "damaged", "破损", "damaged"),
    ("scrap", "spoiled", "腐烂变质", "spoiled"), ("scrap", "lost", "丢失", "lost"),
    ("scrap", "other", "其他", "other"),
    ("return", "quality", "质量问题", "quality problem"), ("return", "wrong_item", "发错货", "wrong item"),
    ("return", "customer", "客户原因", "customer's choice"), ("return", "near_expiry", "临期", "near expiry"),
    ("return", "other", "其他", "other"),
    ("count", "difference", "盘点差异", "count difference"), ("count", "entry_error", "录入错误", "entry error"),
    ("count", "shrinkage", "自然损耗", "shrinkage"), ("count", "other", "其他", "other"),
)


def seed_documents(conn: Connection) -> None:
    """Built-in roles, default approval rules and reasons, if missing (migration 0002)."""
    import json

    from jxc.domain.approvals import DEFAULT_RULES
    from jxc.domain.permissions import BUILTIN_ROLES
    from jxc.storage.documents import rule_to_json

    for code, (zh, en, perms) in BUILTIN_ROLES.items():
        if conn.execute(select(roles.c.code).where(roles.c.code == code)).first() is None:
            conn.execute(insert(roles).values(code=code, name_zh=zh, name_en=en, builtin=True,
                                              permissions=json.dumps(sorted(perms))))
    if conn.execute(select(approval_rules.c.id).limit(1)).first() is None:
        now = datetime.now(UTC)
        for rule in DEFAULT_RULES:
            conn.execute(insert(approval_rules).values(name=rule.name, definition=rule_to_json(rule),
                                                       active=True, version=1, updated_at=now))
    for kind, code, zh, en in REASONS:
        if conn.execute(select(reasons.c.id).where(reasons.c.kind == kind, reasons.c.code == code)).first() is None:
            conn.execute(insert(reasons).values(kind=kind, code=code, label_zh=zh, label_en=en, active=True))


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
