"""浏览器冒烟 — the pages in real headless Chromium: log in, search the stock, click a row, and the
HTMX partial with the availability breakdown appears; screenshots at 360 px and 1920 px.

Uses Debian's chromium through `playwright` (never `playwright install`). Without either it is
skipped locally, with the reason; in CI (`CI` set) it must run, so a missing one fails.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS, serving, tour

from jxc.domain.documents import DocumentKind
from jxc.services import documents, users
from jxc.services.demo import DEMO_PASSWORD, build_demo
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from jxc.services.reserving import ReserveRequest, reserve


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
def browser_ready() -> None:
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"the browser smoke test must run in CI: {reason}")
    if reason:
        pytest.skip(reason)


def test_owner_logs_in_searches_stock_and_sees_why_it_is_not_available(browser_ready, file_app, tmp_path):
    app = file_app
    now = app.clock.now()
    build_demo(app.uow_factory, now, app.settings.zone, days=4)
    potato = app.queries.page_records("products", None, 1, code="SC004")[0]["id"]
    store = app.queries.page_records("warehouses", None, 1, code="MD01")[0]["id"]
    reserve(app.uow_factory, ReserveRequest(potato, store, "3", "微信群订单 #1024", ttl_s=86_400), SYSTEM, now)
    rice = app.queries.page_records("products", None, 1, code="LY001")[0]["id"]  # not lot-tracked
    keeper = users.actor_for(app.uow_factory, "cangguan")
    scrap = documents.create_draft(app.uow_factory, DraftInput(
        DocumentKind.SCRAP, store, (LineInput(rice, "1"),), reason_code="damaged"), keeper, now)
    documents.submit(app.uow_factory, scrap, keeper, now)
    with serving(app) as url:
        seen = tour(url, tmp_path, "laoban", DEMO_PASSWORD, "土豆")
        approve_in_browser(url, scrap)
    for name in ("phone", "desktop"):
        assert "SC004 土豆：为什么不可用" in seen[name]
        assert "已被 微信群订单 #1024 预占" in seen[name]
        assert (tmp_path / f"stock-{name}.png").stat().st_size > 10_000
    assert (tmp_path / "why-phone.png").exists()
    assert documents.get(app.uow_factory, scrap)["state"] == "posted"


def approve_in_browser(url: str, doc_id: int) -> None:
    """Wrong password: the error appears in place (a 403 fragment); right password: the card says posted."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
            page.set_default_timeout(10_000)
            page.goto(f"{url}/documents")
            page.fill("#username", "laoban")
            page.fill("#password", DEMO_PASSWORD)
            page.click("form button[type=submit]")
            card = page.locator(f"#doc-{doc_id}")
            expect(card).to_contain_text("未生效，不计入库存")
            page.fill(f"#pw-{doc_id}", "wrong-password")
            card.locator("button[type=submit]").click()
            expect(page.locator(f"#pw-{doc_id}-error")).to_have_text("密码不正确，请再次输入密码确认")
            page.fill(f"#pw-{doc_id}", DEMO_PASSWORD)
            page.locator(f"#doc-{doc_id} button[type=submit]").click()
            expect(page.locator(f"#doc-{doc_id} .ok")).to_have_text("审批通过，单据已生效，已计入库存")
        finally:
            browser.close()
