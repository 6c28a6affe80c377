"""Shared helpers for the benchmarks: databases, seeding, workload, statistics, output.

Benchmarks build throw-away books: SQLite in a temporary folder (WAL), or a
PostgreSQL database they drop and create (default ``jxc_bench``).
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.ledger import Movement
from jxc.services import masterdata
from jxc.services.posting import SYSTEM, PostingRequest, post

PG_ADMIN = os.environ.get("JXC_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results"


# ---------------------------------------------------------------- databases

def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def fresh_pg_database(name: str) -> str:
    """Drop and create database ``name``; return its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name)


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_book(db: str, pg_name: str, pool: int = 20) -> tuple[App, str]:
    """A fresh, migrated book; returns the app and a plain DB-API target (file path / URL)."""
    if db == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="jxc-bench-"))
        app = build(Settings(data_dir=tmp))
        app.upgrade()
        return app, str(tmp / "jxc.db")
    url = fresh_pg_database(pg_name)
    app = build(Settings(database_url=url, db_pool_size=pool))
    app.create_all()
    return app, url.replace("postgresql+psycopg://", "postgresql://")


# ---------------------------------------------------------------- world

@dataclass(frozen=True)
class World:
    shelves: tuple[int, ...]
    supplier: int
    customer: int
    opening: int
    products: tuple[int, ...]


def seed_world(app: App, n_products: int, opening_qty: int = 1_000_000) -> World:
    """One warehouse, two shelves, ``n_products`` SKUs with opening stock on both shelves."""
    now = datetime.now(UTC)
    f = app.uow_factory
    wh = masterdata.create(f, "warehouses", {"code": "BWH", "name": "基准仓"}, SYSTEM, now)
    shelves = tuple(masterdata.create(f, "locations", {"code": f"BS-{i}", "name": f"货架{i}",
                                                         "warehouse_id": wh}, SYSTEM, now)
                    for i in (1, 2))
    with app.uow() as uow:  # bulk: one transaction through the record store port
        products = tuple(uow.records.insert("products", {
            "code": f"SKU{i:05d}", "name": f"商品{i}", "base_unit": "个", "tracking": "none",
            "active": True, "version": 1, "updated_at": now}) for i in range(n_products))
        virtual = {k: uow.records.find("locations", code=k)["id"]
                   for k in ("V-SUPPLIER", "V-CUSTOMER", "V-OPENING")}
        uow.commit()
    moves = [Movement(p, Decimal(opening_qty), virtual["V-OPENING"], s, unit_cost=Decimal("2.5"))
             for p in products for s in shelves if opening_qty]
    for i in range(0, len(moves), 200):
        post(f, PostingRequest("opening", tuple(moves[i:i + 200]), now), SYSTEM, now)
    return World(shelves, virtual["V-SUPPLIER"], virtual["V-CUSTOMER"], virtual["V-OPENING"], products)


# ---------------------------------------------------------------- workload

@dataclass(frozen=True)
class Doc:
    """A database-neutral document: kind and lines (product, qty, from, to, unit cost or None)."""

    kind: str
    lines: tuple[tuple[int, int, int, int, Decimal | None], ...]


COSTS = (Decimal("2.5"), Decimal("2.75"), Decimal("3.1"), Decimal("2.2"))


def make_doc(rng: random.Random, world: World, lines: int, hot: tuple[int, ...] | None) -> Doc:
    """Half receipts (supplier → shelf, priced), half issues (shelf → customer, average cost).

    Low contention (``hot`` None): distinct SKUs drawn from the whole catalogue.
    High contention: line i uses hot SKU i mod len(hot) on shelf (i // len(hot)) mod 2.
    """
    receipt = rng.random() < 0.5
    if hot is None:
        pairs = [(p, rng.choice(world.shelves)) for p in rng.sample(world.products, lines)]
    elif lines == 1:
        pairs = [(rng.choice(hot), rng.choice(world.shelves))]
    else:
        pairs = [(hot[i % len(hot)], world.shelves[(i // len(hot)) % 2]) for i in range(lines)]
    out = []
    for product, shelf in pairs:
        qty = rng.randint(1, 5)
        if receipt:
            out.append((product, qty, world.supplier, shelf, rng.choice(COSTS)))
        else:
            out.append((product, qty, shelf, world.customer, None))
    return Doc("receipt" if receipt else "issue", tuple(out))


def to_request(doc: Doc, now: datetime) -> PostingRequest:
    return PostingRequest(doc.kind, tuple(Movement(p, Decimal(q), f, t, unit_cost=c)
                                          for p, q, f, t, c in doc.lines), now)


# ---------------------------------------------------------------- statistics and output

def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def summarize(latencies: list[float], wall_s: float) -> dict[str, float]:
    lat = sorted(latencies)
    return {"n": len(lat), "rate": len(lat) / wall_s if wall_s else 0.0,
            "p50_ms": percentile(lat, 0.50) * 1000, "p99_ms": percentile(lat, 0.99) * 1000,
            "mean_ms": (statistics.fmean(lat) * 1000) if lat else float("nan")}


def machine() -> dict[str, Any]:
    import sqlalchemy

    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "sqlalchemy": sqlalchemy.__version__,
            "note": "shared, noisy machine: compare ratios, not absolute times"}


def print_table(rows: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> None:
    """``cols``: (key, header, format spec)."""
    cells = [[h for _, h, _ in cols]]
    for r in rows:
        cells.append([("" if r.get(k) is None else format(r[k], f)) for k, _, f in cols])
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    for j, line in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nresults written to {path}")
