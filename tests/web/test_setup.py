"""开户向导 — the first-run wizard of an empty book, and its refusal once a user exists."""

from __future__ import annotations

import io
import re
import threading

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from jxc.domain.errors import DomainError
from jxc.interfaces.api.app import create_app
from jxc.services import book, first_run, users
from jxc.services.posting import SYSTEM
from tests.conftest import NOW

PASSWORD = "owner-pass-1"


def _token(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert m, f"page carries no {name}"
    return m.group(1)


def _owner(c: TestClient, **over: str) -> object:
    page = c.get("/setup")
    assert page.status_code == 200, page.text
    data = {"setup_token": _token(page.text, "setup_token"), "business_name": "好邻居便利店", "username": "boss",
            "display_name": "陈老板", "password": PASSWORD, "password2": PASSWORD, **over}
    return c.post("/setup", data=data, follow_redirects=False)


def test_an_empty_book_leads_to_the_wizard_instead_of_the_login(app):
    c = TestClient(create_app(app))
    for path in ("/", "/login"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/setup"
    page = c.get("/setup")
    assert "开户向导" in page.text and "business_name" in page.text


def test_the_wizard_creates_owner_warehouse_products_opening_stock_and_users(app):
    c = TestClient(create_app(app))
    bad = _owner(c, password2="something-else")
    assert bad.status_code == 422 and "两次输入的密码不一致" in bad.text
    assert first_run.needs_setup(app.uow_factory)  # nothing was created
    r = _owner(c)
    assert r.status_code == 303 and r.headers["location"] == "/setup/warehouses"
    assert book.get_settings(app.uow_factory)["business.name"] == "好邻居便利店"
    assert users.actor_for(app.uow_factory, "boss").role == "owner"
    page = c.get("/setup/warehouses")  # logged in by step one
    csrf = _token(page.text, "csrf_token")
    r = c.post("/setup/warehouses", data={"csrf_token": csrf, "code": "MD1", "name": "幸福路店", "kind": "store"})
    assert r.status_code == 200 and "幸福路店" in r.text
    table = "编码,名称,单位,条码,保质期天数\nA001,红富士苹果,斤,6901234567892,15\nA002,矿泉水,瓶,,\nA001,重复,个,,\n"
    r = c.post("/setup/products", data={"csrf_token": csrf, "table": table})
    assert "已导入 2 个商品" in r.text and "第 4 行" in r.text  # the duplicate code is reported by row
    wb = Workbook()
    wb.active.append(["code", "name", "unit"])
    wb.active.append(["B001", "洗洁精", "瓶"])
    body = io.BytesIO()
    wb.save(body)
    r = c.post("/setup/products?filename=goods.xlsx", content=body.getvalue(),
               headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": csrf})
    assert r.status_code == 200 and "已导入 1 个商品" in r.text
    wid = next(w["id"] for w in app.queries.page_records("warehouses", None, 10) if w["code"] == "MD1")
    r = c.post("/setup/stock", data={"csrf_token": csrf, "warehouse_id": str(wid), "lines": "A002,48,1.20\nB001,12,6"})
    assert r.status_code == 200 and "期初库存已入账：2 行" in r.text, r.text
    on_hand = {row.product_code: row.qty for row in app.queries.describe(app.queries.balances(None, wid))}
    assert on_hand == {"A002": 48, "B001": 12}
    r = c.post("/setup/users", data={"csrf_token": csrf, "username": "xiaowang", "display_name": "小王",
                                     "role": "keeper", "password": "keeper-pass-1"})
    assert r.status_code == 200 and "xiaowang" in r.text
    assert users.actor_for(app.uow_factory, "xiaowang").role == "keeper"
    assert "开户完成" in c.get("/setup/done").text
    assert app.queries.violations() == []


def test_the_wizard_speaks_english_with_the_language_cookie(app):
    """The first-run pages, their refusals and messages come from the i18n catalog (setup.po), not Chinese only."""
    c = TestClient(create_app(app))
    c.cookies.set("jxc_lang", "en")
    page = c.get("/setup").text
    assert '<html lang="en">' in page and "<h1>Setup wizard <small>First run</small></h1>" in page
    assert "Owner account" in page and ">Shop / business name</label>" in page and "Opening stock" in page
    main = page[page.index("<main"):page.index("</main>")]
    assert not re.search(r"[\u4e00-\u9fff]", main), main  # no Chinese left on the page (the switch says 中文)
    bad = _owner(c, password2="something-else", business_name="")
    assert bad.status_code == 422 and "The two passwords do not match" in bad.text
    assert "Enter the shop or business name" in bad.text and "两次输入" not in bad.text
    assert _owner(c).status_code == 303
    page = c.get("/setup/warehouses").text
    assert "Next: products" in page and 'placeholder="Central warehouse"' in page
    csrf = _token(page, "csrf_token")
    r = c.post("/setup/products", data={"csrf_token": csrf, "table": "编码,名称,单位\nA001,苹果,斤\nA001,重复,个\n"})
    assert "Imported 1 products; 1 problems" in r.text and "Row 3" in r.text
    r = c.post("/setup/stock", data={"csrf_token": csrf, "warehouse_id": "x", "lines": "A001,1,2"})
    assert r.status_code == 422 and "Choose a warehouse" in r.text
    assert "Setup complete!" in c.get("/setup/done").text
    assert "There is no such step" in c.get("/setup/nowhere").text


def test_the_wizard_is_refused_once_a_user_exists(app):
    users.create_user(app.uow_factory, "laoban", PASSWORD, "owner", SYSTEM, NOW)
    c = TestClient(create_app(app))
    assert c.get("/", follow_redirects=False).headers["location"].startswith("/login")
    page = c.get("/setup")
    assert page.status_code == 409 and "已完成开户" in page.text
    c.cookies.set("jxc_setup", "x")  # even with a matching step-one token
    r = c.post("/setup", data={"setup_token": "x", "business_name": "抢注", "username": "intruder",
                               "password": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 409
    with pytest.raises(DomainError) as exc:
        users.actor_for(app.uow_factory, "intruder")
    assert exc.value.code == "AUTH_FAILED"
    assert c.get("/setup/warehouses", follow_redirects=False).status_code == 409  # later steps need the owner


def test_a_keeper_cannot_use_the_later_steps(app):
    users.create_user(app.uow_factory, "laoban", PASSWORD, "owner", SYSTEM, NOW)
    users.create_user(app.uow_factory, "zhang", PASSWORD, "keeper", SYSTEM, NOW)
    c = TestClient(create_app(app))
    assert c.post("/login", data={"username": "zhang", "password": PASSWORD}, follow_redirects=False).status_code == 303
    r = c.post("/setup/warehouses", data={"code": "X", "name": "X"})
    assert r.status_code == 409
    assert app.queries.page_records("warehouses", None, 10) == []


def test_step_one_without_its_token_changes_nothing(app):
    c = TestClient(create_app(app))
    r = c.post("/setup", data={"setup_token": "forged", "business_name": "x", "username": "boss",
                               "password": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 403
    assert first_run.needs_setup(app.uow_factory)


def test_two_racing_first_owners_make_exactly_one(file_app):
    results: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            first_run.create_owner(file_app.uow_factory, "店", name, PASSWORD, None, NOW)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["SETUP_DONE", "ok"]
