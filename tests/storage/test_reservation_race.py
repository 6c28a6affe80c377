"""预占并发 — 64 clients from three channels race for 10 units: exactly 10 win, 54 are told the figure.

On a SQLite file (WAL, real connections) and on PostgreSQL; repeated, because a race
that passes once proves little. After each race: the exact counts, the totals row equals
the pending reservations, and `violations()` (I1–I9, I4) is clean.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError
from jxc.domain.ledger import Movement
from jxc.services import reserving as rs
from jxc.services.posting import SYSTEM, Actor, PostingRequest, post
from tests.conftest import NOW, make_world

CLIENTS = 64
SALES = Actor("pos", frozenset({"document.create.sales_delivery", "document.post"}), role="sales")
CHANNELS = ("store_pos", "meituan", "wechat_group")


def _race(work, n: int = CLIENTS) -> Counter[str]:
    barrier = threading.Barrier(n)

    def one(i: int) -> str:
        barrier.wait()
        try:
            return work(i)
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(n) as pool:
        return Counter(pool.map(one, range(n)))


def _setup(app, qty: str):
    w = make_world(app)
    for code in CHANNELS:
        rs.save_channel(app.uow_factory, code, code, [w.wh], SYSTEM, NOW, ttl_s=1800)
    post(app.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(qty), w.supplier, w.shelf_a,
                                                              unit_cost=D(1)),), NOW), SYSTEM, NOW)
    return w


@pytest.mark.parametrize("round_", range(3))
def test_64_clients_three_channels_race_for_10_units(file_app, round_):
    w = _setup(file_app, "10")
    losers: list[str] = []

    def grab(i: int) -> str:
        try:
            rs.reserve(file_app.uow_factory, rs.ReserveRequest(w.rice, w.wh, "1", f"order:{i}",
                                                               channel=CHANNELS[i % 3]), SALES, NOW)
            return "ok"
        except DomainError as exc:
            losers.append(exc.details.get("available", "?"))
            raise

    outcome = _race(grab)
    assert outcome == Counter({"ok": 10, "STOCK_INSUFFICIENT": CLIENTS - 10})
    assert set(losers) == {"0.0000"}  # every loser was told what was available
    e = rs.availability(file_app.uow_factory, w.rice, w.wh, NOW.date())
    assert (e.on_hand, e.reserved, e.available) == (D(10), D(10), D(0))
    assert file_app.queries.violations() == []


@pytest.mark.parametrize("round_", range(2))
def test_reservations_and_plain_deliveries_racing_never_oversell(file_app, round_):
    w = _setup(file_app, "10")

    def mixed(i: int) -> str:
        if i % 2:
            rs.reserve(file_app.uow_factory, rs.ReserveRequest(w.rice, w.wh, "1", f"order:{i}"), SALES, NOW)
        else:
            post(file_app.uow_factory, PostingRequest("sales_delivery", (Movement(w.rice, D(1), w.shelf_a,
                                                                                   w.customer),), NOW), SALES, NOW)
        return "ok"

    outcome = _race(mixed, 32)
    assert outcome["ok"] == 10 and set(outcome) <= {"ok", "STOCK_INSUFFICIENT", "STOCK_RESERVED"}
    e = rs.availability(file_app.uow_factory, w.rice, w.wh, NOW.date())
    assert e.on_hand >= e.reserved and e.available == D(0)
    assert file_app.queries.violations() == []
