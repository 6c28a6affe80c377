"""数据库连接 — engines for SQLite (embedded default) and PostgreSQL, and driver-level SQL.

SQLite: WAL, foreign keys on, a busy timeout, and transactions we begin
ourselves — `BEGIN IMMEDIATE` for a writing unit of work, so that writers
queue at the start instead of failing on upgrade — a plain `BEGIN` for reads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

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


# ---------------------------------------------------------------- the posting hot path
#
# Speed: SQLAlchemy Core spends ~25-50 µs per statement building the construct,
# computing its cache key and wrapping the result, and a posting runs about a
# dozen statements; on SQLite that alone caps the service at ~1/3 of what the
# driver can do. So the posting's own statements are written here once per
# dialect as plain SQL and run on the DB-API cursor of the unit of work's
# connection (inside its transaction). Values are encoded and decoded by the
# columns' own SQLAlchemy types (`types.py`), so what is stored is identical to
# what Core stores, and DB-API errors are translated to SQLAlchemy's exceptions
# the way Core does it. Everything else stays on Core.


class Driver:
    """The DB-API cursor of one unit of work's connection, with Core's error translation."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sql = hot_sql(conn.dialect)
        self._dbapi_conn = conn.connection.dbapi_connection
        self.cur = self._dbapi_conn.cursor()

    def run(self, statement: str, params: Any = ()) -> Any:
        try:
            return self.cur.execute(statement, params)
        except self.sql.dbapi_error as exc:
            raise self._translate(exc, statement, params) from exc

    def many(self, statement: str, rows: list[Any]) -> None:
        try:
            self.cur.executemany(statement, rows)
        except self.sql.dbapi_error as exc:
            raise self._translate(exc, statement, rows) from exc

    def _translate(self, exc: Exception, statement: str, params: Any) -> Exception:
        dialect = self.conn.dialect
        lost = dialect.is_disconnect(exc, self._dbapi_conn, self.cur)
        if lost:
            self.conn.invalidate(exc)
        return DBAPIError.instance(statement, params, exc, self.sql.dbapi_error,
                                   connection_invalidated=lost, dialect=dialect)


def _writer(col: Any, dialect: Dialect) -> Callable[[Any], Any]:
    return col.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)


def _reader(col: Any, dialect: Dialect) -> Callable[[Any], Any]:
    if dialect.name == "sqlite":  # the impl (BigInteger / text DATETIME) needs no driver type code
        return col.type.dialect_impl(dialect).result_processor(dialect, None) or (lambda v: v)
    if isinstance(col.type, TypeDecorator):  # psycopg already returns Decimal / datetime / date
        return lambda v: col.type.process_result_value(v, dialect)
    return lambda v: v


class HotSql:
    """SQL and codecs of the posting path for one dialect (SQLite; `PgHotSql` overrides)."""

    pg = False
    p = "?"
    lock = ""  # SQLite: BEGIN IMMEDIATE already holds the write lock

    def __init__(self, dialect: Dialect) -> None:
        from jxc.storage.tables import books, ledger_entries, lots, postings

        e = ledger_entries.c
        self.dbapi_error = dialect.loaded_dbapi.Error
        self.qty, self.cost, self.time = (_writer(c, dialect) for c in (e.qty, e.unit_cost, e.effective_at))
        self.boolean = _writer(postings.c.allow_negative, dialect)
        self.read_qty, self.read_time = _reader(e.qty, dialect), _reader(books.c.closed_until, dialect)
        self.read_date = _reader(lots.c.expires_on, dialect)

    def marks(self, n: int, width: int = 1) -> str:
        one = "(" + ", ".join([self.p] * width) + ")" if width > 1 else self.p
        return ", ".join([one] * n)

    def in_ids(self, column: str, ids: list[int]) -> tuple[str, list[Any]]:
        return f"{column} IN ({self.marks(len(ids))})", ids


class PgHotSql(HotSql):
    pg = True
    p = "%s"
    lock = " FOR UPDATE"

    def in_ids(self, column: str, ids: list[int]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [ids]  # one statement text for any count: prepared once


@lru_cache(maxsize=16)  # a pure function of the dialect: SQL text and codecs, built once per engine
def hot_sql(dialect: Dialect) -> HotSql:
    return PgHotSql(dialect) if dialect.name == "postgresql" else HotSql(dialect)
