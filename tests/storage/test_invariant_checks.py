"""不变量检查 — every check in `jxc.storage.checks` can fail, and names what broke.

Each test builds a small, healthy book through the services, corrupts the database
directly with SQL (the product itself never edits quantities: the corruption is the
point here), and asserts that `violations()` reports exactly the broken invariant and
its subject — the bucket, posting or audit record involved — and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import delete, func, insert, select, update

from jxc.domain.ledger import Movement
from jxc.services.ports import AuditEntry
from jxc.services.posting import SYSTEM, Actor, PostingRequest, close_period, post, reverse
from jxc.storage.tables import (
    audit_records,
    balances,
    ledger_entries,
    period_balances,
    postings,
)
from tests.conftest import NOW, World, make_world

CLERK = Actor("clerk", frozenset({"document.post"}))
OWNER = Actor("owner", frozenset({"document.post", "stock.allow_negative"}))
CLOSE = NOW - timedelta(days=1)


@dataclass(frozen=True)
class Book:
    w: World
    opening: int  # rice 10 @2 onto shelf A, before the close
    sale: int  # rice 3 sold from shelf A
    eggs_in: int  # eggs 5 received ...
    eggs_undo: int  # ... and reversed (红冲)
    negative: int  # eggs 2 sold below zero, approved by the owner


def bucket(location: int, product: int, status: str = "available") -> str:
    return f"bucket(location={location}, product={product}, lot=0, status={status})"


def found(app) -> list[tuple[str, str]]:
    return [(v.invariant, v.subject) for v in app.queries.violations()]


def _post(app, kind, move, at, actor=CLERK, allow_negative=False) -> int:
    req = PostingRequest(kind, (move,), at, allow_negative=allow_negative)
    return post(app.uow_factory, req, actor, at).posting_id  # posted when effective


@pytest.fixture
def book(app) -> Book:
    w = make_world(app)
    opening = _post(
        app,
        "receipt",
        Movement(w.rice, D(10), w.supplier, w.shelf_a, unit_cost=D(2)),
        NOW - timedelta(days=2),
    )
    close_period(app.uow_factory, CLOSE, SYSTEM, CLOSE)
    sale = _post(app, "issue", Movement(w.rice, D(3), w.shelf_a, w.customer), NOW)
    eggs_in = _post(
        app, "receipt", Movement(w.eggs, D(5), w.supplier, w.shelf_a, unit_cost=D("1.5")), NOW
    )
    eggs_undo = reverse(app.uow_factory, eggs_in, CLERK, NOW + timedelta(hours=1)).posting_id
    negative = _post(
        app,
        "issue",
        Movement(w.eggs, D(2), w.shelf_a, w.customer),
        NOW + timedelta(hours=2),
        actor=OWNER,
        allow_negative=True,
    )
    assert found(app) == []  # healthy before each corruption
    return Book(w, opening, sale, eggs_in, eggs_undo, negative)


def _entry(posting_id: int, w: World, location: int, qty: D, value: D) -> dict:
    return {
        "posting_id": posting_id,
        "line_no": 9,
        "product_id": w.rice,
        "lot_id": 0,
        "location_id": location,
        "status": "available",
        "qty": qty,
        "unit_cost": D(2),
        "value": value,
        "effective_at": NOW,
    }


def _bump_balance(conn, w: World, location: int, product: int, qty: D, value: D) -> None:
    b = balances.c
    conn.execute(
        update(balances)
        .where(
            b.location_id == location,
            b.product_id == product,
            b.lot_id == 0,
            b.status == "available",
        )
        .values(qty=b.qty + qty, value=b.value + value)
    )


def test_edited_balance_row_is_an_i1_violation_naming_the_bucket(app, book):
    w = book.w
    with app.engine.begin() as conn:
        _bump_balance(conn, w, w.shelf_a, w.rice, D(1), D(0))
    shelf = bucket(w.shelf_a, w.rice)
    # a balance that is not Σ ledger also differs from the replay as of now (I8)
    assert found(app) == [("I1", shelf), ("I8", shelf)]
    (i1,) = [v for v in app.queries.violations() if v.invariant == "I1"]
    assert "qty=8" in i1.detail and "qty=7" in i1.detail


def test_unbalanced_ledger_entry_is_an_i2_violation_naming_the_posting(app, book):
    w = book.w
    with app.engine.begin() as conn:  # an extra +1 with its balance, so only I2 breaks
        conn.execute(insert(ledger_entries), _entry(book.sale, w, w.shelf_a, D(1), D(2)))
        _bump_balance(conn, w, w.shelf_a, w.rice, D(1), D(2))
    assert found(app) == [("I2", f"posting #{book.sale} product={w.rice} lot=0")]


def test_negative_stock_without_an_allowed_posting_is_an_i3_violation(app, book):
    w = book.w
    with app.engine.begin() as conn:  # a balanced pair that takes shelf A's rice below zero
        conn.execute(
            insert(ledger_entries),
            [
                _entry(book.sale, w, w.shelf_a, D(-20), D(-40)),
                _entry(book.sale, w, w.customer, D(20), D(40)),
            ],
        )
        _bump_balance(conn, w, w.shelf_a, w.rice, D(-20), D(-40))
        _bump_balance(conn, w, w.customer, w.rice, D(20), D(40))
    assert found(app) == [("I3", bucket(w.shelf_a, w.rice))]


def test_withdrawn_approval_makes_the_approved_negative_an_i3_violation(app, book):
    w = book.w
    with app.engine.begin() as conn:
        conn.execute(
            update(postings).where(postings.c.id == book.negative).values(allow_negative=False)
        )
    assert found(app) == [("I3", bucket(w.shelf_a, w.eggs))]


def test_altered_reversal_entry_is_an_i5_violation_naming_reversal_and_bucket(app, book):
    w = book.w
    e = ledger_entries.c
    with app.engine.begin() as conn:  # the reversal's value moved by 1 on both sides, balanced
        for sign in (-1, 1):
            conn.execute(
                update(ledger_entries)
                .where(e.posting_id == book.eggs_undo, e.value * sign > 0)
                .values(value=e.value + D(sign))
            )
        _bump_balance(conn, w, w.shelf_a, w.eggs, D(0), D(-1))
        _bump_balance(conn, w, w.supplier, w.eggs, D(0), D(1))
    head = f"reversal #{book.eggs_undo} of posting #{book.eggs_in} at "
    assert sorted(found(app)) == sorted(
        [
            ("I5", head + bucket(w.shelf_a, w.eggs)),
            ("I5", head + bucket(w.supplier, w.eggs)),
        ]
    )


def _audit_of(conn, posting_id: int) -> tuple[int, int]:
    a = audit_records.c
    return conn.execute(
        select(a.id, a.seq).where(a.object_type == "posting", a.object_id == str(posting_id))
    ).one()


def test_edited_audit_record_is_an_i6_violation_naming_its_seq(app, book):
    with app.engine.begin() as conn:
        rid, seq = _audit_of(conn, book.sale)
        conn.execute(
            update(audit_records)
            .where(audit_records.c.id == rid)
            .values(after='{"kind":"issue","lines":99}')
        )
    assert found(app) == [("I6", f"audit record seq {seq} (id {rid})")]
    assert "changed" in app.queries.violations()[0].detail


def test_deleted_audit_record_of_a_posting_is_an_i6_violation(app, book):
    with app.engine.begin() as conn:
        rid, seq = _audit_of(conn, book.sale)
        conn.execute(delete(audit_records).where(audit_records.c.id == rid))
        nxt = conn.execute(
            select(audit_records.c.id).where(audit_records.c.seq == seq + 1)
        ).scalar()
    assert found(app) == [
        ("I6", f"audit record seq {seq + 1} (id {nxt})"),  # the chain has a hole
        ("I6", f"posting #{book.sale}"),  # and the posting has no record
    ]


def test_deleted_last_audit_record_of_a_posting_is_an_i6_violation(app, book):
    with app.engine.begin() as conn:
        rid, seq = _audit_of(conn, book.negative)
        assert seq == conn.execute(select(func.max(audit_records.c.seq))).scalar()
        conn.execute(delete(audit_records).where(audit_records.c.id == rid))
    assert ("I6", f"posting #{book.negative}") in found(app)
    assert {inv for inv, _ in found(app)} == {"I6"}


def test_deleted_last_audit_record_of_a_period_close_is_an_i6_violation(app, book):
    """Truncating the chain's tail must be seen: the book head keeps the last seq and hash."""
    close_period(app.uow_factory, NOW + timedelta(hours=3), SYSTEM, NOW + timedelta(hours=3))
    assert found(app) == []
    a = audit_records.c
    with app.engine.begin() as conn:
        rid, seq, action = conn.execute(
            select(a.id, a.seq, a.action).order_by(a.seq.desc()).limit(1)
        ).one()
        assert action == "period.close"
        conn.execute(delete(audit_records).where(a.id == rid))
    violations = found(app)
    assert [inv for inv, _ in violations] == ["I6"]
    assert str(seq) in violations[0][1] or str(seq - 1) in violations[0][1]


def test_edited_period_snapshot_breaks_i8_and_i9_naming_the_bucket(app, book):
    w = book.w
    s = period_balances.c
    with app.engine.begin() as conn:
        conn.execute(
            update(period_balances)
            .where(s.location_id == w.shelf_a, s.product_id == w.rice)
            .values(qty=s.qty + D(1))
        )
    assert found(app) == [("I9", f"period #1 (closed until {CLOSE}) at {bucket(w.shelf_a, w.rice)}"),
                          ("I8", bucket(w.shelf_a, w.rice))]


def test_posting_effective_before_a_closed_period_is_an_i9_violation(app, book):
    """A posting written behind the system's back into the closed period (entries, balance and
    audit all consistent) disagrees with the frozen snapshot: I9 names the period and bucket;
    stock as of now (snapshot + entries since) then disagrees with the balance: I8."""
    w = book.w
    posted_at = NOW + timedelta(hours=5)
    at = CLOSE - timedelta(hours=1)
    with app.engine.begin() as conn:
        pid = conn.execute(
            insert(postings).returning(postings.c.id),
            {"kind": "receipt", "effective_at": at, "posted_at": posted_at, "actor": "mallory",
             "allow_negative": False},
        ).scalar_one()
        for loc, qty in ((w.supplier, D(-1)), (w.shelf_a, D(1))):
            conn.execute(insert(ledger_entries), {
                "posting_id": pid, "line_no": 1, "product_id": w.rice, "lot_id": 0, "location_id": loc,
                "status": "available", "qty": qty, "unit_cost": D(0), "value": D(0), "effective_at": at})
            conn.execute(update(balances).where(balances.c.location_id == loc, balances.c.product_id == w.rice)
                         .values(qty=balances.c.qty + qty))
    with app.uow() as uow:  # attributed, so that I6 holds
        uow.audit.append(AuditEntry("posting.post", "posting", str(pid), "mallory", posted_at))
        uow.commit()
    got = found(app)
    assert ("I9", f"period #1 (closed until {CLOSE}) at {bucket(w.shelf_a, w.rice)}") in got
    assert {inv for inv, _ in got} == {"I8", "I9"}


def test_posting_committed_before_a_close_that_started_earlier_is_no_i9_violation(app):
    """The close request arrived at T, waited for the book's lock while a back-dated posting
    that arrived at T + 1 ms committed; the posting is in the snapshot, so I9 holds."""
    w = make_world(app)
    t = NOW + timedelta(days=1)
    until = t - timedelta(hours=1)
    req = PostingRequest(
        "receipt",
        (Movement(w.rice, D(5), w.supplier, w.shelf_a, unit_cost=D(1)),),
        until - timedelta(minutes=5),
    )
    post(app.uow_factory, req, CLERK, t + timedelta(milliseconds=1))
    close_period(app.uow_factory, until, SYSTEM, t)
    assert sum(a.qty for a in app.queries.stock_at(until, product_id=w.rice).values()) == 5
    assert found(app) == []


def test_reservation_totals_out_of_step_or_above_on_hand_is_an_i4_violation(app, book):
    from jxc.services import reserving as rs
    from jxc.storage.tables_stock import reservation_totals

    w = book.w
    rs.reserve(app.uow_factory, rs.ReserveRequest(w.rice, w.wh, "5", "order:1"), SYSTEM, NOW)
    assert found(app) == []
    with app.engine.begin() as conn:
        rice = reservation_totals.c.product_id == w.rice
        conn.execute(update(reservation_totals).where(rice).values(qty=reservation_totals.c.qty + D(3)))
    # totals (8) disagree with the one pending reservation (5), and 8 > the 7 on hand
    assert found(app) == [("I4", f"reservations of product {w.rice} in warehouse {w.wh}"),
                          ("I4", f"product {w.rice} in warehouse {w.wh}")]
    with app.engine.begin() as conn:
        conn.execute(update(reservation_totals).where(rice).values(qty=reservation_totals.c.qty - D(3)))
        conn.execute(update(balances).where(balances.c.location_id == w.shelf_a, balances.c.product_id == w.rice)
                     .values(qty=D(4)))
    assert ("I4", f"product {w.rice} in warehouse {w.wh}") in found(app)
