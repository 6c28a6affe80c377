"""组装 — the one place that wires settings, storage and services together.

Interfaces (CLI, API, web, worker) call `build()` and get an `App` with a
unit-of-work factory, read queries and a clock; they never see storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from jxc.config import Settings
from jxc.services import reports
from jxc.services.catalog_search import CatalogIndex
from jxc.services.chat_catalog import ChatCatalog
from jxc.services.ports import Queries, UnitOfWork, Violation
from jxc.services.posting import SYSTEM
from jxc.services.web_reads import WebReads
from jxc.storage import backup as backups
from jxc.storage import schema
from jxc.storage.backup import BackupError, BackupReport, RestoreReport
from jxc.storage.batch import SqlBatch
from jxc.storage.engine import make_engine
from jxc.storage.queries import SqlQueries
from jxc.storage.uow import SqlUnitOfWork
from jxc.storage.web_queries import SqlWebReads


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: Engine
    queries: Queries
    clock: SystemClock = field(default_factory=SystemClock)
    chat_catalog: ChatCatalog = field(default_factory=ChatCatalog)  # the chat-order parser's catalog cache
    catalog_index: CatalogIndex = field(default_factory=CatalogIndex)  # product search keys + pinyin initials
    web: WebReads | None = None  # the web pages' read models (set by `build`)

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine)

    @property
    def uow_factory(self) -> partial[UnitOfWork]:
        return partial(SqlUnitOfWork, self.engine)

    @contextmanager
    def batch(self) -> Iterator[Callable[[], UnitOfWork]]:
        """Many service calls in one transaction (demo builder, bulk loads): each call is a savepoint."""
        with SqlBatch(self.engine) as factory:
            yield factory

    def upgrade(self) -> None:
        """Create or upgrade the schema (Alembic); safe to rerun."""
        schema.migrate(self.engine)

    def create_all(self) -> None:
        """Fast schema creation without migrations (tests, throw-away databases)."""
        schema.create_all(self.engine)

    def rebuild_reports(self) -> dict[str, int]:
        """重建报表投影 — both report projections (汇总表, 订单完成汇总) from their sources, in the zone of
        the book setting `reports.timezone`, audited (services/reports.rebuild). Rows written, per projection."""
        return reports.rebuild(self.uow_factory, SYSTEM, self.clock.now())

    def schema_revision(self) -> str | None:
        return schema.current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def backup(self, to: Path | None = None) -> BackupReport:
        """备份 — copy the book (online) to `to` or `<data_dir>/backups/…`, then check the copy's invariants."""
        local_now = self.clock.now().astimezone(self.settings.zone)
        path = backups.backup(self.engine, to or backups.default_path(self.engine, self.settings.data_dir, local_now))
        return BackupReport(path, self.engine.dialect.name, path.stat().st_size, self._check_copy(path))

    def restore(self, from_: Path, force: bool = False) -> RestoreReport:
        """恢复 — replace the book by a backup (refused over a non-empty book unless `force`), then check it."""
        if not force and not backups.is_empty_book(self.engine):
            raise BackupError("当前账套已有数据，恢复会覆盖它；确认后加 --force（原账套会另存为 .before-restore）",
                              "the book is not empty and a restore replaces it; add --force to confirm "
                              "(the current book is kept as .before-restore)")
        kept = backups.restore(self.engine, from_, backups.keep_path(self.engine, self.settings.data_dir))
        self.upgrade()  # a backup from an older version gets this version's schema; no-op otherwise
        return RestoreReport(from_, kept, self.engine.dialect.name, self.queries.violations())

    def _check_copy(self, path: Path) -> list[Violation]:
        with backups.opened_copy(self.engine, path) as url:
            copy = build(Settings(database_url=url, data_dir=self.settings.data_dir))
            try:
                return copy.queries.violations()
            finally:
                copy.dispose()


__all__ = ["App", "BackupError", "SystemClock", "build"]  # BackupError: interfaces catch it from here


def build(settings: Settings | None = None) -> App:
    settings = settings or Settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url, pool_size=settings.db_pool_size)
    return App(settings, engine, SqlQueries(engine), web=SqlWebReads(engine))
