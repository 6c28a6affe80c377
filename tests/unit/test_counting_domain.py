"""盘点规则 — variance as-of under interleaved movements, combining counters, ABC, rotation, accuracy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from jxc.domain import counting as c

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
REF = (1, 1, 0)
qtys = st.decimals(min_value=-50, max_value=50, places=3, allow_nan=False, allow_infinity=False)


def entry(i, counter, qty, minute, book, cond=c.Condition.GOOD, rnd=1, ref=REF):
    return c.CountEntry(i, ref, counter, cond, D(qty), T0 + timedelta(minutes=minute), rnd, D(book))


@settings(max_examples=200, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(0, 120), qtys), max_size=30), count_minute=st.integers(0, 120),
       miscount=qtys, opening=st.decimals(0, 500, places=3))
def test_posting_the_as_of_variance_leaves_the_book_at_shelf_plus_later_moves(moves, count_minute, miscount,
                                                                             opening):
    """Whatever moves before and after the count, book + variance = (shelf at the count) + moves since."""
    ms = [c.Move(REF, T0 + timedelta(minutes=m), q) for m, q in moves]
    at = T0 + timedelta(minutes=count_minute)
    book_then = c.book_at({REF: opening}, ms, REF, at)
    shelf_then = book_then + miscount  # what the counter really saw
    variance = c.CountEntry(1, REF, "zhang", c.Condition.GOOD, shelf_then, at, 1, book_then).variance
    book_now = c.book_at({REF: opening}, ms, REF, T0 + timedelta(days=1))
    later = sum((m.qty for m in ms if m.effective_at > at), D(0))
    assert book_now + variance == shelf_then + later


def test_a_move_at_the_exact_counted_moment_is_in_the_book_of_that_moment():
    ms = [c.Move(REF, T0, D(5)), c.Move((2, 1, 0), T0, D(7))]
    assert c.book_at({REF: D(1)}, ms, REF, T0) == 6 and c.book_at({}, ms, REF, T0 - timedelta(seconds=1)) == 0


def test_last_entry_per_counter_and_condition_wins_and_conditions_add_up():
    (line,) = c.combine([entry(1, "zhang", "15", 1, "20"), entry(2, "zhang", "17", 2, "20"),
                         entry(3, "zhang", "3", 3, "20", cond=c.Condition.DAMAGED)])
    assert (line.counted_qty, line.variance, line.conflict) == (D(20), D(0), False)


def test_counters_compared_on_variance_not_on_raw_quantity():
    agree = c.combine([entry(1, "zhang", "48", 1, "50"), entry(2, "li", "45", 9, "47")])  # 3 sold between
    differ = c.combine([entry(1, "zhang", "48", 1, "50"), entry(2, "li", "50", 2, "50")])
    assert not agree[0].conflict and agree[0].counted_by == "li" and differ[0].conflict


def test_only_the_latest_recount_round_counts_and_an_unrecounted_place_waits():
    entries = [entry(1, "zhang", "48", 1, "50"), entry(2, "li", "50", 2, "50"), entry(3, "wang", "49", 5, "50", rnd=2)]
    (line,) = c.combine(entries, {REF: 2})
    assert (line.counted_qty, line.counters, line.conflict) == (D(49), ("wang",), False)
    assert c.combine(entries[:2], {REF: 2}) == []


def test_accuracy_counts_lines_within_tolerance_of_the_book():
    lines = c.combine([entry(1, "a", "99", 1, "100", ref=(1, 1, 0)), entry(2, "a", "90", 1, "100", ref=(1, 2, 0)),
                       entry(3, "a", "1", 1, "0", ref=(1, 3, 0))])
    assert c.accuracy(lines, D(0)) == c.Accuracy(3, 0)
    assert c.accuracy(lines, D(1)).rate == D("0.3333")


def test_abc_by_value_of_usage_biggest_is_always_a_and_unused_are_c():
    classes = c.classify_abc({1: D(800), 2: D(100), 3: D(60), 4: D(40), 5: D(0)})
    assert classes == {1: "A", 2: "B", 3: "B", 4: "C", 5: "C"}
    assert c.classify_abc({7: D(1)}) == {7: "A"}


@given(keys=st.sets(st.text(min_size=1, max_size=4), max_size=40), slots=st.integers(1, 12))
def test_a_rotation_covers_every_key_exactly_once_per_period(keys, slots):
    parts = [c.rotation_slice(keys, slots, i) for i in range(slots)]
    flat = [k for p in parts for k in p]
    assert sorted(flat) == sorted(keys) and len(flat) == len(set(flat))
    assert c.rotation_slice(keys, slots, slots) == parts[0]  # the next period starts again


def test_weekly_rotation_of_twenty_percent_of_categories_covers_all_in_five_weeks():
    cats = [f"品类{i:02d}" for i in range(10)]
    slots = c.rotation_slots(35, 7)
    assert slots == 5 and all(len(c.rotation_slice(cats, slots, i)) == 2 for i in range(slots))
    assert c.rotation_index(T0, T0 + timedelta(days=15), 7) == 2


def test_value_by_groups_absolute_values_biggest_first():
    rows = [{"reason_code": "difference", "value": D("-4")}, {"reason_code": "shrinkage", "value": D(6)},
            {"reason_code": "difference", "value": D(3)}]
    assert c.value_by(rows, "reason_code") == {"difference": D(7), "shrinkage": D(6)}
