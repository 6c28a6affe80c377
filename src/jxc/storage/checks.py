"""不变量检查 — I1, I2, I3, I5, I6, I8, I9 (and money M1–M4, report sums R1) verified on live data, in SQL.

Each function returns the violations it finds, naming the bucket, posting or
audit record involved; an empty list means the invariant holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)

from jxc.domain.balances import Amount
from jxc.domain.catalog import LocationKind
from jxc.domain.ledger import BucketKey
from jxc.services.ports import Violation
from jxc.storage import audit
from jxc.storage.tables import (
    audit_records,
    balances,
    ledger_entries,
    locations,
    period_balances,
    periods,
    postings,
)

E = ledger_entries.c
_KEY = (E.location_id, E.product_id, E.lot_id, E.status)


def _bucket(r: Any) -> str:
    return f"bucket(location={r[0]}, product={r[1]}, lot={r[2]}, status={r[3]})"


def ledger_sums(conn: Connection) -> dict[BucketKey, Amount]:
    rows = conn.execute(select(*_KEY, func.sum(E.qty), func.sum(E.value)).group_by(*_KEY))
    return {BucketKey(*r[:4]): Amount(r[4], r[5]) for r in rows}


def balance_rows(conn: Connection) -> dict[BucketKey, Amount]:
    b = balances.c
    rows = conn.execute(select(b.location_id, b.product_id, b.lot_id, b.status, b.qty, b.value))
    return {BucketKey(*r[:4]): Amount(r[4], r[5]) for r in rows}


def i1_balance_equals_ledger(conn: Connection) -> list[Violation]:
    sums, rows = ledger_sums(conn), balance_rows(conn)
    out = []
    for key in sorted(set(sums) | set(rows)):
        s, b = sums.get(key, Amount()), rows.get(key, Amount())
        if s != b:
            out.append(Violation("I1", _bucket((key.location_id, key.product_id, key.lot_id, key.status)),
                                 f"balance qty={b.qty} value={b.value} but ledger sums to "
                                 f"qty={s.qty} value={s.value}"))
    return out


def i2_balanced_postings(conn: Connection) -> list[Violation]:
    rows = conn.execute(select(E.posting_id, E.product_id, E.lot_id, func.sum(E.qty))
                        .group_by(E.posting_id, E.product_id, E.lot_id)
                        .having(func.sum(E.qty) != 0))
    return [Violation("I2", f"posting #{r[0]} product={r[1]} lot={r[2]}",
                      f"entries sum to {r[3]}, not 0") for r in rows]


def i3_no_unapproved_negative(conn: Connection) -> list[Violation]:
    b, loc = balances.c, locations.c
    allowed = (select(literal(1)).select_from(ledger_entries.join(postings, postings.c.id == E.posting_id))
               .where(postings.c.allow_negative.is_(True), E.location_id == b.location_id,
                      E.product_id == b.product_id, E.lot_id == b.lot_id, E.status == b.status)
               .exists())
    rows = conn.execute(select(b.location_id, b.product_id, b.lot_id, b.status, b.qty)
                        .join_from(balances, locations, loc.id == b.location_id)
                        .where(loc.kind == LocationKind.PHYSICAL, b.qty < 0, ~allowed))
    return [Violation("I3", _bucket(r), f"physical stock is {r[4]} with no posting that was "
                      "allowed to go negative") for r in rows]


def i4_reservations(conn: Connection) -> list[Violation]:
    """Totals rows = Σ pending reservations; reserved ≤ available on hand (unless an approved negative)."""
    from jxc.storage.tables_stock import reservation_totals, reservations

    r, t, b, loc = reservations.c, reservation_totals.c, balances.c, locations.c
    pending = {(x[0], x[1]): x[2] for x in conn.execute(
        select(r.product_id, r.warehouse_id, func.sum(r.qty - r.qty_consumed)).where(r.state == "pending")
        .group_by(r.product_id, r.warehouse_id))}
    totals = {(x[0], x[1]): x[2] for x in conn.execute(select(t.product_id, t.warehouse_id, t.qty))}
    out = [Violation("I4", f"reservations of product {p} in warehouse {w}",
                     f"totals row says {totals.get((p, w), 0)} but pending reservations sum to {pending.get((p, w), 0)}")
           for (p, w) in sorted(set(pending) | set(totals)) if pending.get((p, w), 0) != totals.get((p, w), 0)]
    held = {k: v for k, v in totals.items() if v > 0}
    if held:
        on_hand = {(x[0], x[1]): x[2] for x in conn.execute(
            select(b.product_id, loc.warehouse_id, func.sum(b.qty)).join_from(balances, locations, loc.id == b.location_id)
            .where(loc.kind == LocationKind.PHYSICAL, b.status == "available").group_by(b.product_id, loc.warehouse_id))}
        approved = {x[0] for x in conn.execute(select(E.product_id).join_from(
            ledger_entries, postings, postings.c.id == E.posting_id).where(postings.c.allow_negative.is_(True)).distinct())}
        out += [Violation("I4", f"product {p} in warehouse {w}", f"{q} reserved but only {on_hand.get((p, w), 0)} "
                          "available on hand") for (p, w), q in sorted(held.items())
                if on_hand.get((p, w), 0) < q and p not in approved]
    return out


def i5_reversals_exact(conn: Connection) -> list[Violation]:
    r = postings.alias("r")
    rows = conn.execute(
        select(r.c.id, r.c.reverses_id, *_KEY, func.sum(E.qty), func.sum(E.value))
        .join_from(r, ledger_entries, or_(E.posting_id == r.c.id, E.posting_id == r.c.reverses_id))
        .where(r.c.reverses_id.is_not(None))
        .group_by(r.c.id, r.c.reverses_id, *_KEY)
        .having(or_(func.sum(E.qty) != 0, func.sum(E.value) != 0)))
    return [Violation("I5", f"reversal #{x[0]} of posting #{x[1]} at {_bucket(x[2:6])}",
                      f"original + reversal leave qty={x[6]} value={x[7]}, not 0") for x in rows]


def i6_audit(conn: Connection) -> list[Violation]:
    out = audit.verify(conn)
    a = audit_records.c
    missing = conn.execute(
        select(postings.c.id).where(~select(literal(1)).where(
            a.object_type == "posting", a.object_id == cast(postings.c.id, String)).exists())
        .order_by(postings.c.id).limit(20))
    out += [Violation("I6", f"posting #{pid}", "has no audit record") for (pid,) in missing]
    return out


def i9_closed_periods(conn: Connection) -> list[Violation]:
    """Each period snapshot = previous snapshot + entries effective in [previous close, close).

    A posting that slipped in before a close after it was taken would make the
    ledger disagree with the frozen snapshot; so would an edited snapshot.
    """
    p, s = periods.c, period_balances.c
    out: list[Violation] = []
    prev: tuple[int, Any] | None = None
    for pid, until in conn.execute(select(p.id, p.closed_until).order_by(p.closed_until)).all():
        since = select(*_KEY, E.qty, E.value).where(E.effective_at < until)
        parts = [since if prev is None else since.where(E.effective_at >= prev[1])]
        if prev is not None:
            parts.append(select(s.location_id, s.product_id, s.lot_id, s.status, s.qty, s.value)
                         .where(s.period_id == prev[0]))
        parts.append(select(s.location_id, s.product_id, s.lot_id, s.status, -s.qty, -s.value)
                     .where(s.period_id == pid))
        u = union_all(*parts).subquery()
        q, v = func.sum(u.c.qty), func.sum(u.c.value)
        rows = conn.execute(select(u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status, q, v)
                            .group_by(u.c.location_id, u.c.product_id, u.c.lot_id, u.c.status)
                            .having(or_(q != 0, v != 0)).limit(20))
        out += [Violation("I9", f"period #{pid} (closed until {until}) at {_bucket(r)}",
                          f"ledger before the close differs from the snapshot by qty={r[4]} value={r[5]}: "
                          "a posting entered the closed period, or the snapshot was changed") for r in rows]
        prev = (pid, until)
    return out


def i8_time_travel(conn: Connection, queries: Any) -> list[Violation]:
    now = datetime.now(UTC)
    future_exists = conn.execute(select(func.max(E.effective_at))).scalar()
    at = max(now, future_exists) if future_exists else now
    replayed = queries.stock_at_on(conn, at, physical_only=False)
    current = {k: v for k, v in balance_rows(conn).items() if not v.is_zero}
    out = []
    for key in sorted(set(replayed) | set(current)):
        if replayed.get(key, Amount()) != current.get(key, Amount()):
            out.append(Violation("I8", _bucket((key.location_id, key.product_id, key.lot_id, key.status)),
                                 f"as-of replay gives {replayed.get(key, Amount())} but balance is "
                                 f"{current.get(key, Amount())}"))
    return out


def all_violations(conn: Connection, queries: Any) -> list[Violation]:
    out: list[Violation] = []
    for check in (i1_balance_equals_ledger, i2_balanced_postings, i3_no_unapproved_negative, i4_reservations,
                  i5_reversals_exact, i6_audit, i9_closed_periods, m_money, r1_report_sums, r2_order_sums):
        out += check(conn)
    out += i8_time_travel(conn, queries)
    return out


def r2_order_sums(conn: Connection) -> list[Violation]:
    """R2 订单完成汇总 = its recomputation from the orders (storage/order_sums.py)."""
    from jxc.storage import order_sums

    return order_sums.check(conn)


def m_money(conn: Connection) -> list[Violation]:
    """M1 allocated = Σ allocation rows; M2 0 ≤ allocated ≤ |amount|; M3 allocations pair a debit with a
    credit of the same partner and side, never net negative; M4 a receipt's / payment's item is its exact
    negative, a refund's its exact amount; M5–M6 below."""
    from jxc.storage.tables_money import money_allocations, money_items, payments

    i, al, p = money_items.c, money_allocations.c, payments.c
    both = select(al.debit_item_id.label("item_id"), al.amount).union_all(select(al.credit_item_id, al.amount)).subquery()
    sums = select(both.c.item_id, func.sum(both.c.amount).label("s")).group_by(both.c.item_id).subquery()
    out = [Violation("M1", f"money item #{r[0]} ({r[1]})", f"allocated is {r[2]} but its allocations sum to {r[3]}")
           for r in conn.execute(select(i.id, i.reference, i.allocated, func.coalesce(sums.c.s, 0))
                                 .outerjoin(sums, sums.c.item_id == i.id)
                                 .where(i.allocated != func.coalesce(sums.c.s, 0)).limit(20))]
    out += [Violation("M2", f"money item #{r[0]} ({r[1]})", f"allocated {r[2]} is outside 0 … |{r[3]}|")
            for r in conn.execute(select(i.id, i.reference, i.allocated, i.amount)
                                  .where(or_(i.allocated < 0, i.allocated > func.abs(i.amount))).limit(20))]
    d, c = money_items.alias("d"), money_items.alias("c")
    out += [Violation("M3", f"allocation of item #{r[0]} against #{r[1]}",
                      "pairs items of different partners or sides, not a debit with a credit, or nets below 0")
            for r in conn.execute(
                select(al.debit_item_id, al.credit_item_id).join(d, d.c.id == al.debit_item_id)
                .join(c, c.c.id == al.credit_item_id)
                .group_by(al.debit_item_id, al.credit_item_id, d.c.partner_id, c.c.partner_id, d.c.side, c.c.side,
                          d.c.amount, c.c.amount)
                .having(or_(func.sum(al.amount) < 0, d.c.partner_id != c.c.partner_id, d.c.side != c.c.side,
                            d.c.amount <= 0, c.c.amount >= 0)).limit(20))]
    sign = case((p.kind.in_(("customer_refund", "supplier_refund")), 1), else_=-1)
    out += [Violation("M4", f"payment {r[0]}", f"amount {r[1]} but its open item is {r[2]}")
            for r in conn.execute(select(p.number, p.amount, i.amount).join(money_items, i.id == p.item_id)
                                  .where(i.amount != sign * p.amount).limit(20))]
    return out + m5_account_movements(conn) + m6_openings(conn)


def m5_account_movements(conn: Connection) -> list[Violation]:
    """M5 money moves in an account only by receipts, payments, refunds (an item of a payment of that
    account and partner, or its reversal) and transfers, whose legs are −amount on the account it left and
    amount − fee on the account it reached (zero on both once reversed)."""
    from jxc.storage.tables_money import (
        money_account_entries,
        money_items,
        money_transfers,
        payments,
    )

    i, p, t, e = money_items.c, payments.c, money_transfers.c, money_account_entries.c
    out = [Violation("M5", f"money item #{r[0]} ({r[1]})", f"moves money in account {r[2]} but is not an item of "
                     "a receipt, payment or refund of that account and partner")
           for r in conn.execute(select(i.id, i.reference, i.account_id)
                                 .outerjoin(payments, p.id == i.payment_id)
                                 .where(i.account_id.is_not(None),
                                        or_(p.id.is_(None), p.account_id != i.account_id, p.partner_id != i.partner_id))
                                 .limit(20))]
    posted = t.state == "posted"
    want = case((e.account_id == t.from_account_id, case((posted, -t.amount), else_=0)),
                (e.account_id == t.to_account_id, case((posted, t.amount - t.fee), else_=0)), else_=None)
    legs = (select(t.id, t.number, e.account_id, func.sum(e.amount).label("got"), want.label("want"))
            .join(money_account_entries, e.transfer_id == t.id)
            .group_by(t.id, t.number, e.account_id, t.from_account_id, t.to_account_id, t.state, t.amount, t.fee)
            .subquery())
    out += [Violation("M5", f"transfer {r[0]} account {r[1]}", f"its entries sum to {r[2]} but should be {r[3]}")
            for r in conn.execute(select(legs.c.number, legs.c.account_id, legs.c.got, legs.c.want)
                                  .where(or_(legs.c.want.is_(None), legs.c.got != legs.c.want)).limit(20))]
    counted = select(e.transfer_id, func.count(func.distinct(e.account_id)).label("n")).group_by(e.transfer_id).subquery()
    out += [Violation("M5", f"transfer {r[0]}", "has no entry on one of its two accounts")
            for r in conn.execute(select(t.number).outerjoin(counted, counted.c.transfer_id == t.id)
                                  .where(func.coalesce(counted.c.n, 0) < 2).limit(20))]
    return out


def m6_openings(conn: Connection) -> list[Violation]:
    """M6 an opening balance's item is its amount, partner and side (kind `opening`); only a posted opening
    holds its reference, and a reversed one is netted by the exact negative of its item."""
    from jxc.storage.tables_money import money_items, money_openings

    o, i = money_openings.c, money_items.c
    r = money_items.alias("r")
    bad_item = or_(i.id.is_(None), i.kind != "opening", i.amount != o.amount, i.partner_id != o.partner_id,
                   i.side != o.side)
    held = or_(and_(o.state == "posted", o.live_reference.is_distinct_from(o.reference)),
               and_(o.state == "reversed", o.live_reference.is_not(None)))
    bad_reversal = and_(o.state == "reversed", or_(r.c.id.is_(None), r.c.reverses_id != o.item_id,
                                                   r.c.amount != -o.amount))
    q = (select(o.id, o.reference, bad_item, held, bad_reversal)
         .outerjoin(money_items, i.id == o.item_id).outerjoin(r, r.c.id == o.reversal_item_id)
         .where(or_(bad_item, held, bad_reversal)).limit(20))
    return [Violation("M6", f"opening #{x[0]} ({x[1]})",
                      "its item is not its amount, partner and side" if x[2] else
                      "its reference is held when reversed, or not held when posted" if x[3] else
                      "its reversal is not the exact negative of its item") for x in conn.execute(q)]


def r1_report_sums(conn: Connection) -> list[Violation]:
    """R1 the report projection (汇总表) equals its recomputation from posted documents, row by row."""
    from zoneinfo import ZoneInfo

    from jxc.storage.book_settings import report_zone
    from jxc.storage.report_sums import KEY, MEASURES, recomputed
    from jxc.storage.tables_reports import report_sums
    from jxc.storage.types import Money, Quantity

    r = report_sums.c
    zone = ZoneInfo(report_zone(conn))
    parts: list[Any] = [select(*[r[c] for c in (*KEY, *MEASURES)])]
    for dim in ("product", "partner"):
        for grain in ("day", "month"):
            sub = recomputed(conn, dim, grain, zone).subquery()
            parts.append(select(*[sub.c[k] for k in KEY], *[-sub.c[m] for m in MEASURES]))
    u = union_all(*parts).subquery()
    types = {"documents": Integer(), "qty": Quantity(), "qty_returned": Quantity()}
    sums = [type_coerce(func.sum(u.c[m]), types.get(m, Money())) for m in MEASURES]
    rows = conn.execute(select(*[u.c[k] for k in KEY], *sums).group_by(*[u.c[k] for k in KEY])
                        .having(or_(*[func.sum(u.c[m]) != 0 for m in MEASURES])).limit(20))
    return [Violation("R1", f"report_sums({r[0]}, {r[1]}, {r[2]}, {r[3]}, warehouse={r[4]}, key={r[5]})",
                      "汇总表比单据多出 / the projection exceeds the documents by "
                      + ", ".join(f"{m}={v}" for m, v in zip(MEASURES, r[6:], strict=True)))
            for r in rows]
