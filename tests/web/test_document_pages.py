"""单据页面 — list, form, buttons, approvals inbox, scanning helpers and live numbers (TestClient, no browser)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from jxc.services import admin, documents, masterdata
from jxc.services.posting import SYSTEM
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, csrf_of


def _form(c, **fields):
    return {"csrf_token": csrf_of(c.get("/").text), **fields}


def test_new_pages_need_a_login(web):
    c = web.client()
    for path in ("/documents/list", "/documents/new", "/approvals", "/m", "/m/count", "/documents/1"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert c.get("/scan/lookup?code=x", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/login"


def test_list_filters_by_kind_state_and_text_and_pages_server_side(web):
    for _ in range(51):
        web.receive(web.world.rice, "1")  # 51 posted purchase receipts
    scrap = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    first = c.get("/documents/list").text
    assert "共 52 张单据" in first and "第 1 / 2 页" in first
    assert first.count('<tr class="row"') == 50 and f'id="docrow-{scrap}"' in first  # newest first
    second = c.get("/documents/list", params={"page": "2"}).text
    assert second.count('<tr class="row"') == 2 and 'rel="prev"' in second
    pending = c.get("/documents/list", params={"state": "pending_approval"}).text
    assert "共 1 张单据" in pending and f'id="docrow-{scrap}"' in pending
    assert '<a class="chip on" href="/documents/list?state=pending_approval' in pending
    receipts = c.get("/documents/list", params={"kind": "purchase_receipt"}).text
    assert "共 51 张单据" in receipts
    number = documents.get(web.app.uow_factory, scrap)["number"]
    found = c.get("/documents/list", params={"q": number.lower()}).text
    assert "共 1 张单据" in found
    bad = c.get("/documents/list", params={"kind": "nonsense", "page": "x", "on": "2026-13-40"})
    assert bad.status_code == 200 and "共 52 张单据" in bad.text  # bad filters are dropped, not an error


def test_a_clerk_only_sees_kinds_and_documents_she_may_work_on(web):
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("liu")  # sales: creates and posts sales deliveries and returns only
    kinds = c.get("/documents/new").text
    assert "kind=sales_delivery" in kinds and "kind=purchase_receipt" not in kinds
    r = c.get("/documents/new", params={"kind": "purchase_receipt"})
    assert r.status_code == 403 and "无权新建这种单据" in r.text
    assert c.get(f"/documents/{doc}").status_code == 403  # another's document, no document.view_all
    assert "没有等你审批的单据" in c.get("/approvals").text


def test_buttons_follow_state_and_permission(web):
    doc = web.pending_scrap(web.world.rice, "1")
    keeper = web.login("zhang").get(f"/documents/{doc}").text
    assert 'value="approve"' not in keeper and 'value="reverse"' not in keeper  # own, and no approve right
    owner = web.login("laoban")
    page = owner.get(f"/documents/{doc}").text
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="submit"' not in page
    inbox = owner.get("/approvals").text
    assert f'id="doc-{doc}"' in inbox and "报损" in inbox
    r = owner.post(f"/documents/{doc}/act", data=_form(owner, action="approve", password=PASSWORD, back="/approvals"),
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/approvals?done=posted"
    posted = owner.get(f"/documents/{doc}").text
    assert 'value="reverse"' in posted and 'value="approve"' not in posted and "已生效" in posted


def test_approval_asks_for_the_password_and_says_so_next_to_the_field(web):
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    r = c.post(f"/documents/{doc}/act", data=_form(c, action="approve", password="nope"))
    assert r.status_code == 403
    assert re.search(rf'id="pw-{doc}-error" role="alert">密码不正确，请再次输入密码确认<', r.text)
    assert documents.get(web.app.uow_factory, doc)["state"] == "pending_approval"
    r = c.post(f"/documents/{doc}/act", data=_form(c, action="reject", comment=""))
    assert r.status_code == 422 and re.search(rf'id="comment-{doc}-error" role="alert">驳回需填写原因<', r.text)


def test_a_refused_reversal_names_its_reason_next_to_the_field_in_the_users_language(web):
    doc = web.receive(web.world.rice, "3")
    c = web.login("laoban")
    r = c.post(f"/documents/{doc}/act", data=_form(c, action="reverse", reason=" "))
    assert r.status_code == 422 and re.search(rf'id="reason-{doc}-error" role="alert">红冲必须填写原因<', r.text)
    c.cookies.set("jxc_lang", "en")
    r = c.post(f"/documents/{doc}/act", data=_form(c, action="reverse", reason=""))
    assert re.search(rf'id="reason-{doc}-error" role="alert">a reversal needs a reason<', r.text)
    assert ">Reverse</button>" in r.text


def test_csrf_is_required_for_every_document_post(web):
    c = web.login("laoban")
    c.headers.pop("X-CSRF-Token")
    r = c.post("/documents/new", data={"kind": "purchase_receipt", "warehouse_id": str(web.world.wh)})
    assert r.status_code == 403 and "CSRF" in r.text
    assert c.post("/documents/1/act", data={"action": "submit"}).status_code == 403


def test_form_errors_are_shown_next_to_each_line_field_and_keep_what_was_typed(web):
    c = web.login("zhang")
    r = c.post("/documents/new", data=_form(
        c, kind="purchase_receipt", warehouse_id=str(web.world.wh), then="save",
        **{"lines-0-product_id": str(web.world.rice), "lines-0-qty": "0", "lines-0-unit": "袋",
           "lines-1-product_id": str(web.world.eggs), "lines-1-qty": "12", "lines-1-unit": "箱"}))
    assert r.status_code == 422
    assert re.search(r'id="lines-0-qty-error">第1行数量必须大于 0<', r.text)
    assert 'id="lines-1-unit-error">第2行：' in r.text
    assert 'name="lines-1-qty" id="lines-1-qty" value="12"' in r.text  # typed values survive
    assert web.app.queries.search_documents(0, 10)[1] == 0  # nothing was saved


def test_saving_then_submitting_a_draft_posts_it(web):
    c = web.login("zhang")
    r = c.post("/documents/new", data=_form(
        c, kind="purchase_receipt", warehouse_id=str(web.world.wh), then="save",
        **{"lines-0-product_id": str(web.world.rice), "lines-0-qty": "4", "lines-0-unit": "袋",
           "lines-0-unit_price": "3"}), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=saved")
    doc = int(r.headers["location"].split("/")[2].split("?")[0])
    page = c.get(r.headers["location"]).text
    assert "草稿已保存（未生效，不计入库存）" in page and 'value="submit"' in page
    edit = c.get(f"/documents/{doc}", params={"edit": "1"}).text
    assert 'name="version" value="1"' in edit and 'value="4"' in edit
    r = c.post(f"/documents/{doc}/act", data=_form(c, action="submit"), follow_redirects=False)
    assert r.headers["location"] == f"/documents/{doc}?done=posted"
    assert documents.get(web.app.uow_factory, doc)["state"] == "posted"


def test_line_row_offers_lots_in_fefo_order_for_outgoing_documents(web):
    f = web.app.uow_factory
    today = web.app.clock.now().date()
    later = masterdata.create_lot(f, web.world.milk, "L-LATE", SYSTEM, NOW, expires_on=today + timedelta(days=60))
    sooner = masterdata.create_lot(f, web.world.milk, "L-SOON", SYSTEM, NOW, expires_on=today + timedelta(days=20))
    web.receive(web.world.milk, "2", lot=later)
    web.receive(web.world.milk, "3", lot=sooner)
    c = web.login("zhang")
    row = c.get("/documents/line", params={"product_id": web.world.milk, "kind": "sales_delivery",
                                           "warehouse_id": web.world.wh}).text
    options = re.findall(r'<option value="(\d*)"', row)
    assert options == ["", str(sooner), str(later)]  # automatic (FEFO) first, then nearest expiry first
    assert "自动（近效期先出）" in row and "先发" in row
    assert 'data-name="qty"' in row and 'value="1"' in row
    receipt = c.get("/documents/line", params={"product_id": web.world.rice, "kind": "purchase_receipt"}).text
    assert "lot-picker" not in receipt  # not lot-tracked: no lot to pick


def test_product_search_by_code_name_pinyin_initials_and_barcode(web):
    masterdata.add_barcode(web.app.uow_factory, web.world.rice, "6901234567892", SYSTEM, NOW)
    c = web.login("zhang")
    for q in ("p002", "大米", "dbdm", "6901234567892"):
        assert f'data-add-product="{web.world.rice}"' in c.get("/products/search", params={"q": q}).text, q
    assert "没有找到“牛排”" in c.get("/products/search", params={"q": "牛排"}).text
    hit = c.get("/scan/lookup", params={"code": "6901234567892"})
    assert hit.status_code == 200 and hit.json()["product_id"] == web.world.rice
    assert c.get("/scan/lookup", params={"code": "P002"}).json()["product_id"] == web.world.rice
    miss = c.get("/scan/lookup", params={"code": "000"})
    assert miss.status_code == 404 and miss.json() == {"product_id": None, "code": "000"}


def test_linking_an_unknown_barcode_needs_masterdata_edit(web):
    keeper = web.login("zhang")
    r = keeper.post("/scan/link", data=_form(keeper, barcode="6900000000001", product="P003"))
    assert r.status_code == 403 and "没有“维护商品”权限" in r.text
    assert keeper.get("/scan/lookup", params={"code": "6900000000001"}).status_code == 404
    owner = web.login("laoban")
    r = owner.post("/scan/link", data=_form(owner, barcode="6900000000001", product="nope"))
    assert r.status_code == 422 and 'id="link-product-error"' in r.text
    r = owner.post("/scan/link", data=_form(owner, barcode="6900000000001", product="p003"))
    assert r.status_code == 200 and "已关联到 P003 鸡蛋" in r.text
    assert owner.get("/scan/lookup", params={"code": "6900000000001"}).json()["product_id"] == web.world.eggs


def test_live_numbers_cover_only_the_viewers_warehouses(web):
    web.receive(web.world.rice, "7")
    c = web.login("zhang")
    items = c.get("/live/qty", params={"product_id": [web.world.rice, "x"]}).json()["items"]
    assert [(i["product_id"], i["warehouse"], i["qty"]) for i in items] == [(web.world.rice, web.world.wh, "7")]
    other = masterdata.create(web.app.uow_factory, "warehouses", {"code": "MD02", "name": "二号店"}, SYSTEM, NOW)
    admin.set_user_access(web.app.uow_factory, web.user("zhang"), replace(SYSTEM, reauthenticated=True), NOW,
                          warehouse_ids=[other])
    assert web.login("zhang").get("/live/qty", params={"product_id": web.world.rice}).json()["items"] == []
    stock = web.login("laoban").get("/stock").text
    assert f'data-live-product="{web.world.rice}" data-live-warehouse="{web.world.wh}"' in stock


def test_count_adjustment_form_asks_for_the_direction(web):
    c = web.login("zhang")
    form = c.get("/documents/new", params={"kind": "count_adjustment"}).text
    assert 'id="reason_code"' in form
    row = c.get("/documents/line", params={"product_id": web.world.rice, "kind": "count_adjustment"}).text
    assert '<option value="gain"' in row and '<option value="loss"' in row


def test_a_draft_refused_at_submit_stays_a_draft_and_the_form_edits_it(web):
    c = web.login("zhang")
    r = c.post("/documents/new", data=_form(
        c, kind="sales_delivery", warehouse_id=str(web.world.wh), then="submit",
        **{"lines-0-product_id": str(web.world.milk), "lines-0-qty": "5", "lines-0-unit": "瓶"}))
    assert r.status_code == 422 and "可发批次不足" in r.text  # no sellable lot of milk at all
    drafts, total = web.app.queries.search_documents(0, 10)
    assert total == 1 and drafts[0]["state"] == "draft"
    assert f'action="/documents/{drafts[0]["id"]}"' in r.text and 'name="version" value="1"' in r.text


def test_an_incoming_line_may_name_a_new_lot_with_its_production_date(web):
    c = web.login("zhang")
    row = c.get("/documents/line", params={"product_id": web.world.milk, "kind": "purchase_receipt"}).text
    assert 'data-name="lot_number"' in row  # incoming: a new lot may be typed
    line = {"lines-0-product_id": str(web.world.milk), "lines-0-qty": "6", "lines-0-unit": "瓶",
            "lines-0-lot_number": "L-FORM-1", "lines-0-lot_produced": "2026-13-01"}
    r = c.post("/documents/new", data=_form(c, kind="purchase_receipt", warehouse_id=str(web.world.wh),
                                            then="submit", **line))
    assert r.status_code == 422 and re.search(r'id="lines-0-lot_id-error">第1行生产日期无效<', r.text)
    line["lines-0-lot_produced"] = str(NOW.date())
    r = c.post("/documents/new", data=_form(c, kind="purchase_receipt", warehouse_id=str(web.world.wh),
                                            then="submit", **line), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=posted")
    lot = web.app.queries.page_records("lots", None, 1, lot_number="L-FORM-1")[0]
    assert lot["expires_on"] == NOW.date() + timedelta(days=21)
    assert sum(a.qty for a in web.app.queries.balances(product_id=web.world.milk, lot_id=lot["id"]).values()) == 6


def test_a_rejected_return_edited_on_the_form_keeps_its_original_line_cost_and_limit(web):
    """The edit form carries the return's original and each line's original line (it used to drop them)."""
    from decimal import Decimal as D

    from jxc.domain.approvals import Rule
    from jxc.domain.documents import DocumentKind as K
    from jxc.services import trade
    from jxc.services.doc_rules import DraftInput, LineInput

    f, boss = web.app.uow_factory, replace(web.actor("laoban"), reauthenticated=True)
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer"}, SYSTEM, NOW)
    admin.add_rule(f, Rule("销售退货需老板审批", ("owner",), kind=K.SALES_RETURN), boss, NOW)
    web.receive(web.world.rice, "10")  # at 3
    sold = (trade.OrderLineInput(web.world.rice, "4", unit_price="15"),)
    sale = trade.quick_sale(f, trade.QuickSaleInput(web.world.wh, sold, partner_id=cus), web.actor("liu"), NOW)
    dearer = documents.create_draft(f, DraftInput(K.PURCHASE_RECEIPT, web.world.wh, (
        LineInput(web.world.rice, "10", unit_price="9"),)), web.actor("zhang"), NOW)
    documents.submit(f, dearer, web.actor("zhang"), NOW)  # average now (6 × 3 + 90) / 16
    ret = trade.return_goods(f, sale["id"], {1: "3"}, web.actor("liu"), NOW, reason_text="包装破损")
    documents.reject(f, ret, boss, NOW, comment="只退 2 袋")
    c = web.login("liu")
    form = c.get(f"/documents/{ret}?edit=1").text
    assert f'name="source_document_id" value="{sale["id"]}"' in form and sale["number"] in form
    assert re.search(r'name="lines-0-source_line_no"[^>]*>\s*<option value="">[^<]*</option>\s*'
                     r'<option value="1" selected', form)
    fields = {"kind": "sales_return", "warehouse_id": str(web.world.wh), "partner_id": str(cus), "version": "3",
              "reason_text": "包装破损", "source_document_id": str(sale["id"]),
              "lines-0-product_id": str(web.world.rice), "lines-0-qty": "5", "lines-0-unit": "袋",
              "lines-0-unit_price": "15", "lines-0-source_line_no": "1"}
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    r = c.post(f"/documents/{ret}", data=_form(c, **{**fields, "version": version}))
    assert r.status_code == 422 and re.search(r'id="lines-0-qty-error">[^<]*超过可退数量 4', r.text)
    r = c.post(f"/documents/{ret}", data=_form(c, **{**fields, "version": version, "lines-0-qty": "2",
                                                     "lines-1-product_id": str(web.world.eggs), "lines-1-qty": "1",
                                                     "lines-1-unit": "个"}))
    assert r.status_code == 422 and re.search(r'id="lines-1-product_id-error">[^<]*不在原单', r.text)
    r = c.post(f"/documents/{ret}", data=_form(c, **{**fields, "version": version, "lines-0-qty": "2",
                                                     "then": "submit"}), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=pending")
    line = documents.get(f, ret)["lines"][0]
    assert (line["source_line_no"], line["qty_base"]) == (1, D(2))
    assert documents.approve(f, ret, boss, NOW).value == "posted"
    held = web.app.queries.balances(product_id=web.world.rice, warehouse_id=web.world.wh).values()
    assert (sum(a.qty for a in held), sum(a.value for a in held)) == (D(18), D(114))  # 108 + 2 × 3, not × 6.75


def test_receipt_form_posts_freight_and_the_page_shows_each_line_share(web):
    c = web.login("laoban")
    assert 'id="freight"' in c.get("/documents/new", params={"kind": "purchase_receipt"}).text
    assert 'id="freight"' not in c.get("/documents/new", params={"kind": "sales_delivery"}).text
    lines = {"lines-0-product_id": str(web.world.rice), "lines-0-qty": "10", "lines-0-unit": "袋",
             "lines-0-unit_price": "50", "lines-1-product_id": str(web.world.eggs), "lines-1-qty": "120",
             "lines-1-unit": "个", "lines-1-unit_price": "1"}
    r = c.post("/documents/new", data=_form(c, kind="purchase_receipt", warehouse_id=str(web.world.wh),
                                            then="save", freight="-3", **lines))
    assert r.status_code == 422 and 'id="freight-error" role="alert">运费不能为负数' in r.text
    assert 'id="freight" name="freight" inputmode="decimal" value="-3"' in r.text  # what was typed stays
    r = c.post("/documents/new", data=_form(c, kind="purchase_receipt", warehouse_id=str(web.world.wh),
                                            then="submit", freight="30", freight_basis="amount", **lines),
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=posted")
    doc = int(r.headers["location"].split("/")[2].split("?")[0])
    page = c.get(f"/documents/{doc}").text
    assert re.search(rf'id="doc-{doc}-freight">运费 ¥30.00 · 按金额分摊', page)
    assert re.findall(r'class="num freight-share">([^<]*)<', page) == ["¥24.19", "¥5.81"]
    rice = web.app.queries.balances(product_id=web.world.rice, warehouse_id=web.world.wh).values()
    assert str(sum(a.value for a in rice)) == "524.1900"  # 500 + its 24.19 share of the freight
    assert web.app.queries.violations() == []


def test_order_receive_form_carries_freight_onto_the_receipt(web):
    f = web.app.uow_factory
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier"}, SYSTEM, NOW)
    from jxc.services import trade
    oid = trade.create_order(f, "purchase", sup, web.world.wh, [
        trade.OrderLineInput(web.world.rice, "2", unit_price="30")], web.actor("laoban"), NOW)
    trade.confirm_order(f, oid, web.actor("laoban"), NOW)
    c = web.login("laoban")
    page = c.get(f"/orders/{oid}").text
    assert 'id="receive-freight"' in page
    r = c.post(f"/orders/{oid}/act", data={"csrf_token": csrf_of(page), "action": "receive", "qty-1": "2",
                                           "freight": "4", "freight_basis": "qty"}, follow_redirects=False)
    assert r.status_code == 303
    doc = documents.get(f, int(r.headers["location"].split("doc=")[1]))
    assert (doc["freight"], doc["freight_basis"], doc["lines"][0]["freight_share"]) == (4, "qty", 4)
