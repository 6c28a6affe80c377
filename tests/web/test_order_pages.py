"""订单页面 — sales / purchase orders, the credit override, purchase suggestions and chat-group orders.

Each test names the promise of routes_orders.py / routes_chat.py it protects."""

from __future__ import annotations

import re
from decimal import Decimal as D

from jxc.domain.documents import DocumentKind as K
from jxc.domain.ledger import Movement
from jxc.services import documents, masterdata, pricing, trade, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, csrf_of


def _partners(web):
    f = web.app.uow_factory
    cus = masterdata.create(f, "partners", {"code": "C-WANG", "name": "王姐", "role": "customer",
                                            "phone": "13812345678", "address": "阳光花园3栋502"}, SYSTEM, NOW)
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier"}, SYSTEM, NOW)
    return cus, sup


def _stock(web, product, qty):
    w = web.world
    post(web.app.uow_factory, PostingRequest("receipt", (Movement(product, D(qty), w.supplier, w.shelf_a,
                                                                  unit_cost=D("2")),), NOW), SYSTEM, NOW)


def _finance(web, name="qian"):
    users.create_user(web.app.uow_factory, name, PASSWORD, "finance", SYSTEM, NOW)
    web.made.add(name)
    return web.login(name)


def _create(c, **fields):
    page = c.get("/orders/new?kind=" + fields.get("kind", "sales")).text
    return c.post("/orders/new", data={"csrf_token": csrf_of(page), **fields}, follow_redirects=False)


def test_a_new_sales_line_takes_the_price_list_price_and_shows_its_source(web):
    cus, _sup = _partners(web)
    pricing.set_price(web.app.uow_factory, web.world.rice, "customer", "52", web.actor("laoban"), NOW,
                      partner_id=cus)
    c = web.login("laoban")
    row = c.get(f"/orders/line?product_id={web.world.rice}&kind=sales&line_context={cus}").text
    assert 'value="52"' in row and 'data-source="customer"' in row and "客户价" in row
    r = _create(c, kind="sales", partner_id=str(cus), warehouse_id=str(web.world.wh),
                **{"lines-0-product_id": str(web.world.rice), "lines-0-qty": "3", "lines-0-unit": "袋",
                   "lines-0-unit_price": ""})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "¥156.00" in page  # 3 × 52 from the customer's price
    assert 'data-state="draft"' in page


def test_purchase_lines_show_the_price_history(web):
    _cus, sup = _partners(web)
    pricing.set_supplier_terms(web.app.uow_factory, sup, web.world.rice, web.actor("laoban"), NOW, unit_price="40")
    keeper = web.actor("zhang")
    doc = documents.create_draft(web.app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, web.world.wh, (
        LineInput(web.world.rice, "5", unit_price="38.5"),), partner_id=sup), keeper, NOW)
    documents.submit(web.app.uow_factory, doc, keeper, NOW)
    c = web.login("laoban")
    row = c.get(f"/orders/line?product_id={web.world.rice}&kind=purchase&line_context={sup}").text
    assert 'value="40"' in row and 'data-source="supplier"' in row
    assert 'data-last="38.5"' in row  # this supplier's last receipt price


def test_form_errors_sit_next_to_their_fields_and_keep_the_lines(web):
    cus, _sup = _partners(web)
    c = web.login("laoban")
    r = _create(c, kind="sales", partner_id="", warehouse_id=str(web.world.wh),
                **{"lines-0-product_id": str(web.world.rice), "lines-0-qty": "0", "lines-0-unit": "袋",
                   "lines-0-unit_price": "5"})
    assert r.status_code == 422
    assert 'id="partner_id-error"' in r.text and "请选择客户" in r.text
    assert 'id="lines-0-qty-error"' in r.text and "数量必须大于 0" in r.text
    assert "东北大米" in r.text  # the typed line is still there
    assert cus  # the customer exists; it simply was not chosen


def test_confirm_reserves_and_a_shortage_raises_a_suggestion_that_converts_per_supplier(web):
    cus, sup = _partners(web)
    f = web.app.uow_factory
    pricing.set_supplier_terms(f, sup, web.world.rice, web.actor("laoban"), NOW, unit_price="40", preferred=True)
    _stock(web, web.world.rice, "4")
    oid = trade.create_order(f, "sales", cus, web.world.wh, [trade.OrderLineInput(web.world.rice, "10",
                                                                                  unit_price="50")],
                             web.actor("laoban"), NOW)
    c = web.login("laoban")
    page = c.get(f"/orders/{oid}").text
    r = c.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "confirm"})
    assert r.status_code == 200
    assert 'data-state="confirmed"' in r.text
    assert re.search(r'class="num reserved">4<', r.text) and re.search(r'class="num shortage">6<', r.text)
    assert 'id="suggestions-raised"' in r.text
    sugg = c.get("/orders/suggestions").text
    assert "城南粮油" in sugg and re.search(r'class="num">6<', sugg)
    r = c.post("/orders/suggestions/convert", data={"csrf_token": csrf_of(sugg)}, follow_redirects=False)
    assert r.status_code == 303
    made = [o for o in trade.list_orders(f, web.actor("laoban"), None, 10, kind="purchase")]
    assert len(made) == 1 and made[0]["partner_id"] == sup
    assert trade.get_order(f, made[0]["id"])["lines"][0]["qty_base"] == D("6")


def test_partial_delivery_then_close_releases_the_rest(web):
    cus, _sup = _partners(web)
    f = web.app.uow_factory
    _stock(web, web.world.rice, "10")
    oid = trade.create_order(f, "sales", cus, web.world.wh, [trade.OrderLineInput(web.world.rice, "5",
                                                                                  unit_price="50")],
                             web.actor("laoban"), NOW)
    trade.confirm_order(f, oid, web.actor("laoban"), NOW)
    c = web.login("laoban")
    page = c.get(f"/orders/{oid}").text
    r = c.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "deliver", "qty-1": "2"})
    assert r.status_code == 200 and "已按订单出库" in r.text
    assert 'data-state="partial"' in r.text and re.search(r'class="num done">2<', r.text)
    assert re.search(r'class="num reserved">3<', r.text)
    r = c.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "deliver", "qty-1": "9"})
    assert r.status_code == 422 and 'id="quantities-1-error"' in r.text and "超过未完成数量" in r.text
    r = c.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "close", "reason": "客户不要了"})
    assert 'data-state="closed"' in r.text and re.search(r'class="num reserved">0<', r.text)


def test_credit_refusal_shows_its_reason_and_only_an_override_holder_may_approve(web):
    cus, _sup = _partners(web)
    f = web.app.uow_factory
    masterdata.update(f, "partners", cus, {"credit_limit": "100"}, None, SYSTEM, NOW)
    _stock(web, web.world.rice, "10")
    oid = trade.create_order(f, "sales", cus, web.world.wh, [trade.OrderLineInput(web.world.rice, "3",
                                                                                  unit_price="50")],
                             web.actor("liu"), NOW)
    seller = web.login("liu")
    page = seller.get(f"/orders/{oid}").text
    r = seller.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "confirm"})
    assert r.status_code == 409 and "超出信用额度" in r.text and "150" in r.text
    assert 'name="action" value="override"' not in r.text  # a cashier may not approve it
    fin = _finance(web)
    r = fin.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(fin.get("/").text), "action": "override",
                                             "reason": ""})
    assert r.status_code == 422 and 'id="reason-error"' in r.text
    r = fin.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(fin.get("/").text), "action": "override",
                                             "reason": "老客户，月底结清"})
    assert r.status_code == 200 and "已批准超出信用额度" in r.text
    r = seller.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "confirm"})
    assert 'data-state="confirmed"' in r.text


def test_order_list_filters_and_pages_newest_first(web):
    cus, sup = _partners(web)
    f = web.app.uow_factory
    ids = [trade.create_order(f, "sales", cus, web.world.wh, [trade.OrderLineInput(web.world.rice, "1",
                                                                                   unit_price="5")],
                              web.actor("laoban"), NOW) for _ in range(52)]
    po = trade.create_order(f, "purchase", sup, web.world.wh, [trade.OrderLineInput(web.world.rice, "1",
                                                                                    unit_price="5")],
                            web.actor("laoban"), NOW)
    c = web.login("laoban")
    first = c.get("/orders?kind=sales").text
    shown = [int(x) for x in re.findall(r'data-order-id="(\d+)"', first)]
    assert shown == sorted(ids, reverse=True)[:50] and po not in shown
    nxt = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    rest = [int(x) for x in re.findall(r'data-order-id="(\d+)"', c.get(nxt).text)]
    assert rest == sorted(ids, reverse=True)[50:]
    assert [int(x) for x in re.findall(r'data-order-id="(\d+)"', c.get(f"/orders?partner_id={sup}").text)] == [po]
    assert 'data-order-id' not in c.get("/orders?on=2000-01-01&to=2000-01-02").text


def test_orders_need_the_permission_and_csrf(web):
    cus, _sup = _partners(web)
    fin = _finance(web)  # sees every document, but may not create orders
    assert fin.get("/orders/new?kind=sales").status_code == 403
    assert "/orders/new?kind=" not in fin.get("/orders").text
    oid = trade.create_order(web.app.uow_factory, "sales", cus, web.world.wh,
                             [trade.OrderLineInput(web.world.rice, "1", unit_price="5")], web.actor("laoban"), NOW)
    c = web.login("laoban")
    c.headers.pop("X-CSRF-Token")
    assert c.post(f"/orders/{oid}/act", data={"action": "confirm"}).status_code == 403
    assert trade.get_order(web.app.uow_factory, oid)["state"] == "draft"


def test_order_pages_are_english_for_an_english_viewer(web):
    cus, _sup = _partners(web)
    oid = trade.create_order(web.app.uow_factory, "sales", cus, web.world.wh,
                             [trade.OrderLineInput(web.world.rice, "1", unit_price="5")], web.actor("laoban"), NOW)
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    data_words = ("中文", "王姐", "城南粮油", "东北大米", "总仓", "袋", "阳光花园")
    for url in ("/orders", f"/orders/{oid}", "/orders/new?kind=sales", "/orders/new?kind=purchase",
                "/orders/suggestions"):
        html = c.get(url).text
        for w in data_words:
            html = html.replace(w, "")
        html = re.sub(r"<(script|option)[^>]*>.*?</\1>", "", html, flags=re.S)
        assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", html)), (url, re.findall(
            r"[^<>]*[\u4e00-\u9fff][^<>]*", re.sub(r"<(option)[^>]*>.*?</\1>", "", html))[:5])


def test_a_pasted_chat_message_becomes_a_draft_order_for_the_guessed_customer(web):
    cus, _sup = _partners(web)
    f = web.app.uow_factory
    berry = masterdata.create(f, "products", {"code": "F001", "name": "蓝莓", "base_unit": "盒"}, SYSTEM, NOW)
    _stock(web, berry, "5")
    c = web.login("laoban")
    page = c.get("/orders/new?kind=sales").text
    text = "老板早上好🌞 要2盒蓝莓+1袋东北大米，3栋502 电话13812345678"
    r = c.post("/orders/chat", data={"csrf_token": csrf_of(page), "text": text, "warehouse_id": str(web.world.wh)})
    assert r.status_code == 200
    assert 'id="chat-lines"' in r.text and "“2盒蓝莓”" in r.text
    assert re.search(r'data-chat-line="1" class="placed"', r.text)
    assert 'id="customer-guess"' in r.text and "识别为 王姐" in r.text
    r = c.post("/orders/chat/draft", data={"csrf_token": csrf_of(page), "text": text,
                                           "warehouse_id": str(web.world.wh), "customer_id": str(cus)},
               follow_redirects=False)
    assert r.status_code == 303
    oid = int(r.headers["location"].split("/")[2].split("?")[0])
    order = trade.get_order(f, oid)
    assert order["partner_id"] == cus and order["state"] == "draft"
    assert {(ln["product_id"], ln["qty_base"]) for ln in order["lines"]} == {(berry, D(2)), (web.world.rice, D(1))}


def test_a_message_that_is_not_an_order_says_so_and_an_empty_one_is_refused_at_the_field(web):
    _partners(web)
    c = web.login("laoban")
    page = c.get("/orders/new?kind=sales").text
    r = c.post("/orders/chat", data={"csrf_token": csrf_of(page), "text": "老板，今天几点关门？",
                                     "warehouse_id": str(web.world.wh)})
    assert 'id="chat-not-order"' in r.text and 'id="chat-create"' not in r.text
    r = c.post("/orders/chat", data={"csrf_token": csrf_of(page), "text": "  ", "warehouse_id": str(web.world.wh)})
    assert r.status_code == 422 and 'id="text-error"' in r.text and "请粘贴顾客的消息" in r.text


def test_a_flagged_chat_line_waits_for_a_decision_and_a_picked_alternative_is_remembered(web):
    cus, _sup = _partners(web)
    f = web.app.uow_factory
    masterdata.create(f, "products", {"code": "V2", "name": "小白菜", "base_unit": "斤"}, SYSTEM, NOW)
    big = masterdata.create(f, "products", {"code": "V3", "name": "大白菜", "base_unit": "斤"}, SYSTEM, NOW)
    c = web.login("laoban")
    token = csrf_of(c.get("/orders/new?kind=sales").text)
    form = {"csrf_token": token, "text": "白菜2斤", "warehouse_id": str(web.world.wh)}
    r = c.post("/orders/chat", data=form)
    assert 'data-chat-line="1" class="needs-decision"' in r.text and 'name="accept-1"' in r.text
    row = re.search(r'data-chat-line="1".*?</tr>', r.text, re.S).group(0)
    assert "V2</strong> 小白菜" in row  # the parse's own guess is shown, flagged
    assert f'<option value="{big}">V3 大白菜</option>' in r.text
    r = c.post("/orders/chat/draft", data={**form, "customer_id": str(cus)})  # no decision: nothing is created
    assert r.status_code == 422 and trade.list_orders(f, web.actor("laoban"), None, 5) == []
    r = c.post("/orders/chat/draft", data={**form, "customer_id": str(cus), "correct-1": str(big)},
               follow_redirects=False)
    assert r.status_code == 303
    oid = int(r.headers["location"].split("/")[2].split("?")[0])
    assert [(ln["product_id"], ln["qty_base"]) for ln in trade.get_order(f, oid)["lines"]] == [(big, D(2))]
    again = c.post("/orders/chat", data=form).text  # the same words now match 大白菜 by themselves
    assert 'data-chat-line="1" class="placed"' in again and "大白菜" in again


def test_receiving_a_lot_tracked_line_on_the_order_page_names_its_lot_and_expiry(web):
    """Like the phone's receiving page: a lot number (found or made) and its dates, per lot-tracked line."""
    _cus, sup = _partners(web)
    f = web.app.uow_factory
    oid = trade.create_order(f, "purchase", sup, web.world.wh, [
        trade.OrderLineInput(web.world.rice, "2", unit_price="30"),
        trade.OrderLineInput(web.world.milk, "6", unit_price="3")], web.actor("laoban"), NOW)
    trade.confirm_order(f, oid, web.actor("laoban"), NOW)
    c = web.login("zhang")
    page = c.get(f"/orders/{oid}").text
    assert 'id="lot-2"' in page and 'id="expires-2"' in page and 'id="lot-1"' not in page  # rice is not tracked
    act = {"csrf_token": csrf_of(page), "action": "receive", "qty-1": "2", "qty-2": "5"}
    r = c.post(f"/orders/{oid}/act", data=act)
    assert r.status_code == 422 and re.search(r'id="lot-2-error" role="alert">第2行商品 P001 需要批次', r.text)
    assert 'id="qty-2" value="5"' in r.text  # what was typed stays
    r = c.post(f"/orders/{oid}/act", data={**act, "lot-2": "L-WEB-1", "produced-2": "2026-11-01",
                                           "expires-2": "2026-10-01"})
    assert r.status_code == 422 and 'id="expires-2-error"' in r.text and "到期日不能早于生产日期" in r.text
    assert web.app.queries.page_records("lots", None, 1, lot_number="L-WEB-1") == []  # nothing received
    r = c.post(f"/orders/{oid}/act", data={**act, "lot-2": "L-WEB-1", "expires-2": "2026-12-31"},
               follow_redirects=False)
    assert r.status_code == 303
    lot = web.app.queries.page_records("lots", None, 1, lot_number="L-WEB-1")[0]
    assert str(lot["expires_on"]) == "2026-12-31"
    assert sum(a.qty for a in web.app.queries.balances(product_id=web.world.milk, lot_id=lot["id"]).values()) == 5
    assert [ln["qty_done"] for ln in trade.get_order(f, oid)["lines"]] == [D(2), D(5)]
