"""手机仓库页面 — receive against a PO, deliver a sales order FEFO, confirm a transfer, count a shelf
(TestClient): what each posts, and refusals shown next to their line."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from jxc.domain.documents import DocumentKind as K
from jxc.services import documents, masterdata, trade, transfers
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from jxc.services.trade import OrderLineInput
from tests.conftest import NOW
from tests.web.conftest import csrf_of


def _form(c, **fields):
    return {"csrf_token": csrf_of(c.get("/").text), **fields}


def _order(web, kind, lines):
    f = web.app.uow_factory
    role = "supplier" if kind == "purchase" else "customer"
    partner = masterdata.create(f, "partners", {"code": f"{role[:3]}{len(lines)}", "name": f"{role} 一号",
                                                "role": role}, SYSTEM, NOW)
    order = trade.create_order(f, kind, partner, web.world.wh, [OrderLineInput(*ln) for ln in lines], SYSTEM, NOW)
    trade.confirm_order(f, order, SYSTEM, NOW)
    return order


def _qty(web, product, lot=None):
    return sum((a.qty for a in web.app.queries.balances(product_id=product, lot_id=lot).values()), Decimal(0))


def test_mobile_home_lists_the_jobs_the_user_may_do(web):
    _order(web, "purchase", [(web.world.rice, "3")])
    home = web.login("zhang").get("/m").text
    assert 'id="m-receive"' in home and "待收货订单 1 张" in home and 'id="m-count"' in home
    clerk = web.login("liu").get("/m").text
    assert 'id="m-receive"' not in clerk and 'id="m-deliver"' in clerk and 'id="m-count"' not in clerk


def test_receiving_against_a_purchase_order_posts_a_receipt_and_names_the_lot(web):
    order = _order(web, "purchase", [(web.world.rice, "3", None, "30"), (web.world.milk, "4", None, "3")])
    c = web.login("zhang")
    page = c.get(f"/m/receive/{order}").text
    assert 'data-lines="order"' in page and f'data-product-id="{web.world.rice}"' in page
    assert f'data-live-product="{web.world.rice}" data-live-warehouse="{web.world.wh}"' in page
    r = c.post(f"/m/receive/{order}", data=_form(c, **{"qty-1": "3", "qty-2": "4"}))
    assert r.status_code == 422
    assert re.search(r'id="lot-2-error" role="alert">第2行商品 P001 需要批次', r.text)
    assert 'name="qty-1" value="3"' in r.text  # what was typed stays
    r = c.post(f"/m/receive/{order}", data=_form(c, **{"qty-1": "-1"}))
    assert r.status_code == 422 and re.search(r'id="qty-1-error" role="alert">订单没有第1行或数量无效', r.text)
    # beyond the over-receipt tolerance the receipt is not refused: it waits for a manager (超收需主管审批)
    r = c.post(f"/m/receive/{order}", data=_form(c, **{"qty-1": "99"}), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=pending")
    r = c.post(f"/m/receive/{order}", data=_form(c, **{"qty-1": "3", "qty-2": "4", "lot-2": "L-NEW-1",
                                                       "produced-2": str(NOW.date())}), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=posted")
    assert _qty(web, web.world.rice) == 3 and _qty(web, web.world.milk) == 4
    lot = web.app.queries.page_records("lots", None, 1, lot_number="L-NEW-1")[0]
    assert lot["expires_on"] == NOW.date() + timedelta(days=21)  # from the product's shelf life
    assert trade.get_order(web.app.uow_factory, order)["state"] == "done"


def test_delivering_a_sales_order_takes_the_nearest_expiry_lot_first(web):
    f = web.app.uow_factory
    today = web.app.clock.now().date()
    late = masterdata.create_lot(f, web.world.milk, "L-LATE", SYSTEM, NOW, expires_on=today + timedelta(days=40))
    soon = masterdata.create_lot(f, web.world.milk, "L-SOON", SYSTEM, NOW, expires_on=today + timedelta(days=10))
    web.receive(web.world.milk, "5", lot=late)
    web.receive(web.world.milk, "5", lot=soon)
    order = _order(web, "sales", [(web.world.milk, "6")])
    c = web.login("zhang")
    page = c.get(f"/m/deliver/{order}").text
    fefo = page.index("按近效期先出")
    assert page.index("L-SOON", fefo) < page.index("L-LATE", fefo)
    assert '<span class="lot first">L-SOON' in page
    r = c.post(f"/m/deliver/{order}", data=_form(c, **{"qty-1": "6"}), follow_redirects=False)
    assert r.status_code == 303
    assert _qty(web, web.world.milk, soon) == 0 and _qty(web, web.world.milk, late) == 4


def test_an_empty_submit_says_to_scan_first(web):
    order = _order(web, "purchase", [(web.world.rice, "3")])
    c = web.login("zhang")
    r = c.post(f"/m/receive/{order}", data=_form(c))
    assert r.status_code == 422 and '<p class="error" role="alert">请先扫码或输入数量</p>' in r.text
    c.cookies.set("jxc_lang", "en")
    r = c.post(f"/m/receive/{order}", data=_form(c))
    assert '<p class="error" role="alert">scan or enter a quantity first</p>' in r.text


def test_a_transfer_is_received_on_the_phone_and_overcounts_are_refused_per_line(web):
    f = web.app.uow_factory
    web.receive(web.world.rice, "10")
    store = masterdata.create(f, "warehouses", {"code": "MD02", "name": "二号店", "kind": "store"}, SYSTEM, NOW)
    doc = documents.create_draft(f, DraftInput(K.TRANSFER, web.world.wh, (LineInput(web.world.rice, "4"),),
                                               to_warehouse_id=store), SYSTEM, NOW)
    documents.submit(f, doc, SYSTEM, NOW)
    c = web.login("laoban")
    assert f'id="transfer-{doc}"' in c.get("/m/transfer").text
    r = c.post(f"/m/transfer/{doc}", data=_form(c, **{"qty-1": "5"}))
    assert r.status_code == 422 and re.search(r'id="qty-1-error" role="alert">第1行签收 5 超过在途数量 4', r.text)
    r = c.post(f"/m/transfer/{doc}", data=_form(c, **{"qty-1": "3", "final": "1"}), follow_redirects=False)
    assert r.status_code == 303
    assert transfers.outstanding(f, doc) == {1: 0}  # 3 received, 1 written off as short
    assert f'id="transfer-{doc}"' not in c.get("/m/transfer").text


def test_counting_a_shelf_sends_the_variance_to_approval(web):
    web.receive(web.world.rice, "10")
    shelf = next(iter(web.app.queries.balances(product_id=web.world.rice))).location_id
    c = web.login("zhang")
    r = c.post("/m/count", data=_form(c, location_id=str(shelf)), follow_redirects=False)
    assert r.status_code == 303
    task_url = r.headers["location"]
    page = c.get(task_url).text
    assert f'data-product-id="{web.world.rice}"' in page and 'data-line-url="/m/count/line"' in page
    nonce = re.search(r'name="nonce" value="(\w+)"', page).group(1)
    body = _form(c, nonce=nonce, shelf=str(shelf), close="0", **{"lines-0-product_id": str(web.world.rice),
                                                                   "lines-0-qty": "8", "lines-0-lot_id": ""})
    task = int(task_url.split("/")[3].split("?")[0])
    for _ in range(2):  # a double tap stores the line once
        assert c.post(f"/m/count/{task}", data=body, follow_redirects=False).status_code == 303
    body["close"] = "1"
    r = c.post(f"/m/count/{task}", data=body, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=pending")
    doc = documents.get(web.app.uow_factory, int(r.headers["location"].split("/")[2].split("?")[0]))
    assert doc["kind"] == "count_adjustment" and doc["state"] == "pending_approval"
    assert [(ln["role"], ln["qty"]) for ln in doc["lines"]] == [("loss", Decimal(2))]


def test_a_count_line_with_a_bad_quantity_is_refused_next_to_it(web):
    web.receive(web.world.rice, "10")
    shelf = next(iter(web.app.queries.balances(product_id=web.world.rice))).location_id
    c = web.login("zhang")
    task = int(c.post("/m/count", data=_form(c, location_id=str(shelf)),
                      follow_redirects=False).headers["location"].split("/")[3].split("?")[0])
    r = c.post(f"/m/count/{task}", data=_form(c, nonce="n1", shelf=str(shelf), close="0", **{
        "lines-0-product_id": str(web.world.rice), "lines-0-qty": "-1", "lines-0-lot_id": ""}))
    assert r.status_code == 422
    assert re.search(r'id="lines-0-qty-error">盘点数量不能为负（空货架请录 0）<', r.text)


def test_a_sales_clerk_cannot_start_a_count_and_is_told_why(web):
    web.receive(web.world.rice, "1")
    shelf = next(iter(web.app.queries.balances(product_id=web.world.rice))).location_id
    c = web.login("liu")
    r = c.post("/m/count", data=_form(c, location_id=str(shelf)))
    assert r.status_code == 403 and 'id="location_id-error" role="alert"' in r.text
