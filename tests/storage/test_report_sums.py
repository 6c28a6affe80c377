"""汇总表 — the report projection gives the same rows as the line query, survives reversals, rebuilds to
itself, is caught by `jxc check` (R1) when tampered with, and stays exact under concurrent postings."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from jxc.domain.documents import DocumentKind as K
from jxc.domain.documents import DocumentState
from jxc.domain.errors import DomainError
from jxc.services import book, masterdata
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from jxc.storage import reports_repo
from jxc.storage.checks import r1_report_sums
from jxc.storage.report_sums import KEY, rebuild_report_sums, zone_segments
from jxc.storage.tables_reports import report_sums
from tests.conftest import NOW, make_world
from tests.storage.test_concurrency import THREADS, attempt, race

BOSS = Actor("boss", frozenset({"*"}), role="owner")
APPROVER = Actor("boss2", frozenset({"*"}), role="owner", reauthenticated=True)
SEQ = itertools.count()
SHANGHAI = timezone(timedelta(hours=8))
BASE = datetime(2026, 10, 20, tzinfo=UTC)  # the random days cross the ends of October and November
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRADING = (K.PURCHASE_RECEIPT, K.PURCHASE_RETURN, K.SALES_DELIVERY, K.SALES_RETURN)
GROUPINGS = ("product", "partner", "warehouse", "day", "month")


def post(f, kind: K, wh: int, partner: int | None, at: datetime, lines: list[tuple[int, Any, Any]]) -> int:
    reason = "坏了" if kind in (K.SALES_RETURN, K.PURCHASE_RETURN, K.SCRAP) else None
    doc = docs.create_draft(f, DraftInput(kind, wh, tuple(LineInput(p, q, unit_price=pr) for p, q, pr in lines),
                                          effective_at=at, partner_id=partner, reason_text=reason), BOSS, at)
    if docs.submit(f, doc, BOSS, at) is DocumentState.PENDING_APPROVAL:
        while docs.approve(f, doc, APPROVER, at) is DocumentState.PENDING_APPROVAL:
            pass
    return doc


def shop(app) -> dict[str, Any]:
    """Two warehouses with a shelf each, two customers, a supplier, two products, stock to sell."""
    f, n = app.uow_factory, next(SEQ)
    whs = []
    for i in range(2):
        wh = masterdata.create(f, "warehouses", {"code": f"RW{n}{i}", "name": f"仓{i}"}, SYSTEM, NOW)
        masterdata.create(f, "locations", {"code": f"RL{n}{i}", "name": "货架", "warehouse_id": wh}, SYSTEM, NOW)
        whs.append(wh)
    cus = [masterdata.create(f, "partners", {"code": f"RC{n}{i}", "name": f"客户{i}", "role": "customer"},
                             SYSTEM, NOW) for i in range(2)]
    sup = masterdata.create(f, "partners", {"code": f"RS{n}", "name": "供应商", "role": "supplier"}, SYSTEM, NOW)
    prods = [masterdata.create(f, "products", {"code": f"RP{n}{i}", "name": f"商品{i}", "base_unit": "个"},
                               SYSTEM, NOW) for i in range(2)]
    for wh in whs:
        post(f, K.PURCHASE_RECEIPT, wh, sup, BASE - timedelta(days=1), [(p, "1000", "1.5") for p in prods])
    return {"whs": whs, "customers": cus, "supplier": sup, "products": prods}


step = st.tuples(
    st.sampled_from((*TRADING, "reverse")),
    st.integers(0, 45),  # day
    st.sampled_from((0, 3, 15, 16, 23)),  # UTC hour: 15:00 UTC is midnight in Shanghai
    st.integers(0, 1),  # warehouse
    st.sampled_from((0, 1, None)),  # partner: customer / supplier by side, or none
    st.lists(st.tuples(st.integers(0, 1), st.integers(1, 5), st.sampled_from(("2", "0.3333", "1.25", None))),
             min_size=1, max_size=3),
)


def play(app, s: dict[str, Any], steps) -> list[int]:
    f, posted = app.uow_factory, []
    for kind, day, hour, w, who, lines in steps:
        at = BASE + timedelta(days=day, hours=hour)
        if kind == "reverse":
            if posted:
                doc = posted.pop(day % len(posted))
                docs.reverse(f, doc, BOSS, at, "录错了")
            continue
        side_partner = s["supplier"] if kind in (K.PURCHASE_RECEIPT, K.PURCHASE_RETURN) else s["customers"][who or 0]
        partner = None if who is None else side_partner
        posted.append(post(f, kind, s["whs"][w], partner, at, [(s["products"][p], q, pr) for p, q, pr in lines]))
    return posted


def midnight(day: int, offset_h: int = 8) -> datetime:
    return datetime.combine(date(2026, 10, 20) + timedelta(days=day), datetime.min.time(),
                            tzinfo=timezone(timedelta(hours=offset_h)))


bound = st.one_of(st.none(), st.integers(-2, 50).map(midnight),  # local midnights, incl. month starts
                  st.sampled_from((midnight(12), midnight(42))),  # 1 Nov, 1 Dec
                  st.integers(-2, 50).map(lambda d: midnight(d) + timedelta(hours=5)))  # not aligned
filters = st.fixed_dictionaries({
    "since": bound, "until": bound, "warehouse": st.sampled_from((None, 0, 1)),
    "partner": st.sampled_from((None, 0, 1)), "product": st.sampled_from((None, 0, 1)),
    "offset": st.sampled_from((480, 480, 0)), "limited": st.booleans()})


def as_filter(s: dict[str, Any], fl: dict[str, Any], side: str) -> dict[str, Any]:
    partners = [s["supplier"], s["supplier"]] if side == "purchase" else s["customers"]
    out = {"since": fl["since"], "until": fl["until"], "utc_offset_minutes": fl["offset"],
           "warehouse_id": None if fl["warehouse"] is None else s["whs"][fl["warehouse"]],
           "partner_id": None if fl["partner"] is None else partners[fl["partner"]],
           "product_id": None if fl["product"] is None else s["products"][fl["product"]]}
    if fl["limited"]:
        out["warehouse_ids"] = [s["whs"][0]]
    return out


@FAST
@given(steps=st.lists(step, min_size=1, max_size=14), asks=st.lists(filters, min_size=3, max_size=3))
def test_every_report_reads_the_same_rows_from_the_projection_as_from_the_lines(app, steps, asks):
    s = shop(app)
    play(app, s, steps)
    e = app.engine
    with e.connect() as conn:
        assert reports_repo.projection_plan(conn, "day", {}) is not None  # the plain case does use it
        assert r1_report_sums(conn) == []
    for fl in asks:
        for by in GROUPINGS:
            for side in ("purchase", "sales"):
                f = as_filter(s, fl, side)
                for offset, limit in ((0, 500), (1, 2)):
                    assert (reports_repo.summary(e, side, by, f, offset, limit)
                            == reports_repo.summary_lines(e, side, by, f, offset, limit)), (side, by, f)
            f = as_filter(s, fl, "sales")
            assert (reports_repo.gross_profit(e, by, f, 0, 500)
                    == reports_repo.gross_profit_lines(e, by, f, 0, 500)), (by, f)


def projection(app) -> dict[tuple, tuple]:
    """The table's rows, without the all-zero rows a reversal leaves behind."""
    with app.engine.connect() as conn:
        rows = conn.execute(select(report_sums).order_by(*[report_sums.c[k] for k in KEY])).all()
    return {tuple(r[:6]): tuple(r[6:]) for r in rows if any(r[6:])}


def test_a_reversal_takes_out_exactly_what_the_document_added_at_its_own_day(app):
    s = shop(app)
    f, e = app.uow_factory, app.engine
    rice, eggs = s["products"]
    before = projection(app)
    day = BASE + timedelta(days=3, hours=2)
    sale = post(f, K.SALES_DELIVERY, s["whs"][0], s["customers"][0], day, [(rice, "3", "2"), (eggs, "1", "0.3333")])
    added = {k: v for k, v in projection(app).items() if before.get(k) != v}
    assert {(k[0], k[1]) for k in added} == {("product", "day"), ("product", "month"),
                                             ("partner", "day"), ("partner", "month")}
    partner_day = added[("partner", "day", date(2026, 10, 23), "sales", s["whs"][0], s["customers"][0])]
    assert partner_day[:3] == (1, D("4"), D("6.3333"))  # documents, qty, amount
    docs.reverse(f, sale, BOSS, BASE + timedelta(days=40), "录错了")  # a month later: the original day loses it
    assert projection(app) == before
    flt = {"since": midnight(3), "until": midnight(4), "utc_offset_minutes": 480}
    assert reports_repo.summary(e, "sales", "product", flt, 0, 50) == []
    with e.connect() as conn:
        assert r1_report_sums(conn) == []


def test_rebuilding_a_book_gives_the_projection_its_postings_wrote(app):
    s = shop(app)
    posted = play(app, s, [(K.SALES_DELIVERY, d, 16, d % 2, (None, 0, 1)[d % 3], [(d % 2, 2, "1.25")]) for d in range(9)]
                  + [(K.SALES_RETURN, 4, 3, 0, 0, [(0, 1, "1.25")]), ("reverse", 2, 0, 0, 0, [])])
    assert posted
    incremental = projection(app)
    with app.engine.begin() as conn:
        assert rebuild_report_sums(conn) == len(incremental)
    assert projection(app) == incremental


def test_check_r1_names_a_tampered_or_missing_row(app):
    s = shop(app)
    post(app.uow_factory, K.SALES_DELIVERY, s["whs"][1], None, BASE, [(s["products"][0], "2", "3")])
    r = report_sums.c
    with app.engine.begin() as conn:
        conn.execute(update(report_sums).where(r.dim == "partner", r.grain == "month", r.key_id == 0,
                                               r.side == "sales").values(amount=r.amount + D("0.01")))
        conn.execute(report_sums.delete().where(r.dim == "product", r.grain == "day", r.side == "purchase",
                                                r.warehouse_id == s["whs"][0], r.key_id == s["products"][1]))
    found = {v.subject: v.detail for v in app.queries.violations() if v.invariant == "R1"}
    assert len(found) == 2, found
    tampered = next(d for k, d in found.items() if "partner, month" in k)
    assert "amount=0.0100" in tampered and "documents=0" in tampered
    missing = next(d for k, d in found.items() if "product, day" in k)
    assert "documents=-1" in missing and "qty=-1000" in missing


def test_changing_the_report_zone_rebuilds_the_projection_in_that_zone(app):
    s = shop(app)
    f, e = app.uow_factory, app.engine
    at = datetime(2026, 11, 3, 3, 30, tzinfo=UTC)  # 11:30 on 3 Nov in Shanghai, 22:30 on 2 Nov in New York
    post(f, K.SALES_DELIVERY, s["whs"][0], s["customers"][1], at, [(s["products"][0], "1", "5")])
    day = {"since": midnight(0), "until": midnight(20), "utc_offset_minutes": 480}
    assert [r["key"] for r in reports_repo.summary(e, "sales", "day", day, 0, 50)][-1] == "2026-11-03"
    book.set_setting(f, "reports.timezone", "America/New_York", replace(BOSS, reauthenticated=True), NOW)
    ny = {"since": midnight(13, -5), "until": midnight(20, -5), "utc_offset_minutes": -300}  # after DST ended
    with e.connect() as conn:
        assert reports_repo.projection_plan(conn, "day", ny) is not None
        assert reports_repo.projection_plan(conn, "day", day) is None  # Shanghai days: the line query answers
        assert r1_report_sums(conn) == []
    got = reports_repo.summary(e, "sales", "day", ny, 0, 50)
    assert got == reports_repo.summary_lines(e, "sales", "day", ny, 0, 50)
    assert [r["key"] for r in got] == ["2026-11-02"]
    assert reports_repo.summary(e, "sales", "day", day, 0, 50) == reports_repo.summary_lines(e, "sales", "day", day,
                                                                                              0, 50)


def test_zone_segments_split_at_the_exact_daylight_saving_change():
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    segs = zone_segments(ny, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert [(s.end, s.offset_s) for s in segs] == [(datetime(2026, 11, 1, 6, tzinfo=UTC), -4 * 3600),
                                                   (datetime(2026, 12, 1, tzinfo=UTC), -5 * 3600)]
    assert len(zone_segments(ZoneInfo("Asia/Shanghai"), datetime(2024, 1, 1, tzinfo=UTC),
                             datetime(2026, 1, 1, tzinfo=UTC))) == 1


def submit_all(f, drafts: list[list[int]], n: int) -> list[str]:
    return [attempt(partial(docs.submit, f, doc, BOSS, NOW)) for doc in drafts[n]]


def test_concurrent_deliveries_of_one_product_customer_and_day_sum_exactly(file_app):
    """The drafts are made first; the race is between the postings, which upsert the same rows."""
    f = file_app.uow_factory
    w = make_world(file_app)
    cus = masterdata.create(f, "partners", {"code": "RCC", "name": "客户", "role": "customer"}, SYSTEM, NOW)
    post(f, K.PURCHASE_RECEIPT, w.wh, None, NOW, [(w.rice, "1000", "2"), (w.eggs, "1000", "0.5")])
    per_thread, rounds = 3, 2
    lines = (LineInput(w.rice, "1", unit_price="3"), LineInput(w.eggs, "1", unit_price="1"))
    for _ in range(rounds):
        drafts = [[docs.create_draft(f, DraftInput(K.SALES_DELIVERY, w.wh, lines[::1 if n % 2 else -1],
                                                   effective_at=NOW + timedelta(minutes=n), partner_id=cus), BOSS, NOW)
                   for _ in range(per_thread)] for n in range(THREADS)]
        outcomes = race(partial(submit_all, f, drafts))
        assert outcomes == {"ok": THREADS * per_thread}, outcomes
    with file_app.engine.connect() as conn:
        assert r1_report_sums(conn) == []
    n = rounds * THREADS * per_thread
    got = reports_repo.summary(file_app.engine, "sales", "partner", {"partner_id": cus}, 0, 10)
    assert [(r["documents"], r["qty"], r["amount"]) for r in got] == [(n, D(2 * n), D(4 * n))]
    gp = reports_repo.gross_profit(file_app.engine, "product", {}, 0, 10)
    assert [(r["key"], r["revenue"], r["cogs"]) for r in gp] == [(w.rice, D(3 * n), D(2 * n)),
                                                                 (w.eggs, D(n), D(n) / 2)]
    assert file_app.queries.violations() == []


def test_stock_only_documents_write_no_report_rows(app):
    w = make_world(app)
    post(app.uow_factory, K.PURCHASE_RECEIPT, w.wh, None, NOW, [(w.rice, "5", "2")])
    rows = projection(app)
    scrap = post(app.uow_factory, K.SCRAP, w.wh, None, NOW, [(w.rice, "1", None)])
    assert docs.get(app.uow_factory, scrap)["state"] == "posted"
    assert projection(app) == rows


def test_the_rebuild_service_restores_an_emptied_projection_and_is_audited(app):
    from jxc.services import reports
    from jxc.storage.tables import audit_records

    s = shop(app)
    post(app.uow_factory, K.SALES_DELIVERY, s["whs"][0], s["customers"][0], BASE, [(s["products"][0], "2", "3")])
    written = projection(app)
    with app.engine.begin() as conn:
        conn.execute(report_sums.delete())
        assert r1_report_sums(conn) != []
    with pytest.raises(DomainError) as err:
        reports.rebuild(app.uow_factory, Actor("clerk", frozenset({"report.view"})), NOW)
    assert err.value.code == "PERMISSION_DENIED"
    assert reports.rebuild(app.uow_factory, BOSS, NOW) == {"report_sums": len(written), "order_sums": 0}
    assert projection(app) == written
    with app.engine.connect() as conn:
        assert json.loads(conn.execute(select(audit_records.c.after).where(
            audit_records.c.action == "reports.rebuild")).scalar_one()) == {"report_sums": len(written), "order_sums": 0}


def test_no_stock_trading_counts_the_sale_with_no_cost(app):
    s = shop(app)
    f, e = app.uow_factory, app.engine
    book.set_setting(f, "trading.no_stock", True, replace(BOSS, reauthenticated=True), NOW)
    post(f, K.SALES_DELIVERY, s["whs"][1], s["customers"][0], BASE, [(s["products"][1], "4", "2.5")])
    flt = {"warehouse_id": s["whs"][1]}
    got = reports_repo.gross_profit(e, "partner", flt, 0, 10)
    assert [(r["key"], r["revenue"], r["cogs"]) for r in got] == [(s["customers"][0], D(10), D(0))]
    assert got == reports_repo.gross_profit_lines(e, "partner", flt, 0, 10)
    with e.connect() as conn:
        assert r1_report_sums(conn) == []
