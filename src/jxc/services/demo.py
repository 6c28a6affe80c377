"""演示数据 — deterministic demo businesses, built through the real services.

Two businesses, one per data folder (one book each):
- ``fresh``: 鲜邻优选, a community fresh-produce shop (`demo_fresh`);
- ``wholesale``: 宏达建材, a building-materials wholesaler with three warehouses (`demo_wholesale`).

Guarantees:
- Everything goes through the services (master data, users, orders, documents,
  transfers, counting, posting), so every invariant holds and `jxc check` is clean.
- Deterministic: a seeded `random.Random`, and times relative to ``now`` (the
  history ends the evening before ``now``); the same seed and ``now`` give the same book.
- Bulk work may run in batches (``batch``: one transaction per chunk of days,
  each service call a savepoint) — the same service calls, fewer commits.
- Money goes through `services.money` only (收款 / 付款 into the demo's money accounts,
  allocated oldest first; credit overrides by the owner), so `jxc check`'s M1–M4 hold too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jxc.domain.money import PaymentKind
from jxc.domain.quantities import ZERO
from jxc.services import money, money_reads, users
from jxc.services.ports import UnitOfWork
from jxc.services.posting import SYSTEM, Actor

UowFactory = Callable[[], UnitOfWork]
Batcher = Callable[[], AbstractContextManager[UowFactory]]
Progress = Callable[[int, int], None]  # (days done, days in all)
DEMO_PASSWORD = "demo1234"
DEMO_USERS = (("laoban", "owner", "李姐(老板)"), ("zhuguan", "manager", "王主管"),
              ("cangguan", "keeper", "小张(仓管)"), ("shouyin", "sales", "小刘(收银)"))
BUSINESSES = {"fresh": ("鲜邻优选社区生鲜店", "Xianlin fresh-produce shop"),
              "wholesale": ("宏达建材批发", "Hongda building-materials wholesaler")}


@dataclass(frozen=True)
class DemoSummary:
    products: int
    postings: int
    users: tuple[tuple[str, str, str], ...]
    business: str = "fresh"
    days: int = 0
    documents: int = 0
    notes: tuple[str, ...] = ()


@dataclass
class Run:
    """What a builder needs: the factory of the current batch, actors, the clock of the story."""

    uow_factory: UowFactory
    zone: ZoneInfo
    start: date
    days: int
    rng: random.Random
    actors: dict[str, Actor] = field(default_factory=dict)
    postings: int = 0
    documents: int = 0

    @property
    def f(self) -> UowFactory:
        return self.uow_factory

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def day(self, i: int) -> date:
        return self.start + timedelta(days=i)


def build_demo(uow_factory: UowFactory, now: datetime, zone: ZoneInfo, days: int | None = None,
               seed: int = 20260122, business: str = "fresh", scale: int = 1,
               batch: Batcher | None = None, progress: Progress | None = None,
               size: int | None = None) -> DemoSummary:
    """Build ``business`` ending the evening before ``now``: ``days`` × ``scale`` days of history.

    ``size`` shrinks the catalog (tests); ``batch`` groups service calls into transactions.
    """
    from importlib import import_module  # the builders import this module's helpers

    if business not in BUSINESSES:
        raise ValueError(f"unknown demo business {business!r}; choose one of {', '.join(BUSINESSES)}")
    builder: Any = import_module(f"jxc.services.demo_{business}")
    total = (days if days is not None else builder.DEFAULT_DAYS) * max(1, scale)
    local_now = now.astimezone(zone)
    run = Run(uow_factory, zone, local_now.date() - timedelta(days=total), total, random.Random(seed))
    batcher: Batcher = batch or (lambda: nullcontext(uow_factory))
    with batcher() as f:
        run.uow_factory = f
        for username, role, name in DEMO_USERS:
            users.create_user(f, username, DEMO_PASSWORD, role, SYSTEM, run.at(run.day(-1), 8), display_name=name)
            run.actors[username] = users.actor_for(f, username, device="demo")
        shop = builder.setup(run, size)
    done = 0
    step = 1  # one transaction per simulated day: small transactions stay fast on SQLite and PostgreSQL
    while done < total:
        chunk = range(done, min(total, done + step))
        with batcher() as f:
            run.uow_factory = f
            for i in chunk:
                builder.simulate_day(run, shop, i)
        done = chunk.stop
        if progress:
            progress(done, total)
    with batcher() as f:
        run.uow_factory = f
        notes = builder.finish(run, shop)
    run.uow_factory = uow_factory
    return DemoSummary(len(shop.items), run.postings, DEMO_USERS, business, total, run.documents, tuple(notes))


# measured on the reference machine (docs/benchmarks.md): setup seconds, seconds per simulated day
_RATES = {"fresh": (7.0, 0.9), "wholesale": (9.0, 0.32)}


def default_days(business: str) -> int:
    from importlib import import_module

    return int(import_module(f"jxc.services.demo_{business}").DEFAULT_DAYS)


def estimate_s(business: str, days: int) -> float:
    """预计耗时 — from the rates measured on the reference machine; the progress bar refines it."""
    setup, per_day = _RATES[business]
    return setup + per_day * days


def is_empty(uow_factory: UowFactory) -> bool:
    """No product and no user yet: a fresh book the demo may fill."""
    with uow_factory() as uow:
        return uow.records.find("products") is None and uow.records.find("users") is None


def virtual_ids(f: UowFactory) -> dict[str, int]:
    with f() as uow:
        return {code: uow.records.find("locations", code=code)["id"]
                for code in ("V-SUPPLIER", "V-CUSTOMER", "V-SCRAP")}


def weekday_factor(day: date) -> float:
    """周末更忙 — Friday a little, Saturday and Sunday a lot."""
    return (1.0, 0.95, 1.0, 1.05, 1.15, 1.45, 1.35)[day.weekday()]


ACCOUNTS = (("BANK", "工商银行对公账户", "bank"), ("WX", "微信收款", "wechat"), ("ZFB", "支付宝", "alipay"),
            ("CASH", "现金", "cash"))


def create_accounts(run: Run) -> dict[str, int]:
    """资金账户 — the bank account, WeChat Pay, Alipay and the cash box (codes BANK / WX / ZFB / CASH)."""
    at = run.at(run.day(-1), 9)
    return {code: money.create_account(run.f, code, name, kind, run.actors["laoban"], at)
            for code, name, kind in ACCOUNTS}


def settle(run: Run, partner_id: int, receivable: bool, account_id: int, due_by: date | None, at: datetime,
           remark: str) -> Decimal:
    """收款 / 付款 — the owner records what the partner's open items due by ``due_by`` come to (None: all),
    less any unallocated credit, allocated oldest first; returns the amount (0: nothing was due)."""
    side = "receivable" if receivable else "payable"
    rows = money_reads.open_items(run.f, run.actors["laoban"], None, 1000, partner_id=partner_id, side=side)
    due = sum((r["open"] for r in rows if r["open"] > 0 and (due_by is None or _day(r["due_on"]) <= due_by)), ZERO)
    amount = due + sum((r["open"] for r in rows if r["open"] < 0), ZERO)
    if amount <= 0:
        return ZERO
    kind = PaymentKind.RECEIPT if receivable else PaymentKind.PAYMENT
    money.record_payment(run.f, money.PaymentInput(kind, partner_id, account_id, amount, at, remark=remark),
                         run.actors["laoban"], at)
    return amount


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
