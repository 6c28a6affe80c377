"""浏览器里的日常作业 — the daily flows in real headless Chromium (Debian's, via playwright):
receive a purchase order by scanning, sell with the lot picked FEFO, a refused sale showing its
reason, and a count whose variance a manager approves in a second browser context while that
manager's stock page updates live; an unknown barcode is refused to a keeper and linked by a manager.

Skipped locally without chromium or playwright; in CI (`CI` set) it must run (see test_browser.py).
"""

from __future__ import annotations

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
RICE_CODE = "6901234567892"
MILK_CODE = "6907777000013"


def _shop(app: Any) -> dict[str, Any]:
    """总仓 with 大米 (barcode, 10 on the shelf) and 纯牛奶 in two lots (the older one expires first),
    a confirmed purchase order for 3 大米, a keeper and a manager."""
    f, now = app.uow_factory, app.clock.now()
    w = make_world(app)
    for name, role in (("zhang", "keeper"), ("zhuguan", "manager")):
        users.create_user(f, name, PASSWORD, role, SYSTEM, now)
    masterdata.add_barcode(f, w.rice, RICE_CODE, SYSTEM, now)
    masterdata.add_barcode(f, w.milk, MILK_CODE, SYSTEM, now)
    today = now.astimezone(app.settings.zone).date()
    old = masterdata.create_lot(f, w.milk, "L-OLD", SYSTEM, now, produced_on=today - timedelta(days=12))
    new = masterdata.create_lot(f, w.milk, "L-NEW", SYSTEM, now, produced_on=today)
    opening = documents.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, w.wh, (
        LineInput(w.rice, "10", unit_price="30"), LineInput(w.milk, "6", lot_id=new, unit_price="3"),
        LineInput(w.milk, "4", lot_id=old, unit_price="3"))), SYSTEM, now)
    documents.submit(f, opening, SYSTEM, now)
    supplier = masterdata.create(f, "partners", {"code": "GYS9", "name": "粮油批发", "role": "supplier"}, SYSTEM, now)
    order = trade.create_order(f, "purchase", supplier, w.wh, [OrderLineInput(w.rice, "3", unit_price="30")],
                               SYSTEM, now)
    trade.confirm_order(f, order, SYSTEM, now)
    return {"world": w, "order": order, "old": old, "new": new}


def _lot_qty(app: Any, product: int, lot: int) -> Decimal:
    return sum((a.qty for a in app.queries.balances(product_id=product, lot_id=lot).values()), Decimal(0))


def _login(page: Any, url: str, username: str, target: str) -> None:
    page.goto(f"{url}{target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{target}")


def test_daily_flows_scan_receive_fefo_sale_refusal_and_a_live_approved_count(browser_ready, file_app):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    app = file_app
    shop = _shop(app)
    w = shop["world"]
    with serving(app, run_worker=True) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            keeper = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN").new_page()
            keeper.set_default_timeout(10_000)

            # 1. receive the purchase order by scanning: code + Enter, three times → 3
            _login(keeper, url, "zhang", "/m/receive")
            keeper.click(f"#order-{shop['order']}")
            keeper.fill("#scan", "0000111")  # a code nobody knows: said so; a keeper may not link it
            keeper.press("#scan", "Enter")
            expect(keeper.locator("#scan-status")).to_have_text("未知条码 0000111")
            expect(keeper.locator("#scan-unknown")).to_contain_text("没有“维护商品”权限")
            for _ in range(3):
                keeper.fill("#scan", RICE_CODE)
                keeper.press("#scan", "Enter")
                keeper.wait_for_timeout(150)
            expect(keeper.locator("#qty-1")).to_have_value("3")
            keeper.click("button.primary.block")
            expect(keeper.locator("#done")).to_have_text("已过账，已计入库存")
            assert sum(a.qty for a in app.queries.balances(product_id=w.rice).values()) == 13

            # 2. a refused sale shows its reason; then a sale whose lot the picker offers FEFO
            keeper.goto(f"{url}/documents/new?kind=sales_delivery")
            keeper.fill("#scan", MILK_CODE)
            keeper.press("#scan", "Enter")
            qty = keeper.locator("#lines-0-qty")
            expect(qty).to_be_focused()
            options = keeper.locator("#lines-0-lot_id option")
            expect(options.nth(1)).to_contain_text("L-OLD")  # nearest expiry first …
            expect(options.nth(1)).to_contain_text("先发")
            expect(options.nth(2)).to_contain_text("L-NEW")
            keeper.fill("#scan", MILK_CODE)
            keeper.press("#scan", "Enter")  # the same code again: +1
            expect(qty).to_have_value("2")
            qty.fill("99")
            keeper.click("button[value=submit]")
            expect(keeper.locator("p.error[role=alert]").first).to_contain_text("可发批次不足")
            keeper.locator("#lines-0-qty").fill("5")
            keeper.click("button[value=submit]")
            expect(keeper.locator("#done")).to_have_text("已过账，已计入库存")
            assert _lot_qty(app, w.milk, shop["old"]) == 0  # L-OLD (4) went first,
            assert _lot_qty(app, w.milk, shop["new"]) == 5  # then 1 of L-NEW

            # 3. count the shelf holding 大米: 13 on the books, 11 counted → waits for a manager
            shelf = next(iter(app.queries.balances(product_id=w.rice))).location_id
            keeper.goto(f"{url}/m/count")
            keeper.select_option("#location_id", str(shelf))
            keeper.click("#count-start button[type=submit]")
            keeper.wait_for_url("**/m/count/*")
            keeper.fill("#scan", RICE_CODE)
            keeper.press("#scan", "Enter")
            rice_qty = keeper.locator(f'tr[data-product-id="{w.rice}"] input[data-qty]')
            expect(rice_qty).to_have_value("1")
            rice_qty.fill("11")
            keeper.click("button[name=close][value='1']")
            expect(keeper.locator("#done")).to_have_text("已提交，等待审批（未生效）")
            expect(keeper.locator("button[value=approve]")).to_have_count(0)  # not the keeper's to approve

            # 4. the manager, in another browser context: the stock page updates live on approval
            manager_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            stock = manager_ctx.new_page()
            stock.set_default_timeout(10_000)
            _login(stock, url, "zhuguan", "/stock?q=P002")
            cell = stock.locator(f'tr[data-live-product="{w.rice}"] td.num').first
            expect(cell).to_have_text("13")
            stock.wait_for_function("document.documentElement.getAttribute('data-live') === 'on'")
            inbox = manager_ctx.new_page()
            inbox.set_default_timeout(10_000)
            inbox.goto(f"{url}/approvals")
            card = inbox.locator("article.doc-detail").first
            expect(card).to_contain_text("盘盈盘亏")
            card.locator("input[name=password]").fill("wrong-password")
            card.locator("button[value=approve]").click()
            expect(inbox.locator(".field-error[role=alert]").first).to_have_text("密码不正确，请再次输入密码确认")
            inbox.locator("input[name=password]").fill(PASSWORD)
            inbox.locator("button[value=approve]").click()
            expect(inbox.locator("#done")).to_contain_text("已计入库存")
            expect(cell).to_have_text("11", timeout=8_000)  # no reload: pushed over the WebSocket

            # 5. the manager links an unknown barcode on the spot, and the next scan finds the product
            inbox.goto(f"{url}/documents/new?kind=purchase_receipt")
            inbox.fill("#scan", "6909999000017")
            inbox.press("#scan", "Enter")
            expect(inbox.locator("#scan-unknown")).to_be_visible()
            inbox.fill("#link-product", "P003")
            inbox.press("#link-product", "Enter")
            expect(inbox.locator("#scan-link .ok")).to_contain_text("已关联到 P003")
            inbox.fill("#scan", "6909999000017")
            inbox.press("#scan", "Enter")
            expect(inbox.locator(f'tr[data-product-id="{w.eggs}"] input[data-qty]')).to_have_value("1")
        finally:
            browser.close()
