"""网页 — the pages and their HTMX partials, asserted as HTML fragments (TestClient, no browser)."""

from __future__ import annotations

import re

from jxc.services import documents
from jxc.services.reserving import ReserveRequest, reserve
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, csrf_of


def between(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i:html.index(end, i)]


def test_logged_out_pages_redirect_to_login_and_htmx_gets_hx_redirect(web):
    web.user("laoban")  # a book with a user: an empty one opens the first-run wizard instead (test_setup.py)
    c = web.client()
    for path in ("/", "/stock?q=P002", "/documents"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert c.get("/stock?q=P002", follow_redirects=False).headers["location"] == "/login?next=%2Fstock%3Fq%3DP002"
    r = c.get("/stock/why?product_id=1&warehouse_id=1", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == "/login"
    assert "用户名" in c.get("/login").text


def test_wrong_password_is_shown_next_to_the_password_field_in_chinese(web):
    web.user("laoban")
    r = web.client().post("/login", data={"username": "laoban", "password": "wrong"})
    assert r.status_code == 401
    assert re.search(r'<p class="field-error" id="password-error" role="alert">用户名或密码错误</p>', r.text)
    assert 'value="laoban"' in r.text  # the user name stays typed in
    empty = web.client().post("/login", data={"username": "", "password": ""})
    assert empty.status_code == 422
    assert 'id="username-error" role="alert">请输入用户名<' in empty.text
    assert 'id="password-error" role="alert">请输入密码<' in empty.text


def test_login_opens_the_dashboard_with_open_documents_and_stock_value(web):
    web.receive(web.world.rice, "10")  # 10 × 3 = 30
    web.pending_scrap(web.world.rice, "1")
    c = web.client()
    r = c.post("/login", data={"username": web.user("laoban"), "password": PASSWORD, "next": "/documents"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/documents"
    assert "jxc_session" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    home = c.get("/").text
    assert "你好，laoban" in home
    assert re.search(r'id="tile-pending">\s*<span class="label">待审批</span><strong>1</strong>', home)
    assert re.search(r'id="tile-drafts">\s*<span class="label">草稿</span><strong>0</strong>', home)
    assert "<strong>¥30.00</strong>" in home
    assert c.get("/login", follow_redirects=False).headers["location"] == "/"  # already logged in


def test_next_never_leaves_the_site(web):
    r = web.client().post("/login", data={"username": web.user("laoban"), "password": PASSWORD,
                                          "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_sales_clerk_sees_no_stock_value(web):
    web.receive(web.world.rice, "10")
    home = web.login("liu").get("/").text
    assert "无权查看成本" in home and "¥" not in home


def test_stock_page_lists_the_product_and_the_search_narrows_it(web):
    web.receive(web.world.rice, "7")
    web.receive(web.world.eggs, "30")
    c = web.login("laoban")
    page = c.get("/stock").text
    assert "东北大米" in page and "鸡蛋" in page
    rows = between(c.get("/stock", params={"q": "大米"}).text, '<div id="stock-rows">', "</table>")
    assert "东北大米" in rows and "鸡蛋" not in rows
    assert re.search(r'<td data-label="现存量" class="num">7</td>', rows)
    assert f'hx-get="/stock/why?product_id={web.world.rice}&amp;warehouse_id={web.world.wh}"' in rows
    assert "p002" not in rows and "东北大米" in c.get("/stock", params={"q": "p002"}).text  # codes match any case
    assert "没有找到“牛肉”的库存" in c.get("/stock", params={"q": "牛肉"}).text


def test_why_partial_names_the_reservation_holder(web):
    web.receive(web.world.rice, "10")
    reserve(web.app.uow_factory, ReserveRequest(web.world.rice, web.world.wh, "4", "sales_order:XSDD-7"),
            web.actor("liu"), NOW)
    r = web.login("laoban").get("/stock/why", params={"product_id": web.world.rice, "warehouse_id": web.world.wh},
                                headers={"HX-Request": "true"})
    assert r.status_code == 200 and not r.text.lstrip().startswith("<!doctype")  # a fragment, not a page
    assert "P002 东北大米：为什么不可用" in r.text
    assert re.search(r"<dt>现存量</dt><dd>10</dd>.*<dt>已预占</dt><dd>4</dd>.*<dt>可用量</dt><dd>6</dd>", r.text, re.S)
    assert "已被 sales_order:XSDD-7 预占" in r.text
    assert '<td data-label="预占方">sales_order:XSDD-7</td>' in r.text


def test_a_keeper_of_another_store_sees_neither_its_stock_nor_its_breakdown(web):
    from dataclasses import replace

    from jxc.services import admin, masterdata
    from jxc.services.posting import SYSTEM

    web.receive(web.world.rice, "5")
    other = masterdata.create(web.app.uow_factory, "warehouses", {"code": "MD02", "name": "二号店"}, SYSTEM, NOW)
    admin.set_user_access(web.app.uow_factory, web.user("zhang"), replace(SYSTEM, reauthenticated=True), NOW,
                          warehouse_ids=[other])
    c = web.login("zhang")
    assert "东北大米" not in c.get("/stock").text
    r = c.get("/stock/why", params={"product_id": web.world.rice, "warehouse_id": web.world.wh})
    assert r.status_code == 403 and "无权查看该仓库/门店" in r.text


def test_documents_page_marks_open_documents_as_not_counting_in_stock(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    page = web.login("laoban").get("/documents").text
    card = between(page, f'id="doc-{doc}"', "</li>")
    assert documents.get(web.app.uow_factory, doc)["number"] in card and "报损 · 总仓 · 制单 zhang" in card
    assert '<span class="badge pending_approval">审核中</span>' in card
    assert '<span class="badge unposted">未生效，不计入库存</span>' in card
    assert f'hx-post="/documents/{doc}/approve"' in card


def test_approve_with_a_wrong_password_shows_the_error_and_leaves_it_pending(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    r = c.post(f"/documents/{doc}/approve", data={"password": "not-it"}, headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert r.text.lstrip().startswith(f'<li class="doc card unposted" id="doc-{doc}">')
    assert f'id="pw-{doc}-error" role="alert">密码不正确，请再次输入密码确认</p>' in r.text
    assert documents.get(web.app.uow_factory, doc)["state"] == "pending_approval"


def test_approve_with_the_right_password_posts_the_document(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    r = c.post(f"/documents/{doc}/approve", data={"password": PASSWORD}, headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    assert '<p class="ok" role="status">审批通过，单据已生效，已计入库存</p>' in r.text
    assert '<span class="badge posted">已生效</span>' in r.text and "未生效，不计入库存" not in r.text
    assert documents.get(web.app.uow_factory, doc)["state"] == "posted"
    assert "没有未生效的单据" in c.get("/documents").text


def test_approve_needs_the_csrf_token_and_the_permission(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    owner = web.login("laoban")
    del owner.headers["X-CSRF-Token"]
    r = owner.post(f"/documents/{doc}/approve", data={"password": PASSWORD}, headers={"HX-Request": "true"})
    assert r.status_code == 403 and "CSRF" in r.text
    clerk = web.login("liu")
    r = clerk.post(f"/documents/{doc}/approve", data={"password": PASSWORD}, headers={"HX-Request": "true"})
    assert r.status_code == 403 and 'role="alert"' in r.text
    assert documents.get(web.app.uow_factory, doc)["state"] == "pending_approval"


def test_approve_without_javascript_answers_the_whole_page(web):
    web.receive(web.world.rice, "3")
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    page = c.get("/documents").text
    r = c.post(f"/documents/{doc}/approve", data={"password": PASSWORD, "csrf_token": csrf_of(page)},
               headers={"X-CSRF-Token": ""})
    assert r.status_code == 200 and "<!doctype html>" in r.text and "审批通过，单据已生效" in r.text


def test_logout_ends_the_session(web):
    c = web.login("laoban")
    r = c.post("/logout", data={"csrf_token": c.headers["X-CSRF-Token"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?bye=1"
    assert c.get("/", follow_redirects=False).status_code == 303


def test_htmx_2_and_the_stylesheet_are_served_from_the_app(web):
    c = web.client()
    js = c.get("/static/htmx.min.js")
    assert js.status_code == 200 and 'version:"2.' in js.text
    assert "@media (min-width: 720px)" in c.get("/static/app.css").text
    assert '<script src="/static/htmx.min.js"' in c.get("/login").text
