"""报表页面 — the figures are reports.run's, filters and grouping reach it, pages of 50, csv / xlsx export
of the whole filtered report, permissions, English."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal as D

from openpyxl import load_workbook

from jxc.domain.documents import DocumentKind as K
from jxc.services import documents, masterdata, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from tests.conftest import NOW
from tests.web.conftest import PASSWORD


def _doc(web, kind, partner, product, qty, price):
    boss = web.actor("laoban")
    now = web.app.clock.now()
    did = documents.create_draft(web.app.uow_factory, DraftInput(
        kind, web.world.wh, (LineInput(product, qty, unit_price=price),), partner_id=partner,
        effective_at=now - timedelta(hours=1)), boss, now)
    documents.submit(web.app.uow_factory, did, boss, now)
    return did


def _shop(web):
    f = web.app.uow_factory
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer"}, SYSTEM, NOW)
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier"}, SYSTEM, NOW)
    _doc(web, K.PURCHASE_RECEIPT, sup, web.world.rice, "100", "30")
    _doc(web, K.PURCHASE_RECEIPT, sup, web.world.eggs, "100", "1")
    _doc(web, K.SALES_DELIVERY, cus, web.world.rice, "10", "50")
    _doc(web, K.SALES_DELIVERY, cus, web.world.eggs, "20", "2")
    return cus, sup


def _cells(html, cls):
    return re.findall(rf'class="num {cls}">([^<]*)<', html)


def test_sales_summary_and_gross_profit_tie_out_to_the_documents(web):
    cus, _sup = _shop(web)
    c = web.login("laoban")
    html = c.get("/reports?report=sales_summary&by=product").text
    assert _cells(html, "amount") == ["¥500.00", "¥40.00"]  # rice 10 × 50, eggs 20 × 2
    assert _cells(html, "qty") == ["10", "20"]
    gp = c.get("/reports?report=gross_profit&by=partner").text
    assert _cells(gp, "revenue") == ["¥540.00"] and _cells(gp, "cogs") == ["¥320.00"]  # 10 × 30 + 20 × 1
    assert _cells(gp, "gross_profit") == ["¥220.00"] and _cells(gp, "margin") == ["40.7%"]
    only_rice = c.get(f"/reports?report=sales_summary&by=partner&product_id={web.world.rice}").text
    assert _cells(only_rice, "amount") == ["¥500.00"] and "幸福里餐馆" in only_rice
    assert "¥" not in "".join(_cells(c.get("/reports?report=sales_summary&on=2020-01-01&to=2020-01-31").text,
                                      "amount"))


def test_reports_page_fifty_rows_and_export_every_row(web):
    cus, _sup = _shop(web)
    for _ in range(51):
        _doc(web, K.SALES_DELIVERY, cus, web.world.rice, "1", "50")
    c = web.login("laoban")
    first = c.get("/reports?report=gross_profit&by=document").text
    assert len(re.findall(r"<tr data-key=", first)) == 50 and 'rel="next"' in first
    second = c.get("/reports?report=gross_profit&by=document&page=2").text
    assert len(re.findall(r"<tr data-key=", second)) == 3 and 'rel="next"' not in second
    rows = list(csv.reader(io.StringIO(c.get("/reports?report=gross_profit&by=document&format=csv")
                                       .content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 53 and sum(D(r[1]) for r in rows[1:]) == D(500 + 40 + 51 * 50)
    ws = load_workbook(io.BytesIO(c.get("/reports?report=sales_summary&by=product&format=xlsx").content)).active
    assert [r[3] for r in ws.iter_rows(min_row=2, values_only=True)] == [3050, 40]


def test_reports_need_report_view_and_gross_profit_needs_cost(web):
    _shop(web)
    keeper = web.login("zhang")
    r = keeper.get("/reports")
    assert r.status_code == 403
    users.create_user(web.app.uow_factory, "liu", PASSWORD, "sales", SYSTEM, NOW)
    web.made.add("liu")
    seller = web.login("liu")
    assert seller.get("/reports?report=gross_profit").status_code == 403


def test_reports_page_is_english_for_an_english_viewer(web):
    _shop(web)
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    for name in ("sales_summary", "purchase_summary", "gross_profit", "purchase_fulfilment", "sales_fill_rate"):
        html = c.get(f"/reports?report={name}&by=partner").text
        for w in ("中文", "幸福里餐馆", "城南粮油", "总仓"):
            html = html.replace(w, "")
        text = re.sub(r"<[^>]+>", "", html)
        assert not re.findall(r"\S*[\u4e00-\u9fff]\S*", text), (name, re.findall(r"\S*[\u4e00-\u9fff]\S*", text))


def test_report_filters_pick_partner_and_product_by_name_code_or_pinyin_not_by_id(web):
    cus, sup = _shop(web)
    c = web.login("laoban")
    page = c.get("/reports").text
    assert 'data-picker-url="/partners/search"' in page and 'data-picker-url="/products/search"' in page
    assert 'name="product_id" value="" data-pick-value' in page  # the id travels hidden; nobody types it
    for q in ("xflcg", "幸福", "c1"):  # pinyin initials, name, code (any case)
        hits = c.get("/partners/search", params={"q": q}).text
        assert f'data-pick-id="{cus}"' in hits and f'data-pick-id="{sup}"' not in hits, q
    assert "没有找到“zzz”" in c.get("/partners/search", params={"q": "zzz"}).text
    assert f'data-add-product="{web.world.rice}"' in c.get("/products/search", params={"q": "dbdm"}).text
    picked = c.get("/reports", params={"report": "sales_summary", "by": "product", "partner_id": cus,
                                       "product_id": web.world.rice}).text
    assert re.search(r'id="partner_id-q" type="search" value="C1 幸福里餐馆"', picked)
    assert re.search(r'id="product_id-q" type="search" value="P002 东北大米 5kg"', picked)
    assert _cells(picked, "amount") == ["¥500.00"]  # rice only, that customer's
