"""演示数据 — each demo business builds through the services with clean books (I1–I9), deterministically.

The catalogs and histories are shrunk (``size``, ``days``) so the suite stays fast; the full
builds are measured in docs/benchmarks.md. Runs on SQLite and PostgreSQL (--db=postgresql).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from jxc.services import demo, money_reads
from jxc.services.demo_catalog import ean13, fresh_catalog, initials, wholesale_catalog
from jxc.services.demo_wholesale import LATE, NEVER
from jxc.services.posting import SYSTEM

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # a Sunday morning in Shanghai


def _rows(app, sql: str, **params) -> list:
    with app.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_catalogs_are_full_size_unique_and_searchable_by_pinyin_initials():
    fresh, wholesale = fresh_catalog(), list(wholesale_catalog())
    assert len(fresh) == 420 and len(wholesale) == 2000
    for skus in (fresh, wholesale):
        assert len({s.code for s in skus}) == len(skus)
        assert len({s.barcode for s in skus}) == len(skus)
        assert len({(s.name, s.spec) for s in skus}) == len(skus)
        assert all(s.barcode == ean13(s.barcode[:12]) for s in skus)
    assert {s.unit for s in fresh} >= {"斤", "盒", "袋", "个", "把"}
    lives = [s.shelf_life_days for s in fresh if s.shelf_life_days is not None]
    assert len(lives) > len(fresh) * 0.7 and min(lives) == 2 and max(lives) == 15
    lettuce = next(s for s in fresh if s.name == "油麦菜")
    assert lettuce.code.startswith(initials("油麦菜")) and initials("油麦菜") == "YMC"  # typing `ymc` finds it
    potato = next(s for s in fresh if s.name == "土豆")
    assert potato.code == "SC004"  # the first demo's codes stay valid
    units = {s.unit for s in wholesale} | {s.case_unit for s in wholesale}
    assert units >= {"箱", "件", "片", "卷", "桶", "捆"}
    assert sum(1 for s in wholesale if s.case_unit) > 1000  # most are bought and sold in two units


def test_fresh_shop_builds_clean_books_with_orders_lots_till_sales_scrap_and_busier_weekends(app):
    seen: list[tuple[int, int]] = []
    s = demo.build_demo(app.uow_factory, NOW, app.settings.zone, days=7, scale=2, business="fresh", size=40,
                        batch=app.batch, progress=lambda done, total: seen.append((done, total)))
    assert app.queries.violations() == []
    assert s.products == 40 and s.days == 14 and seen[-1] == (14, 14) and len(s.users) == 4  # --scale 2
    kinds = Counter(r[0] for r in _rows(app, "select kind from postings"))
    assert kinds["sales_delivery"] >= 14 * 4  # till uploads and WeChat deliveries
    assert kinds["purchase_receipt"] >= 14 and kinds["scrap"] >= 1 and kinds["opening_balance"] == 1
    states = Counter((r[0], r[1]) for r in _rows(app, "select kind, state from orders"))
    assert states[("purchase", "done")] > 0 and states[("sales", "done")] > 0
    scraps = Counter(r[0] for r in _rows(app, "select state from documents where kind = 'scrap'"))
    assert scraps["posted"] >= 1 and scraps["pending_approval"] == 1  # approved each night; tonight's still waits
    reserved = _rows(app, "select count(*) from reservations where state = 'pending'")[0][0]
    assert reserved >= 1  # tomorrow's 接龙 holds stock
    approvals = _rows(app, "select username from approvals")
    assert approvals and {r[0] for r in approvals} == {"zhuguan"}
    lots = _rows(app, "select count(*) from lots where expires_on is not null")[0][0]
    assert lots > 40  # a lot per delivery of produce, each with its expiry
    assert _rows(app, "select count(*) from unit_conversions")[0][0] > 0
    assert _rows(app, "select count(*) from product_barcodes")[0][0] == 40
    sold: dict[int, Decimal] = {}
    for at, qty in _rows(app, "select p.effective_at, e.qty from ledger_entries e join postings p on p.id = e.posting_id "
                              "where p.reference like 'POS-%' and e.qty > 0"):
        at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        day = (at.replace(tzinfo=at.tzinfo or UTC)).astimezone(app.settings.zone).weekday()
        sold[day] = sold.get(day, Decimal(0)) + Decimal(str(qty))
    weekend = (sold.get(5, Decimal(0)) + sold.get(6, Decimal(0))) / 2
    weekday = sum(sold.get(d, Decimal(0)) for d in range(5)) / 5
    assert weekend > weekday * Decimal("1.15")
    owed = {r["partner_code"]: r["balance"] for r in money_reads.balances(app.uow_factory, "receivable", SYSTEM)}
    assert {c for c, b in owed.items() if b != 0} <= {"KH05"}  # WeChat customers paid at delivery; the canteen: terms
    paid = Counter(r[0] for r in _rows(app, "select a.kind from payments p join money_accounts a on a.id = p.account_id "
                                            "where p.kind = 'receipt'"))
    assert paid["wechat"] >= 14 and paid["cash"] + paid["bank"] >= 1
    suppliers = Counter(r[0] for r in _rows(app, "select a.kind from payments p join money_accounts a "
                                                 "on a.id = p.account_id where p.kind = 'payment'"))
    assert suppliers["cash"] >= 14 and len(suppliers) >= 2  # the vegetable man each morning; the rest on terms


def test_wholesaler_builds_clean_books_with_transfers_partial_receipts_and_an_approved_count(app):
    s = demo.build_demo(app.uow_factory, NOW, app.settings.zone, days=14, business="wholesale", size=80,
                        batch=app.batch)
    assert app.queries.violations() == []
    assert s.products == 80
    assert _rows(app, "select count(*) from warehouses")[0][0] == 3
    transfers = _rows(app, "select id, state from documents where kind = 'transfer'")
    receipts = _rows(app, "select source_document_id, remark from documents where kind = 'transfer_receipt'")
    assert transfers and receipts
    received = {r[0] for r in receipts}
    assert [t for t in transfers if t[0] not in received]  # tonight's transfers are still in transit
    short = _rows(app, "select count(*) from document_lines l join documents d on d.id = l.document_id "
                       "where d.kind = 'transfer_receipt' and l.remark like '在途差异%'")[0][0]
    assert short == 1  # one line arrived one short: written off from transit, not left there
    po = Counter(r[0] for r in _rows(app, "select state from orders where kind = 'purchase'"))
    multi = _rows(app, "select count(*) from (select l.order_line_id from document_lines l join documents d "
                       "on d.id = l.document_id where d.kind = 'purchase_receipt' and l.order_line_id is not null "
                       "group by l.order_line_id having count(*) > 1) x")[0][0]
    assert po and multi > 0  # purchase orders received in more than one delivery
    customers = _rows(app, "select count(distinct partner_id) from documents where kind = 'sales_delivery'")[0][0]
    assert customers >= 3
    count_doc = _rows(app, "select state, reason_code from documents where kind = 'count_adjustment'")
    assert count_doc and count_doc[0][0] == "posted"
    assert _rows(app, "select state from count_tasks")[0][0] == "closed"
    _wholesaler_money_is_realistic_and_ties_out(app, s)


def _wholesaler_money_is_realistic_and_ties_out(app, s):
    """应收应付: customers pay on terms (a few late, one never), suppliers are paid from several accounts, one
    order over its credit limit was approved by the owner, and every statement ties out."""
    today = NOW.astimezone(app.settings.zone).date()
    aged = money_reads.ageing(app.uow_factory, "receivable", NOW, today, SYSTEM)
    names = {r["partner_name"]: r for r in aged["partners"]}
    overdue = ("d1_30", "d31_60", "d61_90", "over_90")
    assert aged["totals"]["not_due"] > 0 and aged["totals"]["d1_30"] > 0  # several buckets, even in a fortnight
    assert sum(aged["totals"][b] for b in overdue) == sum(names[n][b] for n in (NEVER, *LATE) if n in names
                                                           for b in overdue)  # only the late ones are overdue
    assert names[NEVER]["d1_30"] > 0  # go-live evening's goods, 现结, never paid
    later = money_reads.ageing(app.uow_factory, "receivable", NOW, today + timedelta(days=80), SYSTEM)["totals"]
    assert later["over_90"] > 0 and later["d61_90"] + later["d31_60"] > 0  # left unpaid, it ages on
    receipts = _rows(app, "select p.partner_id, a.kind from payments p join money_accounts a on a.id = p.account_id "
                          "where p.kind = 'receipt'")
    payments = _rows(app, "select p.partner_id, a.kind from payments p join money_accounts a on a.id = p.account_id "
                          "where p.kind = 'payment'")
    assert len({r[0] for r in receipts}) >= 3 and len({r[0] for r in payments}) >= 2
    assert len({r[1] for r in payments}) >= 2  # 货到付款 by WeChat Pay / Alipay / cash; bank on terms later
    overrides = _rows(app, "select o.reason, o.actor, p.name from credit_overrides o join partners p on p.id = o.partner_id")
    assert [(r[1], r[2]) for r in overrides if r[2] == "华庭物业"] == [("laoban", "华庭物业")] and overrides[0][0]
    assert _rows(app, "select count(*) from audit_records where action = 'order.credit_override'")[0][0] == len(overrides)
    assert _rows(app, "select state from orders where partner_id = (select id from partners where name = '华庭物业') "
                      "and remark like '大堂翻新%'")[0][0] != "draft"  # confirmed after the override
    since = datetime(2026, 11, 12, tzinfo=UTC)
    for side in ("receivable", "payable"):
        for row in money_reads.balances(app.uow_factory, side, SYSTEM):
            st = money_reads.statement(app.uow_factory, row["partner_id"], since, NOW, SYSTEM, side)
            assert st["opening"] + st["debits"] - st["credits"] == st["closing"] == row["balance"], row
    assert any(r["balance"] > 0 for r in money_reads.balances(app.uow_factory, "payable", SYSTEM))  # not all due yet
