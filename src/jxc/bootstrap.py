"""组装 — the one place that wires settings, storage and services together.

Interfaces (CLI, API, web, worker) call `build()` and get an `App` with a
unit-of-work factory, read queries and a clock; they never see storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Engine

from jxc.config import Settings
from jxc.services.ports import Queries, UnitOfWork
from jxc.storage import schema
from jxc.storage.engine import make_engine
from jxc.storage.queries import SqlQueries
from jxc.storage.uow import SqlUnitOfWork


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: Engine
    queries: Queries
    clock: SystemClock = field(default_factory=SystemClock)

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine)

    @property
    def uow_factory(self) -> partial[UnitOfWork]:
        return partial(SqlUnitOfWork, self.engine)

    def upgrade(self) -> None:
        """Create or upgrade the schema (Alembic); safe to rerun."""
        schema.migrate(self.engine)

    def create_all(self) -> None:
        """Fast schema creation without migrations (tests, throw-away databases)."""
        schema.create_all(self.engine)

    def schema_revision(self) -> str | None:
        return schema.current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None) -> App:
    settings = settings or Settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url, pool_size=settings.db_pool_size)
    return App(settings, engine, SqlQueries(engine))
