"""截图 — the web UI in a real browser: log in to the demo shop, search the stock, open a row's
"why not available" breakdown, then the dashboard, products, a product, the stock ledger, alerts,
the health score and settings; screenshots at phone (360 px) and desktop (1920 px) width, plus the
desktop pages in English (`*-desktop-en.png`).

    python scripts/screenshots.py                 # → docs/screenshots/*.png
    python scripts/screenshots.py --out /tmp/shots

Drives Debian's chromium (`apt-get install chromium fonts-noto-cjk`) through the `playwright`
package; it never downloads a browser (`playwright install` is not needed). tests/web/test_browser.py
runs the same `tour` against a test book.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
VIEWPORTS = {"phone": (360, 780), "desktop": (1920, 1080)}
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serving(app: Any, run_worker: bool = False) -> Iterator[str]:
    """Run the web app with uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL.

    ``run_worker`` also runs the in-process outbox worker, so pushed (live) numbers arrive."""
    import uvicorn

    from jxc.interfaces.api.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with other test processes
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app, run_worker=run_worker), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def tour(base_url: str, out_dir: Path, username: str, password: str, query: str,
         viewports: dict[str, tuple[int, int]] = VIEWPORTS) -> dict[str, str]:
    """Per viewport: log in, search ``query``, click the first row, wait for the breakdown, screenshot.

    Returns {viewport name: the breakdown's text}; screenshots go to ``out_dir/stock-<name>.png``
    (a full page on a desktop; on a phone the first screen, plus ``why-<name>.png``: the breakdown)."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    seen: dict[str, str] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for name, (width, height) in viewports.items():
                page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
                page.set_default_timeout(10_000)
                page.goto(f"{base_url}/stock")  # logged out: the login page, coming back here after
                page.fill("#username", username)
                page.fill("#password", password)
                page.click("form button[type=submit]")
                page.wait_for_url("**/stock")
                page.fill("#q", query)
                page.press("#q", "Enter")  # HTMX swaps the rows in and pushes ?q= into the address
                page.wait_for_url("**/stock?q=*")
                page.locator("#stock-rows tr.row").first.click()
                breakdown = page.locator("#why-breakdown")
                breakdown.wait_for()
                seen[name] = breakdown.inner_text()
                if width >= 720:  # a desktop shows it all on one page
                    page.screenshot(path=str(out_dir / f"stock-{name}.png"), full_page=True)
                else:  # a phone: the search with its first rows, then the breakdown scrolled into view
                    page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=str(out_dir / f"stock-{name}.png"))
                    breakdown.evaluate("el => el.scrollIntoView({block: 'start'})")
                    page.screenshot(path=str(out_dir / f"why-{name}.png"))
                page.close()
        finally:
            browser.close()
    return seen


PAGES = (("dashboard", "/"), ("products", "/products"), ("product", "/products/{product}"),
         ("ledger", "/ledger"), ("alerts", "/alerts"), ("health", "/kpi/health"), ("settings", "/settings?tab=book"))


def pages_tour(base_url: str, out_dir: Path, username: str, password: str, product_id: int,
               viewports: dict[str, tuple[int, int]] = VIEWPORTS, lang: str = "zh-CN") -> dict[str, str]:
    """Log in once per viewport and screenshot the main pages (``<page>-<viewport>.png``; English
    with ``lang="en"``: ``<page>-<viewport>-en.png``). Waits for the dashboard's charts to draw.
    Returns {file name: the page's <h1>} so a caller can check what was shot."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    seen: dict[str, str] = {}
    suffix = "" if lang == "zh-CN" else f"-{lang}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for vp, (width, height) in viewports.items():
                ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
                if lang != "zh-CN":
                    ctx.add_cookies([{"name": "jxc_lang", "value": lang, "url": base_url}])
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{base_url}/login")
                page.fill("#username", username)
                page.fill("#password", password)
                page.click("#login-form button[type=submit]")
                page.wait_for_url(f"{base_url}/")
                for name, path in PAGES:
                    page.goto(base_url + path.format(product=product_id))
                    if page.locator("#chart-stock").count():
                        page.wait_for_selector("#chart-stock[data-drawn='1']")
                    shot = f"{name}-{vp}{suffix}.png"
                    page.screenshot(path=str(out_dir / shot), full_page=width >= 720)
                    seen[shot] = page.locator("h1").first.inner_text()
                ctx.close()
        finally:
            browser.close()
    return seen


def demo_book(data_dir: Path) -> Any:
    """The 鲜邻优选 demo shop in a SQLite file, plus one chat-group order holding some 土豆."""
    from jxc.bootstrap import build
    from jxc.config import Settings
    from jxc.services.demo import build_demo
    from jxc.services.posting import SYSTEM
    from jxc.services.reserving import ReserveRequest, reserve

    app = build(Settings(data_dir=data_dir))
    app.create_all()  # a throw-away book: the tables as the code has them, no migration history needed
    now = app.clock.now()
    build_demo(app.uow_factory, now, app.settings.zone, batch=app.batch)
    potato = app.queries.page_records("products", None, 1, code="SC004")[0]["id"]
    store = app.queries.page_records("warehouses", None, 1, code="MD01")[0]["id"]
    reserve(app.uow_factory, ReserveRequest(potato, store, "5", "微信群订单 #1024", allow_partial=True), SYSTEM, now)
    return app


def main() -> None:
    from jxc.services.demo import DEMO_PASSWORD

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = demo_book(Path(tmp))
        try:
            with serving(app) as url:
                tour(url, args.out, "laoban", DEMO_PASSWORD, "土豆")
                product = app.queries.page_records("products", None, 1, code="SC004")[0]["id"]
                pages_tour(url, args.out, "laoban", DEMO_PASSWORD, product)
                pages_tour(url, args.out, "laoban", DEMO_PASSWORD, product,
                           viewports={"desktop": VIEWPORTS["desktop"]}, lang="en")
        finally:
            app.dispose()
    for shot in sorted(args.out.glob("*.png")):
        print(shot)


if __name__ == "__main__":
    main()
