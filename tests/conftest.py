"""Test fixtures: the same suite runs on SQLite (default) and PostgreSQL (--db=postgresql).

PostgreSQL tests use a database of their own per test process
(``jxc_test_<pid>_<worker>``), created fresh at session start; each test starts
from empty tables (TRUNCATE) plus the rows every book starts with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.services import masterdata
from jxc.services.posting import SYSTEM

PG_ADMIN_URL = os.environ.get("JXC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default=os.environ.get("JXC_TEST_DB", "sqlite"),
                     choices=["sqlite", "postgresql"], help="database the suite runs against")


def _pg_reachable() -> str | None:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]
    return None


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def pg_url(db_kind: str, worker_id: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test process, or None on SQLite runs."""
    if db_kind != "postgresql":
        yield None
        return
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN_URL}: {problem}")
    import psycopg

    name = f"jxc_test_{os.getpid()}_{worker_id}"  # concurrent sessions never drop each other's
    admin = psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    setup = build(Settings(database_url=url))
    _create_stamped(setup)
    setup.dispose()
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def _create_stamped(app: App) -> None:
    """Schema from tables.py (test_migrations proves the migrations build the same), stamped at
    head so that `jxc init` / `serve` on this database upgrade nothing."""
    from alembic import command

    from jxc.storage.schema import alembic_config

    app.create_all()
    command.stamp(alembic_config(app.engine), "head")


def _truncate(app: App) -> None:
    from jxc.storage.schema import seed_rows
    from jxc.storage.tables import metadata

    names = ", ".join(t.name for t in metadata.sorted_tables)
    with app.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        seed_rows(conn)


@pytest.fixture
def app(pg_url: str | None, tmp_path: Path) -> Iterator[App]:
    """A fresh, empty book on the database under test (SQLite: in memory)."""
    if pg_url:
        a = build(Settings(database_url=pg_url, data_dir=tmp_path))
        _truncate(a)
    else:
        a = build(Settings(database_url="sqlite://", data_dir=tmp_path))
        a.create_all()
    yield a
    a.dispose()


@pytest.fixture
def file_app(pg_url: str | None, tmp_path: Path) -> Iterator[App]:
    """Like `app`, but with real separate connections: a SQLite file in WAL mode."""
    if pg_url:
        a = build(Settings(database_url=pg_url, data_dir=tmp_path, db_pool_size=20))
        _truncate(a)
    else:
        a = build(Settings(data_dir=tmp_path))
        _create_stamped(a)
    yield a
    a.dispose()


@dataclass(frozen=True)
class World:
    """A small shop: one warehouse with two shelves, three products, the virtual locations."""

    wh: int
    shelf_a: int
    shelf_b: int
    supplier: int
    customer: int
    scrap: int
    opening: int
    transit: int
    count_diff: int
    milk: int  # 牛奶, 瓶, lot-tracked
    rice: int  # 大米, 袋, not tracked
    eggs: int  # 鸡蛋, 个
    milk_lot: int


def make_world(app: App) -> World:
    f = app.uow_factory
    wh = masterdata.create(f, "warehouses", {"code": "WH1", "name": "总仓"}, SYSTEM, NOW)
    a = masterdata.create(f, "locations", {"code": "A-01", "name": "A货架", "warehouse_id": wh}, SYSTEM, NOW)
    b = masterdata.create(f, "locations", {"code": "B-01", "name": "B货架", "warehouse_id": wh}, SYSTEM, NOW)
    milk = masterdata.create(f, "products", {"code": "P001", "name": "纯牛奶", "base_unit": "瓶",
                                             "tracking": "lot", "shelf_life_days": 21}, SYSTEM, NOW)
    rice = masterdata.create(f, "products", {"code": "P002", "name": "东北大米", "spec": "5kg",
                                             "base_unit": "袋"}, SYSTEM, NOW)
    eggs = masterdata.create(f, "products", {"code": "P003", "name": "鸡蛋", "base_unit": "个"}, SYSTEM, NOW)
    lot = masterdata.create_lot(f, milk, "L20261101", SYSTEM, NOW, produced_on=NOW.date())
    with app.engine.connect() as conn:
        from jxc.storage.tables import locations

        v = {r.code: r.id for r in conn.execute(locations.select().where(locations.c.kind != "physical"))}
    return World(wh, a, b, v["V-SUPPLIER"], v["V-CUSTOMER"], v["V-SCRAP"], v["V-OPENING"],
                 v["V-TRANSIT"], v["V-COUNT"], milk, rice, eggs, lot)


@pytest.fixture
def world(app: App) -> World:
    return make_world(app)
