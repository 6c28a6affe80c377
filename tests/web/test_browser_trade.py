"""浏览器里的采购与报表 — in real headless Chromium: receiving a lot-tracked purchase order line on the
order page with its lot number and expiry, and picking the report's partner and product by typing
(pinyin initials, code) instead of knowing their ids.

Skipped locally without chromium or playwright; in CI (`CI` set) it must run (see test_browser.py).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS, serving

from jxc.domain.documents import DocumentKind as K
from jxc.services import documents, masterdata, trade, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from jxc.services.trade import OrderLineInput
from tests.conftest import make_world
from tests.web.test_browser import browser_ready  # noqa: F401  (the fixture: skip or fail without a browser)

PASSWORD = "secret-pass-1"


def _shop(app: Any) -> dict[str, Any]:
    """A supplier and a customer, a confirmed purchase order for 6 纯牛奶 (lot-tracked) and 2 大米,
    rice sold to the customer and eggs to a walk-in, and an owner who may read reports."""
    f, now = app.uow_factory, app.clock.now()
    w = make_world(app)
    users.create_user(f, "laoban", PASSWORD, "owner", SYSTEM, now)
    sup = masterdata.create(f, "partners", {"code": "GYS1", "name": "城南粮油", "role": "supplier"}, SYSTEM, now)
    cus = masterdata.create(f, "partners", {"code": "KH7", "name": "幸福里餐馆", "role": "customer"}, SYSTEM, now)
    stock = documents.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, w.wh, (
        LineInput(w.rice, "10", unit_price="30"), LineInput(w.eggs, "50", unit_price="1")), partner_id=sup),
        SYSTEM, now - timedelta(hours=2))
    documents.submit(f, stock, SYSTEM, now - timedelta(hours=2))
    for partner, product, qty in ((cus, w.rice, "4"), (None, w.eggs, "7"), (cus, w.eggs, "5")):
        trade.quick_sale(f, trade.QuickSaleInput(w.wh, (OrderLineInput(product, qty, unit_price="2"),),
                                                 partner_id=partner), SYSTEM, now - timedelta(hours=1))
    order = trade.create_order(f, "purchase", sup, w.wh, [OrderLineInput(w.rice, "2", unit_price="30"),
                                                          OrderLineInput(w.milk, "6", unit_price="3")], SYSTEM, now)
    trade.confirm_order(f, order, SYSTEM, now)
    return {"world": w, "order": order, "customer": cus}


def _login(page: Any, url: str, target: str) -> None:
    page.goto(f"{url}{target}")
    page.fill("#username", "laoban")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{target}")


def test_order_page_receives_a_lot_tracked_line_with_its_lot_and_reports_pick_by_typing(
        browser_ready, file_app):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    app = file_app
    shop = _shop(app)
    w, order = shop["world"], shop["order"]
    with serving(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            page.set_default_timeout(10_000)

            # 1. the order page: a lot is asked for the milk line only; without it the refusal sits there
            _login(page, url, f"/orders/{order}")
            expect(page.locator("#lot-2")).to_be_visible()
            assert page.locator("#lot-1").count() == 0
            page.fill("#qty-2", "5")
            page.click("#fulfil-form button[name=action]")
            expect(page.locator("#lot-2-error")).to_contain_text("需要批次")
            expect(page.locator("#qty-2")).to_have_value("5")
            page.fill("#lot-2", "L-B-1")
            page.fill("#expires-2", "2027-01-31")
            page.click("#fulfil-form button[name=action]")
            page.wait_for_url(f"**/orders/{order}?done=receive**")
            expect(page.locator("[role=status]")).to_contain_text("已按订单入库")
            lot = app.queries.page_records("lots", None, 1, lot_number="L-B-1")[0]
            assert str(lot["expires_on"]) == "2027-01-31"
            got = sum((a.qty for a in app.queries.balances(product_id=w.milk, lot_id=lot["id"]).values()), Decimal(0))
            assert got == 5

            # 2. the report: pick the customer by pinyin initials and the product by its code
            page.goto(f"{url}/reports?report=sales_summary&by=product")
            page.fill("#partner_id-q", "xfl")
            page.locator("#partner_id-picker [data-pick-id]").first.click()
            expect(page.locator("#partner_id-q")).to_have_value("KH7 幸福里餐馆")
            page.fill("#product_id-q", "P002")
            expect(page.locator("#product_id-picker [data-add-product]")).to_have_count(1)
            page.press("#product_id-q", "Enter")  # Enter picks the first hit rather than submitting half-typed
            expect(page.locator("#product_id-q")).to_have_value("P002 东北大米 5kg")
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**partner_id=*product_id=*")
            expect(page.locator("#report-rows tbody tr")).to_have_count(1)
            expect(page.locator("#report-rows .num.qty")).to_have_text("4")  # rice to that customer only
            expect(page.locator("#product_id-q")).to_have_value("P002 东北大米 5kg")  # kept after the reload
            page.fill("#product_id-q", "")  # emptied: every product again, still that customer's
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r"product_id=$"))
            expect(page.locator("#report-rows tbody tr")).to_have_count(2)  # rice 4 and eggs 5
            page.fill("#partner_id-q", "")
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**partner_id=&**")
            expect(page.locator("#report-rows .num.qty")).to_have_text(["4", "12"])  # eggs: 7 walk-in + 5
        finally:
            browser.close()
