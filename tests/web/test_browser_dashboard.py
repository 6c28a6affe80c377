"""浏览器：看板与语言 — in headless Chromium: log in, switch to English and see English, open the
dashboard (charts drawn by ECharts) and follow a KPI tile to its detail page.

Skipped locally without Debian's chromium or the playwright package; must run in CI (see test_browser.py).
"""

from __future__ import annotations

from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS, serving

from jxc.services.demo import DEMO_PASSWORD, build_demo
from tests.web.test_browser import browser_ready  # noqa: F401 — the fixture that skips or fails


def test_owner_switches_to_english_and_follows_a_kpi_tile(browser_ready, file_app):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    app = file_app
    build_demo(app.uow_factory, app.clock.now(), app.settings.zone, days=5)
    with serving(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.set_default_timeout(15_000)
            page.goto(f"{url}/")
            expect(page.locator("h1")).to_have_text("登录")
            page.click("#lang-switch")  # before logging in: the cookie
            expect(page.locator("h1")).to_have_text("Log in")
            page.fill("#username", "laoban")
            page.fill("#password", DEMO_PASSWORD)
            page.click("#login-form button[type=submit]")
            expect(page.locator("#tile-health .label")).to_have_text("Inventory health score")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("#chart-stock[data-drawn='1'] svg")).to_have_count(1)  # ECharts drew it
            page.click("#tile-health")
            page.wait_for_url(f"{url}/kpi/health")
            expect(page.locator("h1")).to_contain_text("Inventory health score")
            page.go_back()
            page.click("#tile-below")
            page.wait_for_url(f"{url}/alerts?kind=below_safety")
            expect(page.locator("#alerts-below h2")).to_contain_text("Below safety stock")
            page.click("#lang-switch")  # back to Chinese, stored for the user
            expect(page.locator("#alerts-below h2")).to_contain_text("低于安全库存")
        finally:
            browser.close()
