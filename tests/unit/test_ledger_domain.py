"""库存流水 (domain) — properties of the pure ledger rules: I2, I5, I8, I9, validation.

No I/O: movements, entries and balances are built in memory.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jxc.domain.balances import Amount, apply, replay
from jxc.domain.catalog import (
    LocationInfo,
    LocationKind,
    LotInfo,
    ProductInfo,
    StockStatus,
    Tracking,
)
from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.ledger import (
    NO_LOT,
    BucketKey,
    LedgerEntry,
    MasterData,
    Movement,
    build_entries,
    check_period_open,
    imbalances,
    reverse_entries,
    validate_movements,
)

EXAMPLES = 500 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60
PROPERTY = settings(max_examples=EXAMPLES, deadline=None)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# Two warehouses (10, 20) with physical shelves, and the virtual locations.
LOCATIONS = {
    1: LocationInfo(1, "A-01", LocationKind.PHYSICAL, 10, True),
    2: LocationInfo(2, "B-01", LocationKind.PHYSICAL, 10, True),
    3: LocationInfo(3, "C-01", LocationKind.PHYSICAL, 20, True),
    90: LocationInfo(90, "V-SUPPLIER", LocationKind.SUPPLIER, None, True),
    91: LocationInfo(91, "V-CUSTOMER", LocationKind.CUSTOMER, None, True),
    92: LocationInfo(92, "V-TRANSIT", LocationKind.TRANSIT, None, True),
    93: LocationInfo(93, "V-SCRAP", LocationKind.SCRAP, None, True),
}
PRODUCTS = (1, 2, 3)
LOTS = (NO_LOT, 7, 8)
MONEY = Decimal("0.0001")
COST = Decimal("0.000001")

quantities = st.decimals(
    places=3,
    min_value=Decimal("0.001"),
    max_value=Decimal("100000"),
    allow_nan=False,
    allow_infinity=False,
)
unit_costs = st.decimals(
    places=6, min_value=Decimal(0), max_value=Decimal("9999"), allow_nan=False, allow_infinity=False
)
statuses = st.sampled_from(list(StockStatus))
times = st.integers(min_value=0, max_value=6).map(lambda h: T0 + timedelta(hours=h))


@st.composite
def movements(draw: st.DrawFn) -> Movement:
    return Movement(
        product_id=draw(st.sampled_from(PRODUCTS)),
        qty=draw(quantities),
        from_location_id=draw(st.sampled_from(sorted(LOCATIONS))),
        to_location_id=draw(st.sampled_from(sorted(LOCATIONS))),
        lot_id=draw(st.sampled_from(LOTS)),
        from_status=draw(statuses),
        to_status=draw(st.none() | statuses),
        unit_cost=draw(st.none() | unit_costs),
    )


movement_sets = st.lists(movements(), min_size=1, max_size=8).map(tuple)
average_costs = st.dictionaries(
    st.tuples(st.sampled_from(PRODUCTS), st.sampled_from([10, 20])),
    st.decimals(
        places=8,
        min_value=Decimal(0),
        max_value=Decimal("500"),
        allow_nan=False,
        allow_infinity=False,
    ),
    max_size=6,
)


@st.composite
def postings(draw: st.DrawFn) -> list[tuple[LedgerEntry, ...]]:
    """Several postings, each at its own business time."""
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        out.append(build_entries(draw(movement_sets), draw(times), draw(average_costs), LOCATIONS))
    return out


def _sums(entries) -> dict[BucketKey, Amount]:
    """Independent oracle: Σ qty and Σ value per bucket, zero buckets dropped."""
    qty: dict[BucketKey, Decimal] = defaultdict(Decimal)
    value: dict[BucketKey, Decimal] = defaultdict(Decimal)
    for e in entries:
        key = BucketKey(e.location_id, e.product_id, e.lot_id, e.status)
        qty[key] += e.qty
        value[key] += e.value
    return {k: Amount(qty[k], value[k]) for k in qty if qty[k] != 0 or value[k] != 0}


# --- build_entries (I2) -------------------------------------------------------------------


@PROPERTY
@given(movement_sets, times, average_costs)
@example((Movement(1, Decimal("0.001"), 1, 91, unit_cost=Decimal("0.00005")),), T0, {})
def test_build_entries_balances_every_product_and_lot(moves, at, costs):
    entries = build_entries(moves, at, costs, LOCATIONS)
    qty: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    value: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for e in entries:
        qty[(e.product_id, e.lot_id)] += e.qty
        value[(e.product_id, e.lot_id)] += e.value
    assert all(q == 0 for q in qty.values())
    assert all(v == 0 for v in value.values())
    assert imbalances(entries) == {}


@PROPERTY
@given(movement_sets, times, average_costs)
def test_build_entries_writes_one_source_and_one_destination_entry_per_movement(moves, at, costs):
    entries = build_entries(moves, at, costs, LOCATIONS)
    assert len(entries) == 2 * len(moves)
    for line_no, m in enumerate(moves, start=1):
        pair = [e for e in entries if e.line_no == line_no]
        assert len(pair) == 2
        src, dst = sorted(pair, key=lambda e: e.qty)
        assert (src.location_id, src.status, src.qty) == (m.from_location_id, m.from_status, -m.qty)
        assert (dst.location_id, dst.status, dst.qty) == (m.to_location_id, m.dest_status, m.qty)
        assert src.product_id == dst.product_id == m.product_id
        assert src.lot_id == dst.lot_id == m.lot_id
        assert src.effective_at == dst.effective_at == at


@PROPERTY
@given(movement_sets, times, average_costs)
@example((Movement(1, Decimal("0.005"), 1, 91, unit_cost=Decimal("0.01")),), T0, {})  # half-up
@example((Movement(2, Decimal("3"), 1, 91),), T0, {(2, 10): Decimal("0.33333333")})
def test_entry_value_is_qty_times_cost_rounded_half_up(moves, at, costs):
    entries = build_entries(moves, at, costs, LOCATIONS)
    for e, m in zip(entries[1::2], moves, strict=True):
        if m.unit_cost is not None:
            expected_cost = m.unit_cost.quantize(COST, rounding=ROUND_HALF_UP)
        else:  # the documented rule: source warehouse, else (from a virtual) the receiving one
            src, dst = LOCATIONS[m.from_location_id], LOCATIONS[m.to_location_id]
            wh = src.warehouse_id if src.kind.is_physical else dst.warehouse_id
            known = src.kind.is_physical or (dst.kind.is_physical and src.kind.value != "transit")
            expected_cost = (costs.get((m.product_id, wh), Decimal(0)) if known else Decimal(0)).quantize(
                COST, ROUND_HALF_UP)
        assert e.unit_cost == expected_cost
        assert e.value == (m.qty * expected_cost).quantize(MONEY, rounding=ROUND_HALF_UP)
        assert abs(e.value - m.qty * expected_cost) <= MONEY / 2
    for src, dst in zip(entries[0::2], entries[1::2], strict=True):
        assert src.value == -dst.value and src.unit_cost == dst.unit_cost


def test_movement_without_cost_out_of_a_warehouse_without_average_costs_zero():
    (src, dst) = build_entries(
        (Movement(1, Decimal("4"), 3, 91),), T0, {(1, 10): Decimal("9")}, LOCATIONS
    )
    assert (src.unit_cost, src.value, dst.value) == (0, 0, 0)


# --- reverse_entries (I5) -----------------------------------------------------------------


@PROPERTY
@given(movement_sets, times, times, average_costs)
def test_posting_plus_its_reversal_nets_to_zero_in_every_bucket(moves, at, rev_at, costs):
    entries = build_entries(moves, at, costs, LOCATIONS)
    reversal = reverse_entries(entries, rev_at)
    assert _sums(entries + reversal) == {}
    assert apply(apply({}, entries), reversal) == {}
    assert imbalances(reversal) == {}
    for orig, rev in zip(entries, reversal, strict=True):
        assert (rev.bucket, rev.qty, rev.value, rev.unit_cost, rev.line_no) == (
            orig.bucket,
            -orig.qty,
            -orig.value,
            orig.unit_cost,
            orig.line_no,
        )
        assert rev.effective_at == rev_at


@PROPERTY
@given(movement_sets, times, times, average_costs)
def test_reversal_leaves_the_original_entries_unchanged(moves, at, rev_at, costs):
    entries = build_entries(moves, at, costs, LOCATIONS)
    before = copy.deepcopy(entries)
    reverse_entries(entries, rev_at)
    assert entries == before
    assert reverse_entries(reverse_entries(entries, at), at) == entries


def test_ledger_entries_are_frozen():
    (entry, _) = build_entries(
        (Movement(1, Decimal("2"), 90, 1, unit_cost=Decimal("1")),), T0, {}, LOCATIONS
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.qty = Decimal("99")  # type: ignore[misc]
    assert entry.qty == Decimal("-2")


# --- balances.replay / apply (I1, I8) ----------------------------------------------------


@PROPERTY
@given(postings(), times)
def test_replay_as_of_equals_apply_of_entries_effective_until_then(posts, as_of):
    entries = [e for p in posts for e in p]
    expected = apply({}, [e for e in entries if e.effective_at <= as_of])
    assert replay(entries, as_of) == expected
    assert replay(entries, as_of) == _sums(e for e in entries if e.effective_at <= as_of)


@PROPERTY
@given(postings(), st.randoms(use_true_random=False))
def test_replay_of_all_entries_equals_incremental_application_in_any_order(posts, rnd):
    entries = [e for p in posts for e in p]
    shuffled = list(posts)
    rnd.shuffle(shuffled)
    incremental: dict[BucketKey, Amount] = {}
    for p in shuffled:
        incremental = apply(incremental, p)
    assert replay(entries) == incremental == _sums(entries)
    assert replay(entries, as_of=T0 + timedelta(days=1)) == replay(entries)


@PROPERTY
@given(postings(), times)
def test_replay_from_a_snapshot_equals_replay_from_scratch(posts, cut):
    entries = [e for p in posts for e in p]
    snapshot = replay([e for e in entries if e.effective_at < cut])
    later = [e for e in entries if e.effective_at >= cut]
    assert replay(later, start=snapshot) == replay(entries)


def test_apply_keeps_buckets_that_end_at_zero_out():
    entries = build_entries(
        (Movement(1, Decimal("5"), 90, 1, unit_cost=Decimal("2")),), T0, {}, LOCATIONS
    )
    assert apply({}, entries) != {}
    assert apply(apply({}, entries), reverse_entries(entries, T0)) == {}


# --- validate_movements -------------------------------------------------------------------

MD = MasterData(
    products={
        1: ProductInfo(1, "P001", "瓶", Tracking.LOT, True),
        2: ProductInfo(2, "P002", "袋", Tracking.NONE, True),
        3: ProductInfo(3, "P003", "个", Tracking.NONE, False),
    },
    locations={**LOCATIONS, 4: LocationInfo(4, "OLD-01", LocationKind.PHYSICAL, 10, False)},
    lots={7: LotInfo(7, 1, "L7", None), 8: LotInfo(8, 2, "L8", None)},
)

any_qty = st.one_of(
    quantities,
    st.decimals(
        places=3,
        min_value=Decimal("-5"),
        max_value=Decimal("0"),
        allow_nan=False,
        allow_infinity=False,
    ),
    st.decimals(
        places=6,
        min_value=Decimal("0.000001"),
        max_value=Decimal("10"),
        allow_nan=False,
        allow_infinity=False,
    ),
)


@st.composite
def any_movements(draw: st.DrawFn) -> Movement:
    return Movement(
        product_id=draw(st.sampled_from([1, 2, 3, 99])),
        qty=draw(any_qty),
        from_location_id=draw(st.sampled_from([1, 2, 4, 90, 98])),
        to_location_id=draw(st.sampled_from([1, 2, 4, 91, 98])),
        lot_id=draw(st.sampled_from([NO_LOT, 7, 8, 55])),
        from_status=draw(statuses),
        to_status=draw(st.none() | statuses),
        unit_cost=draw(
            st.none()
            | st.decimals(
                places=2,
                min_value=Decimal("-3"),
                max_value=Decimal("3"),
                allow_nan=False,
                allow_infinity=False,
            )
        ),
    )


def expected_problems(moves: tuple[Movement, ...]) -> list[tuple[str, str]]:
    """Oracle: (code, field) of every problem, written from the rules, not the code."""
    out = [] if moves else [("POSTING_EMPTY", "movements")]
    for i, m in enumerate(moves):
        f = f"movements[{i}]"
        if m.qty <= 0:
            out.append(("QTY_NOT_POSITIVE", f"{f}.qty"))
        elif m.qty != m.qty.quantize(Decimal("0.0001")):
            out.append(("QTY_TOO_PRECISE", f"{f}.qty"))
        if m.unit_cost is not None and m.unit_cost < 0:
            out.append(("VALUE_INVALID", f"{f}.unit_cost"))
        product = MD.products.get(m.product_id)
        if product is None:
            out.append(("NOT_FOUND", f"{f}.product_id"))
        elif not product.active:
            out.append(("INACTIVE", f"{f}.product_id"))
        for side, loc in (
            ("from_location_id", m.from_location_id),
            ("to_location_id", m.to_location_id),
        ):
            if loc not in MD.locations:
                out.append(("NOT_FOUND", f"{f}.{side}"))
            elif not MD.locations[loc].active:
                out.append(("INACTIVE", f"{f}.{side}"))
        if m.from_location_id == m.to_location_id and m.from_status == (
            m.to_status or m.from_status
        ):
            out.append(("SAME_BUCKET", f"{f}.to_location_id"))
        if product is not None:
            lot = MD.lots.get(m.lot_id)
            if product.tracking is Tracking.NONE and m.lot_id != NO_LOT:
                out.append(("LOT_NOT_ALLOWED", f"{f}.lot_id"))
            elif product.tracking is not Tracking.NONE and m.lot_id == NO_LOT:
                out.append(("LOT_REQUIRED", f"{f}.lot_id"))
            elif product.tracking is not Tracking.NONE and lot is None:
                out.append(("NOT_FOUND", f"{f}.lot_id"))
            elif product.tracking is not Tracking.NONE and lot.product_id != product.id:
                out.append(("LOT_PRODUCT_MISMATCH", f"{f}.lot_id"))
    return out


@PROPERTY
@given(st.lists(any_movements(), max_size=5).map(tuple))
def test_validation_reports_every_problem_of_every_line_with_its_field(moves):
    expected = expected_problems(moves)
    if not expected:
        assert validate_movements(moves, MD) is None
        return
    with pytest.raises(ValidationFailed) as err:
        validate_movements(moves, MD)
    got = [(p.code, p.field) for p in err.value.problems]
    assert sorted(got) == sorted(expected)
    assert (err.value.code, err.value.field) == got[0]
    for p in err.value.problems:
        assert p.message_zh and p.message_en
    assert len(err.value.details["problems"]) == len(expected)


def test_validation_collects_problems_from_all_lines_at_once():
    moves = (
        Movement(1, Decimal("5"), 90, 1),  # lot-tracked without lot
        Movement(2, Decimal("0"), 90, 1),  # zero quantity
        Movement(2, Decimal("1"), 1, 1),  # same bucket
        Movement(3, Decimal("1.00001"), 4, 98, lot_id=7),  # four problems on one line
    )
    with pytest.raises(ValidationFailed) as err:
        validate_movements(moves, MD)
    assert [(p.code, p.field) for p in err.value.problems] == [
        ("LOT_REQUIRED", "movements[0].lot_id"),
        ("QTY_NOT_POSITIVE", "movements[1].qty"),
        ("SAME_BUCKET", "movements[2].to_location_id"),
        ("QTY_TOO_PRECISE", "movements[3].qty"),
        ("INACTIVE", "movements[3].product_id"),
        ("INACTIVE", "movements[3].from_location_id"),
        ("NOT_FOUND", "movements[3].to_location_id"),
        ("LOT_NOT_ALLOWED", "movements[3].lot_id"),
    ]
    assert err.value.status == 422


def test_empty_posting_is_refused():
    with pytest.raises(ValidationFailed) as err:
        validate_movements((), MD)
    assert [(p.code, p.field) for p in err.value.problems] == [("POSTING_EMPTY", "movements")]


def test_status_change_on_the_same_shelf_is_a_valid_movement():
    move = Movement(
        2, Decimal("3"), 1, 1, from_status=StockStatus.AVAILABLE, to_status=StockStatus.FROZEN
    )
    assert validate_movements((move,), MD) is None


# --- check_period_open (I9) ---------------------------------------------------------------


@PROPERTY
@given(st.datetimes(timezones=st.just(UTC)), st.none() | st.datetimes(timezones=st.just(UTC)))
def test_period_check_refuses_exactly_the_times_before_the_close(at, closed_until):
    if closed_until is not None and at < closed_until:
        with pytest.raises(DomainError) as err:
            check_period_open(at, closed_until)
        assert (err.value.code, err.value.field) == ("PERIOD_CLOSED", "effective_at")
        assert err.value.details == {"closed_until": closed_until.isoformat()}
    else:
        assert check_period_open(at, closed_until) is None


def test_posting_exactly_at_the_close_is_allowed_and_one_microsecond_before_is_not():
    assert check_period_open(T0, T0) is None
    with pytest.raises(DomainError) as err:
        check_period_open(T0 - timedelta(microseconds=1), T0)
    assert err.value.code == "PERIOD_CLOSED"
