"""批次分配与可用量 — FEFO/FIFO/STRICT picks, and the one definition of available with its why."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from jxc.domain import availability as av
from jxc.domain.allocation import LotStock, PickStrategy, pick_lots

TODAY = date(2026, 11, 22)
qty = st.decimals(places=3, min_value=D("0.001"), max_value=D(500), allow_nan=False, allow_infinity=False)
lots = st.lists(st.builds(LotStock, lot_id=st.integers(1, 10_000), qty=qty,
                          expires_on=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2028, 1, 1))),
                          received_seq=st.integers(0, 1000)), max_size=8, unique_by=lambda x: x.lot_id)


@given(lots, qty, st.sampled_from(list(PickStrategy)))
def test_picks_never_invent_stock_and_picks_plus_shortage_is_the_need(candidates, need, strategy):
    named = candidates[0].lot_id if candidates else None
    alloc = pick_lots(strategy, need, candidates, lot_id=named)
    assert alloc.picked + alloc.shortage == need
    have = {c.lot_id: c.qty for c in candidates}
    for p in alloc.picks:
        assert 0 < p.qty <= have[p.lot_id]
    if strategy is PickStrategy.STRICT:
        assert {p.lot_id for p in alloc.picks} <= {named}
    else:
        assert alloc.shortage == max(need - sum(have.values(), D(0)), D(0))


@given(lots, qty)
def test_fefo_takes_a_later_expiry_only_when_every_earlier_one_is_used_up(candidates, need):
    alloc = pick_lots(PickStrategy.FEFO, need, candidates)
    picked = {p.lot_id: p.qty for p in alloc.picks}
    by_id = {c.lot_id: c for c in candidates}
    key = lambda c: (c.expires_on is None, c.expires_on or date.max)  # noqa: E731
    for p in alloc.picks:
        for other in candidates:
            if key(other) < key(by_id[p.lot_id]):
                assert picked.get(other.lot_id) == other.qty  # the nearer-expiry lot was emptied first


def test_strict_takes_only_the_named_lot_and_reports_the_rest_short():
    alloc = pick_lots(PickStrategy.STRICT, D(5), [LotStock(1, D(10)), LotStock(2, D(3))], lot_id=2)
    assert [(p.lot_id, p.qty) for p in alloc.picks] == [(2, D(3))] and alloc.shortage == D(2)


def test_lot_health_by_policy_and_product_override():
    policy = av.AvailabilityPolicy(block_days=7, warn_days=30)
    assert av.lot_health(TODAY - timedelta(days=1), TODAY, policy) == av.EXPIRED
    assert av.lot_health(TODAY + timedelta(days=3), TODAY, policy) == av.NEAR_EXPIRY_BLOCKED
    assert av.lot_health(TODAY + timedelta(days=3), TODAY, policy, block_days=2) == av.NEAR_EXPIRY_WARN
    assert av.lot_health(TODAY + timedelta(days=60), TODAY, policy) == av.OK
    relaxed = av.AvailabilityPolicy(block_near_expiry=False)
    assert av.sellable(av.lot_health(TODAY + timedelta(days=3), TODAY, relaxed))


def test_explain_accounts_for_every_unit_of_on_hand():
    lines = [
        av.StockLine(1, "A-01", 11, "L-old", TODAY - timedelta(days=2), "available", D(40)),
        av.StockLine(1, "A-01", 12, "L-near", TODAY + timedelta(days=3), "available", D(30)),
        av.StockLine(1, "A-01", 13, "L-ok", TODAY + timedelta(days=90), "available", D(200)),
        av.StockLine(2, "B-01", 13, "L-ok", TODAY + timedelta(days=90), "frozen", D(10)),
        av.StockLine(2, "B-01", 13, "L-ok", TODAY + timedelta(days=90), "quality_hold", D(7)),
    ]
    held = [av.Held(5, "sales_order:XSDD-1", None, 0, D(13))]
    e = av.explain(lines, held, TODAY, av.AvailabilityPolicy())
    assert (e.on_hand, e.available, e.reserved) == (D(287), D(187), D(13))
    reasons = {p.reason: p.qty for p in e.parts}
    assert reasons == {"available": D(187), "lot:expired": D(40), "lot:near_expiry_blocked": D(30),
                       "status:frozen": D(10), "status:quality_hold": D(7), "reserved": D(13)}
    not_available = sum(q for r, q in reasons.items() if r != "available")
    assert e.available + not_available == e.on_hand  # every unit is explained
    counted = av.explain(lines, held, TODAY, av.AvailabilityPolicy(count_quality_hold=True))
    assert counted.available == D(194)
