"""应收应付 pure rules — document amounts, due dates, ageing buckets, oldest-first allocation, over-allocation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jxc.domain import money as m
from jxc.domain.errors import DomainError

amounts = st.decimals(places=2, min_value=D("0.01"), max_value=D("10000"), allow_nan=False, allow_infinity=False)


def test_document_amount_is_signed_per_kind_rounded_per_line_and_counts_unpriced_lines():
    # 3 × 0.333333 = 0.999999 → 1.0000 (half-up, 4 places); the unpriced line adds nothing
    lines = [{"qty_base": D("3"), "unit_price": D("0.333333")}, {"qty_base": D("2"), "unit_price": None}]
    assert m.document_amount("sales_delivery", lines) == (D("1.0000"), 1)
    assert m.document_amount("purchase_return", lines) == (D("-1.0000"), 1)
    neg = [{"qty_base": D("-2"), "unit_price": D("5")}]  # a negative sales line is a credit inside the delivery
    assert m.document_amount("sales_delivery", neg) == (D(-10), 0)


@pytest.mark.parametrize(("days_late", "bucket"), [(-5, "not_due"), (0, "not_due"), (1, "d1_30"), (30, "d1_30"),
                                                   (31, "d31_60"), (60, "d31_60"), (61, "d61_90"), (90, "d61_90"),
                                                   (91, "over_90")])
def test_ageing_bucket_edges(days_late, bucket):
    due = date(2026, 12, 1)
    assert m.bucket(due, due + timedelta(days=days_late)) == bucket


def test_due_date_adds_the_terms_and_no_terms_is_due_at_once():
    assert m.due_on(date(2026, 11, 1), 30) == date(2026, 12, 1)
    assert m.due_on(date(2026, 11, 1), None) == date(2026, 11, 1)


@given(amount=amounts, opens=st.lists(amounts, max_size=8))
def test_oldest_first_never_exceeds_either_side_and_fills_in_order(amount, opens):
    items = [m.Open(i + 1, o, (i,)) for i, o in enumerate(opens)]
    plan = m.oldest_first(amount, items)
    assert sum(a for _, a in plan) == min(amount, sum(opens, D(0)))
    for (item_id, a) in plan:
        assert D(0) < a <= opens[item_id - 1]
    ids = [i for i, _ in plan]
    assert ids == sorted(ids)  # oldest first
    assert all(a == opens[i - 1] for i, a in plan[:-1])  # every item but the last is filled


@given(open_=amounts, extra=amounts)
def test_allocating_more_than_open_is_refused(open_, extra):
    with pytest.raises(DomainError) as err:
        m.check_allocation(open_ + extra, [(1, open_ + extra)], {1: open_})
    assert err.value.code == "OVER_ALLOCATION"
    with pytest.raises(DomainError) as err:
        m.check_allocation(open_, [(1, open_), (2, extra)], {1: open_, 2: extra})
    assert err.value.code == "OVER_ALLOCATION"
    m.check_allocation(open_ + extra, [(1, open_), (2, extra)], {1: open_, 2: extra})


@given(items=st.lists(st.tuples(st.integers(1, 3), st.decimals(places=2, min_value=D(-500), max_value=D(500),
                                                                 allow_nan=False, allow_infinity=False),
                                st.integers(-10, 200)), max_size=12))
def test_ageing_buckets_and_credits_add_up_to_the_balance(items):
    as_of = date(2026, 12, 31)
    aged = m.age([m.AgedItem(p, a, as_of - timedelta(days=late)) for p, a, late in items], as_of)
    for pid, row in aged.items():
        assert sum(row[b] for b in m.BUCKETS) + row["credit"] == row["balance"]
        assert row["balance"] == sum((a for p, a, _ in items if p == pid), D(0))
        assert row["credit"] <= 0 and all(row[b] >= 0 for b in m.BUCKETS)
