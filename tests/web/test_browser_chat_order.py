"""社群订单，浏览器里 — paste a WeChat message on the new sales-order page in headless Chromium:
the parsed lines appear with their evidence, "create draft order" opens the order with those
lines, and confirming it shows them reserved.

Skipped locally without chromium or playwright; in CI (`CI` set) it must run (see test_browser.py).
"""

from __future__ import annotations

from typing import Any

from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS, serving

from jxc.domain.ledger import Movement
from jxc.services import masterdata, trade, users
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import make_world
from tests.web.test_browser import browser_ready  # noqa: F401  (the fixture: skip or fail without a browser)
from tests.web.test_browser_flows import PASSWORD, _login


def _shop(app: Any) -> dict[str, Any]:
    from decimal import Decimal

    f, now = app.uow_factory, app.clock.now()
    w = make_world(app)
    users.create_user(f, "laoban", PASSWORD, "owner", SYSTEM, now)
    berry = masterdata.create(f, "products", {"code": "F001", "name": "蓝莓", "base_unit": "盒"}, SYSTEM, now)
    for product, qty in ((berry, "5"), (w.rice, "8")):
        post(f, PostingRequest("receipt", (Movement(product, Decimal(qty), w.supplier, w.shelf_a,
                                                    unit_cost=Decimal("2")),), now), SYSTEM, now)
    wang = masterdata.create(f, "partners", {"code": "C-WANG", "name": "王姐", "role": "customer",
                                             "phone": "13812345678", "address": "阳光花园3栋502"}, SYSTEM, now)
    return {"world": w, "berry": berry, "wang": wang}


def test_a_pasted_wechat_message_becomes_an_order_that_confirms_and_reserves(browser_ready, file_app):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    app = file_app
    shop = _shop(app)
    with serving(app, run_worker=True) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            _login(page, url, "laoban", "/orders/new?kind=sales")
            page.fill("#chat-text", "老板早上好🌞 要2盒蓝莓+1袋东北大米，3栋502 电话13812345678")
            page.click("#chat-parse-btn")
            lines = page.locator("#chat-lines tbody tr")
            expect(lines).to_have_count(2)
            expect(lines.nth(0)).to_contain_text("蓝莓")
            expect(lines.nth(0).locator(".evidence")).to_contain_text("2盒蓝莓")
            expect(page.locator("#customer-guess")).to_contain_text("王姐")
            page.click("#chat-create")
            page.wait_for_url("**/orders/*?done=saved")
            expect(page.locator("#order-lines tbody tr")).to_have_count(2)
            expect(page.locator("#order-partner")).to_have_text("王姐")
            page.click("#confirm-order")
            expect(page.locator("#order-state")).to_have_attribute("data-state", "confirmed")
            reserved = page.locator("#order-lines tbody tr td.reserved")
            expect(reserved.nth(0)).to_have_text("2")
            expect(reserved.nth(1)).to_have_text("1")
        finally:
            browser.close()
    order = trade.list_orders(app.uow_factory, SYSTEM, None, 10, kind="sales")[0]
    got = trade.get_order(app.uow_factory, order["id"])
    assert got["state"] == "confirmed" and got["partner_id"] == shop["wang"]
    assert [ln["product_id"] for ln in got["lines"]] == [shop["berry"], shop["world"].rice]
    assert all(ln["reservation_id"] for ln in got["lines"])
