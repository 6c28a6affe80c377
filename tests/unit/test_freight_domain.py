"""采购运费分摊 — the largest-remainder split of a receipt's freight over its lines."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jxc.domain import freight
from jxc.domain.errors import DomainError

weights = st.lists(st.decimals("0", "100000", places=4, allow_nan=False, allow_infinity=False), min_size=1,
                   max_size=12).filter(lambda ws: sum(ws) > 0)
amounts = st.decimals("0", "99999.99", places=2, allow_nan=False, allow_infinity=False)


@given(amounts, weights)
@example(D("0.01"), [D(1), D(1), D(1)])
@example(D("30"), [D(500), D(120)])
def test_shares_sum_to_the_freight_are_nonnegative_and_within_one_fen(total, ws):
    shares = freight.split(total, ws)
    assert len(shares) == len(ws) and sum(shares, D(0)) == total
    for share, w in zip(shares, ws, strict=True):
        exact = total * w / sum(ws)
        assert share >= 0 and share == share.quantize(D("0.01"))
        assert abs(share - exact) < D("0.01")
        if w == 0:
            assert share == 0


def test_left_over_fen_go_to_the_largest_remainders_then_the_earlier_line():
    assert freight.split(D("30"), [D(500), D(120)]) == (D("24.19"), D("5.81"))  # .35 vs .64: eggs get the 分
    assert freight.split(D("0.02"), [D(1), D(1), D(1)]) == (D("0.01"), D("0.01"), D(0))  # ties: earlier first
    assert freight.split(D("10"), [D(1), D(2)]) == (D("3.33"), D("6.67"))


def test_no_freight_splits_to_zeros_and_an_all_zero_basis_is_refused():
    assert freight.split(D(0), [D(0), D(0)]) == (D(0), D(0))
    with pytest.raises(DomainError) as err:
        freight.split(D(5), [D(0), D(0)])
    assert (err.value.code, err.value.field) == ("FREIGHT_BASIS_EMPTY", "freight_basis")


@pytest.mark.parametrize(("amount", "ok"), [(D(0), True), (D("12.50"), True), (D("-0.01"), False),
                                            (D("1.005"), False), (D(10) ** 12, False)])
def test_freight_check_accepts_whole_fen_from_zero(amount, ok):
    assert (freight.check(amount) == []) is ok
