"""备份与恢复 — online backup and restore of a book (SQLite backup API, PostgreSQL pg_dump / pg_restore).

Guarantees:
- A SQLite backup is a consistent snapshot taken with the online backup API
  (`sqlite3.Connection.backup`) while other connections — a running `jxc serve`
  — keep reading and writing; once closed, the copy is one self-contained file.
- A PostgreSQL backup is `pg_dump -Fc` of the configured database: one
  consistent snapshot, restorable with `pg_restore`.
- An existing file is never overwritten by a backup.
- Before a restore replaces a book that has tables, the current book is saved
  as `<name>.before-restore` (SQLite: next to the database file; PostgreSQL:
  `<data_dir>/backups/<db>.before-restore`, a `pg_dump -Fc` archive).
- A PostgreSQL restore runs in one transaction (`--single-transaction`): the
  book is replaced completely or not at all.
- A scratch database made for verification is dropped afterwards, also on error.

Verification (the invariant check on the copy) needs an App, so it lives in
`jxc.bootstrap`; this module only moves bytes and hands out a URL to check.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from jxc.services.ports import Violation

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
BOOK_TABLES = ("products", "users", "documents", "ledger_entries")  # any row here = a book in use


class BackupError(Exception):
    """备份/恢复失败 — a refusal or failure, with the fix, in Chinese and English."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class BackupReport:
    """One backup: where it is, and what the invariant check found in the copy."""

    path: Path
    dialect: str
    size_bytes: int
    violations: list[Violation] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreReport:
    """One restore: from where, where the previous book was kept, and the check of the result."""

    source: Path
    kept: Path | None
    dialect: str
    violations: list[Violation] = field(default_factory=list)


# ---------------------------------------------------------------- shared


def default_path(engine: Engine, data_dir: Path, local_now: datetime) -> Path:
    """`<data_dir>/backups/jxc-YYYYmmdd-HHMMSS.db` (SQLite) or `<db>-….dump` (PostgreSQL), never an existing one."""
    stamp = local_now.strftime("%Y%m%d-%H%M%S")
    if engine.dialect.name == "sqlite":
        stem, suffix = f"{Path(engine.url.database or 'jxc.db').stem}-{stamp}", ".db"
    else:
        stem, suffix = f"{engine.url.database}-{stamp}", ".dump"
    folder = data_dir / "backups"
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def keep_path(engine: Engine, data_dir: Path) -> Path:
    """Where a restore keeps the book it replaces: `<db file>.before-restore` or `<data_dir>/backups/<db>.before-restore`."""
    if engine.dialect.name == "sqlite":
        live = Path(engine.url.database or "jxc.db")
        return live.with_name(f"{live.name}.before-restore")
    return data_dir / "backups" / f"{engine.url.database}.before-restore"


def backup(engine: Engine, to: Path) -> Path:
    """Write a backup of the book behind `engine` to `to` (which must not exist yet)."""
    if to.exists():
        raise BackupError(f"备份文件已存在：{to}，请换一个 --to 文件名或先删除它",
                          f"backup file already exists: {to}; choose another --to or delete it first")
    to.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        _sqlite_backup(engine, to)
    else:
        _run([_tool("pg_dump"), "-Fc", "--no-owner", "--no-acl", "-f", str(to), "--dbname", _conninfo(engine.url)],
             engine.url, "pg_dump")
    return to


def restore(engine: Engine, source: Path, keep: Path) -> Path | None:
    """Replace the book behind `engine` by the backup `source`; the previous book goes to `keep`.

    Returns `keep`, or None when there was no book to keep (no tables yet).
    """
    kind = file_kind(source)
    expected = "sqlite" if engine.dialect.name == "sqlite" else "pgdump"
    if kind != expected:
        raise BackupError(
            f"{source} 不是本数据库可用的备份（需要 {_KIND_ZH[expected]}，这是 {_KIND_ZH[kind]}）；"
            "请用同一种数据库上 `jxc backup` 生成的文件",
            f"{source} is not a backup for this database (need {_KIND_EN[expected]}, got {_KIND_EN[kind]}); "
            "use a file made by `jxc backup` on the same kind of database")
    if kind == "pgdump":
        _check_pg_archive(source)
    else:
        _check_sqlite_file(source)
    staged = None
    if keep.exists() and keep.resolve() == source.resolve():  # undoing a restore: read the old book first
        staged = keep.replace(keep.with_name(keep.name + ".restoring"))
        source = staged
    kept = None
    if inspect(engine).get_table_names():
        keep.unlink(missing_ok=True)
        kept = backup(engine, keep)
    engine.dispose()  # our own pooled connections hold nothing while the book is replaced
    if kind == "sqlite":
        _sqlite_restore(engine, source)
    else:
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-acl",
              "--exit-on-error", "--dbname", _conninfo(engine.url), str(source)], engine.url, "pg_restore")
    if staged is not None:
        staged.unlink()
    return kept


def is_empty_book(engine: Engine) -> bool:
    """No product, user, document or ledger entry (or no tables at all): nothing a restore would destroy."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in BOOK_TABLES:
            if table in present and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
                return False
    return True


def file_kind(path: Path) -> str:
    """'sqlite', 'pgdump' or 'unknown', by the file's first bytes."""
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}，请检查 --from 路径",
                          f"backup file not found: {path}; check the --from path")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pgdump"
    return "unknown"


_KIND_ZH = {"sqlite": "SQLite 备份", "pgdump": "PostgreSQL pg_dump -Fc 备份", "unknown": "无法识别的文件"}
_KIND_EN = {"sqlite": "a SQLite backup", "pgdump": "a PostgreSQL pg_dump -Fc archive",
            "unknown": "an unrecognised file"}


@contextmanager
def opened_copy(engine: Engine, path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of a database holding the backup `path`, for the invariant check.

    SQLite: the backup file itself. PostgreSQL: a scratch database `<db>_verify_<pid>`
    on the same server, restored from the dump and dropped on exit.
    """
    if engine.dialect.name == "sqlite":
        yield URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)
        return
    scratch = f"{engine.url.database}_verify_{os.getpid()}"[:63]
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{scratch}" TEMPLATE template0'))
        url = engine.url.set(database=scratch)
        try:
            _run([_tool("pg_restore"), "--single-transaction", "--no-owner", "--no-acl", "--exit-on-error",
                  "--dbname", _conninfo(url), str(path)], url, "pg_restore")
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    finally:
        admin.dispose()


# ---------------------------------------------------------------- SQLite


def _sqlite_backup(engine: Engine, to: Path) -> None:
    raw = engine.raw_connection()  # a pooled connection: also works for an in-memory book
    try:
        with closing(sqlite3.connect(to)) as dest:
            raw.dbapi_connection.backup(dest)  # type: ignore[union-attr]
    finally:
        raw.close()


def _check_sqlite_file(source: Path) -> None:
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src:
        try:
            ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"备份文件已损坏：{source}（{exc}），请换一个备份文件",
                              f"backup file is damaged: {source} ({exc}); use another backup file") from exc
    if not ok or "books" not in tables:
        raise BackupError(f"{source} 不是完好的 jxc 账套备份，请换一个备份文件",
                          f"{source} is not an intact jxc book backup; use another backup file")


def _sqlite_restore(engine: Engine, source: Path) -> None:
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src:
        raw = engine.raw_connection()
        try:
            src.backup(raw.dbapi_connection)  # type: ignore[arg-type]  # one step, under the write lock
        finally:
            raw.close()


# ---------------------------------------------------------------- PostgreSQL


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"找不到 {name} 命令：请安装 PostgreSQL 客户端（Debian/Ubuntu：apt-get install postgresql-client，"
            "版本不低于服务器）",
            f"{name} not found: install the PostgreSQL client tools (Debian/Ubuntu: apt-get install "
            "postgresql-client, at least the server's version)")
    return found


def _conninfo(url: URL) -> str:
    """The SQLAlchemy URL in libpq form (`postgresql://user@host:port/db?…`), without the password."""
    return make_url(url).set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(args: list[str], url: URL, what: str) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where `ps` would show it
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        tail = " | ".join(detail[-3:]) or f"exit {done.returncode}"
        raise BackupError(f"{what} 失败：{tail}（请检查 JXC_DATABASE_URL、权限和客户端版本）",
                          f"{what} failed: {tail} (check JXC_DATABASE_URL, permissions and the client version)")


def _check_pg_archive(source: Path) -> None:
    done = subprocess.run([_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or "alembic_version" not in done.stdout:
        raise BackupError(f"{source} 不是完好的 jxc 账套备份（pg_restore --list 读不出账套表），请换一个备份文件",
                          f"{source} is not an intact jxc book archive (pg_restore --list shows no book "
                          "tables); use another backup file")
