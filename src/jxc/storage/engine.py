"""数据库连接 — engines for SQLite (embedded default) and PostgreSQL.

SQLite: WAL, foreign keys on, a busy timeout, and transactions we begin
ourselves — `BEGIN IMMEDIATE` for a writing unit of work, so that writers
queue at the start instead of failing on upgrade — a plain `BEGIN` for reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

WRITE = {"jxc_begin": "IMMEDIATE"}


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo)
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=20,
                         pool_pre_ping=True)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("jxc_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
