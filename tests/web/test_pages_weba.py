"""看板、主数据、流水、预警、日志、设置 — the pages as HTML (TestClient): content, permissions, paging, English."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook

from jxc.services import masterdata
from jxc.services.posting import SYSTEM
from tests.conftest import NOW
from tests.web.conftest import PASSWORD


def between(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i:html.index(end, i)]


def test_dashboard_tiles_show_the_kpis_and_link_to_their_details(web):
    masterdata.update(web.app.uow_factory, "products", web.world.rice, {"safety_stock": "20"}, None, SYSTEM, NOW)
    web.receive(web.world.rice, "10")  # 10 × 3 = 30, under the safety stock of 20
    c = web.login("laoban")
    home = c.get("/").text
    below = between(home, 'id="tile-below"', "</a>")
    assert 'href="/alerts?kind=below_safety"' in home and "<strong>1 / 3</strong>" in below
    assert re.search(r'id="tile-value">\s*<span class="label">库存金额</span>\s*<strong>¥30.00</strong>', home)
    for tile, href in (("purchase", "/kpi/purchase"), ("outbound", "/kpi/outbound"), ("expiry", "/alerts?kind=expiry"),
                       ("overdue", "/documents"), ("health", "/kpi/health"), ("turnover", "/kpi/health#turnover")):
        assert re.search(rf'href="{re.escape(href)}" id="tile-{tile}"', home), tile
    assert '<script src="/static/echarts.min.js" defer></script>' in home and 'id="chart-data"' in home
    alerts = c.get("/alerts?kind=below_safety").text
    assert "P002 东北大米" in between(alerts, 'id="alerts-below"', "</section>")
    assert 'id="alerts-expiry"' not in alerts  # the chip narrows the list
    health = c.get("/kpi/health").text
    assert 'id="penalty-below_safety"' in health and "1 / 3 个 SKU 低于安全库存（33%）" in health
    assert re.search(r'id="health-score">70<', health)  # 33 % of SKUs short: −30 (the rule's cap)
    assert c.get("/kpi/purchase").status_code == 200 and "没有待入库的采购订单" in c.get("/kpi/purchase").text


def test_sales_clerk_sees_counts_but_no_values_or_charts(web):
    web.receive(web.world.rice, "10")
    home = web.login("liu").get("/").text
    assert "无权查看成本" in home and "¥" not in home and "echarts" not in home
    assert re.search(r'id="tile-below">\s*<span class="label">低于安全库存 SKU</span>', home)


def test_dashboard_and_lists_switch_to_english(web):
    web.receive(web.world.rice, "10")
    c = web.login("laoban")
    c.post("/lang", data={"lang": "en", "next": "/"})
    home = c.get("/").text
    assert "Inventory health score" in home and "SKUs below safety stock" in home and "库存健康评分" not in home
    products = c.get("/products").text
    assert "Code, name, pinyin initials or barcode" in products and ">Lot tracking: all<" in products


def test_product_search_by_code_name_pinyin_initials_and_barcode(web):
    f = web.app.uow_factory
    masterdata.add_barcode(f, web.world.eggs, "6901234567892", SYSTEM, NOW)
    c = web.login("laoban")

    def found(q: str) -> list[str]:
        return re.findall(r'<td data-label="编码"><a href="/products/\d+">(\w+)</a>', c.get("/products", params={"q": q}).text)

    assert found("p002") == ["P002"]  # code, any case
    assert found("大米") == ["P002"]
    assert found("dbdm") == ["P002"] and found("DBDM") == ["P002"]  # 东北大米 by its pinyin initials
    assert found("6901234567892") == ["P003"]
    assert found("zzzz") == [] and "没有找到“zzzz”的商品" in c.get("/products", params={"q": "zzzz"}).text


def test_product_list_paginates_and_filters_server_side(web):
    f = web.app.uow_factory
    for i in range(55):
        masterdata.create(f, "products", {"code": f"T{i:03d}", "name": f"测试{i}", "base_unit": "个",
                                          "category": "测试" if i % 2 else "其他"}, SYSTEM, NOW)
    c = web.login("laoban")
    first = c.get("/products").text
    assert "第 1–50 条，共 58 条" in first and 'href="/products?page=2"' in first
    second = c.get("/products", params={"page": 2}).text
    assert "第 51–58 条，共 58 条" in second and 'rel="prev"' in second and 'rel="next"' not in second
    cat = c.get("/products", params={"category": "测试"}).text
    assert "共 27 条" in cat and "T001" in cat and "T000" not in cat
    masterdata.deactivate(f, "products", web.world.eggs, SYSTEM, NOW)
    assert "P003" not in c.get("/products").text and "P003" in c.get("/products?status=inactive").text


def test_product_detail_shows_stock_by_lot_price_history_and_ledger(web):
    web.receive(web.world.milk, "6", lot=web.world.milk_lot)
    c = web.login("laoban")
    page = c.get(f"/products/{web.world.milk}").text
    stock = between(page, 'id="stock-by-lot"', "</table>")
    assert "L20261101" in stock and re.search(r'data-label="现存量" class="num">6<', stock)
    assert "¥18.00" in stock
    history = between(page, 'id="price-history"', "</table>")
    assert "采购入库" in history and ">3.00<" in history
    assert "+6" in between(page, 'id="ledger-rows"', "</table>")
    clerk = web.login("liu").get(f"/products/{web.world.milk}").text
    assert "进价历史" not in clerk and "¥" not in clerk and "L20261101" in clerk


def test_partner_form_creates_validates_and_refuses_without_permission(web):
    c = web.login("laoban")
    new = c.get("/md/partners/new").text
    assert 'action="/md/partners/save"' in new and 'name="csrf_token"' in new
    r = c.post("/md/partners/save", data={"code": "GYS9", "name": "城南蔬菜", "role": "supplier",
                                           "lead_time_days": "2", "active": "on"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/partners?saved=GYS9"
    listing = c.get("/partners?saved=GYS9").text
    assert "已保存：GYS9" in listing and "城南蔬菜" in listing
    dup = c.post("/md/partners/save", data={"code": "GYS9", "name": "", "role": "supplier"})
    assert dup.status_code == 422
    assert re.search(r'<p class="field-error" id="err-code" role="alert">[^<]*GYS9[^<]*</p>', dup.text)
    assert re.search(r'<p class="field-error" id="err-name" role="alert">[^<]+</p>', dup.text)
    keeper = web.login("zhang")
    assert 'id="new-partner"' not in keeper.get("/partners").text
    refused = keeper.post("/md/partners/save", data={"code": "X1", "name": "x", "role": "customer"})
    assert refused.status_code == 403 and "masterdata.edit" in refused.text
    assert keeper.get("/md/partners/new").status_code == 403


def test_editing_a_product_changes_only_what_changed_and_records_who(web):
    c = web.login("laoban")
    form = c.get(f"/md/products/{web.world.rice}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    r = c.post("/md/products/save", data={"id": str(web.world.rice), "version": version, "code": "P002",
                                           "name": "东北大米", "spec": "5kg", "base_unit": "袋", "tracking": "none",
                                           "safety_stock": "12", "active": "on"}, follow_redirects=False)
    assert r.status_code == 303
    assert web.app.web.product(web.world.rice)["safety_stock"] == Decimal(12)
    audit = web.app.queries.audit(action="product.update")
    assert audit[0]["actor"] == "laoban" and "safety_stock" in audit[0]["after"] and "name" not in audit[0]["after"]
    stale = c.post("/md/products/save", data={"id": str(web.world.rice), "version": version, "code": "P002",
                                               "name": "大米", "base_unit": "袋", "active": "on"})
    assert stale.status_code == 409 and "已被其他人修改" in stale.text


def test_warehouses_and_locations_pages_with_a_new_shelf(web):
    c = web.login("laoban")
    assert "总仓" in c.get("/warehouses").text
    r = c.post("/md/locations/save", data={"code": "C-01", "name": "C货架", "warehouse_id": str(web.world.wh),
                                            "active": "on"}, follow_redirects=False)
    assert r.status_code == 303
    shelves = c.get("/locations", params={"warehouse_id": web.world.wh}).text
    assert "C货架" in shelves and "A货架" in shelves and "V-SUPPLIER" not in shelves  # virtual ones are not shelves


def test_ledger_filters_paginates_and_exports_the_same_rows(web):
    for _ in range(3):
        web.receive(web.world.rice, "2")
    web.receive(web.world.eggs, "30")
    c = web.login("laoban")
    page = c.get("/ledger", params={"product": "P002"}).text
    rows = between(page, 'id="ledger-rows"', "</table>")
    assert rows.count("P002 东北大米") == 3 and "鸡蛋" not in rows and "共 3 条流水" in page
    assert 'href="/ledger/export?format=xlsx&amp;product=P002"' in page
    assert "共 4 条流水" in c.get("/ledger", params={"kind": "purchase_receipt"}).text
    assert "没有符合条件的库存流水" in c.get("/ledger", params={"kind": "scrap"}).text
    future = (NOW + timedelta(days=30)).date().isoformat()
    assert "没有符合条件的库存流水" in c.get("/ledger", params={"since": future}).text
    exported = c.get("/ledger/export", params={"format": "csv", "product": "P002"})
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["生效时间", "类型", "单据", "商品编码"] and len(table) == 4
    assert {r[3] for r in table[1:]} == {"P002"} and {r[9] for r in table[1:]} == {"2"}
    xlsx = c.get("/ledger/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.values)
    assert values[0][3] == "商品编码" and len(values) == 5 and sum(r[9] for r in values[1:]) == 36


def test_ledger_and_export_hide_costs_from_a_clerk(web):
    web.receive(web.world.rice, "2")
    clerk = web.login("liu")
    assert "单位成本" not in clerk.get("/ledger").text
    header = clerk.get("/ledger/export", params={"format": "csv"}).content.decode("utf-8-sig").splitlines()[0]
    assert "单位成本" not in header and "金额" not in header


def test_audit_log_search_needs_audit_view(web):
    web.receive(web.world.rice, "2")
    c = web.login("laoban")
    page = c.get("/audit", params={"actor": "zhang"}).text
    rows = between(page, 'id="audit-rows"', "</table>")
    assert "zhang" in rows and "laoban" not in rows
    refused = web.login("liu").get("/audit")
    assert refused.status_code == 403 and "audit.view" in refused.text
    assert 'href="/audit"' not in web.login("liu").get("/").text


def test_settings_need_a_password_again_and_record_the_change(web):
    c = web.login("laoban")
    book = c.get("/settings?tab=book").text
    assert 'name="expiry.warn_days"' in book and "临期预警天数" in book
    bad = c.post("/settings/book", data={"expiry.warn_days": "14", "password": "wrong"})
    assert bad.status_code == 422
    assert re.search(r'id="err-password" role="alert">密码不正确', bad.text)
    assert web.app.queries.audit(action="setting.change") == []
    ok = c.post("/settings/book", data={"expiry.warn_days": "14", "availability.cross_lot": "on",
                                        "availability.block_near_expiry": "on", "password": PASSWORD},
                follow_redirects=False)
    assert ok.status_code == 303
    changed = web.app.queries.audit(action="setting.change")
    assert [r["object_id"] for r in changed] == ["expiry.warn_days"]  # unchanged keys are not rewritten
    assert "已保存，并已记入操作日志" in c.get("/settings?tab=book&saved=1").text


def test_settings_add_a_reason_and_a_user_and_refuse_a_clerk(web):
    c = web.login("laoban")
    r = c.post("/settings/reasons", data={"kind": "scrap", "code": "rats", "label_zh": "鼠咬", "label_en": "rats"},
               follow_redirects=False)
    assert r.status_code == 303 and "鼠咬" in c.get("/settings?tab=reasons").text
    short = c.post("/settings/users", data={"username": "xiaowang", "new_password": "short", "role": "sales",
                                            "password": PASSWORD})
    assert short.status_code == 422 and re.search(r'id="err-password_new" role="alert">密码至少 8 位', short.text)
    c.post("/settings/users", data={"username": "xiaowang", "new_password": "long-enough-1", "role": "sales",
                                    "password": PASSWORD})
    assert "xiaowang" in between(c.get("/settings?tab=users").text, 'id="user-rows"', "</table>")
    clerk = web.login("liu")
    assert clerk.get("/settings").status_code == 403
    assert clerk.post("/settings/reasons", data={"kind": "scrap", "code": "x", "label_zh": "x",
                                                 "label_en": "x"}).status_code == 403
