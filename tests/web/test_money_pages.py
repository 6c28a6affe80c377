"""应收应付页面 — balances with the overdue part, statement (+ .xlsx), ageing, receipts with allocation,
reversal, permissions. Figures are checked against services/money.py."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal as D

from openpyxl import load_workbook

from jxc.domain.documents import DocumentKind as K
from jxc.services import documents, masterdata, money, money_reads, users
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, csrf_of

DAY = timedelta(days=1)


def _doc(web, kind, partner, qty, price, at):
    boss = web.actor("laoban")
    did = documents.create_draft(web.app.uow_factory, DraftInput(
        kind, web.world.wh, (LineInput(web.world.rice, qty, unit_price=price),), effective_at=at,
        partner_id=partner), boss, _t(web))
    documents.submit(web.app.uow_factory, did, boss, _t(web))
    return did


def _t(web):
    """The pages read the app's clock (today); the documents are dated relative to it."""
    return web.app.clock.now()


def _shop(web):
    f = web.app.uow_factory
    T = _t(web)
    cus = masterdata.create(f, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer",
                                            "credit_limit": "5000", "payment_terms_days": 10}, SYSTEM, NOW)
    sup = masterdata.create(f, "partners", {"code": "S1", "name": "城南粮油", "role": "supplier",
                                            "payment_terms_days": 15}, SYSTEM, NOW)
    wechat = money.create_account(f, "WX", "微信收款", "wechat", web.actor("laoban"), NOW)
    _doc(web, K.PURCHASE_RECEIPT, sup, "100", "30", T - 40 * DAY)  # payable 3000, due 25 days ago
    old = _doc(web, K.SALES_DELIVERY, cus, "10", "50", T - 30 * DAY)  # 500, 20 days overdue
    new = _doc(web, K.SALES_DELIVERY, cus, "4", "50", T - DAY)  # 200, not due
    return {"cus": cus, "sup": sup, "wx": wechat, "old": old, "new": new}


def _login(web, name, role):
    users.create_user(web.app.uow_factory, name, PASSWORD, role, SYSTEM, NOW)
    web.made.add(name)
    return web.login(name)


def test_balances_show_what_is_owed_and_the_overdue_part(web):
    s = _shop(web)
    c = web.login("laoban")
    html = c.get("/money?side=receivable").text
    row = re.search(rf'data-partner="{s["cus"]}">(.*?)</tr>', html, re.S).group(1)
    assert "¥700.00" in row and re.search(r'class="num overdue">¥500.00<', row)
    payable = c.get("/money?side=payable").text
    assert "城南粮油" in payable and re.search(r'id="total-overdue">¥3,000.00<', payable)


def test_statement_ties_out_and_exports_the_same_rows_to_xlsx(web):
    s = _shop(web)
    c = web.login("laoban")
    T = _t(web)
    on, to = (T - 35 * DAY).date().isoformat(), T.date().isoformat()
    html = c.get(f"/money/statement?partner_id={s['cus']}&on={on}&to={to}").text
    st = money_reads.statement(web.app.uow_factory, s["cus"], T - 40 * DAY, T + DAY, web.actor("laoban"))
    assert st["closing"] == D(700)
    assert re.search(r'id="opening">¥0.00<', html) and re.search(r'id="closing">¥700.00<', html)
    assert f'href="/documents/{s["old"]}"' in html
    r = c.get(f"/money/statement?partner_id={s['cus']}&on={on}&to={to}&format=xlsx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][5] == 0 and rows[-1][5] == 700 and [r[3] for r in rows[2:4]] == [500, 200]


def test_ageing_buckets_as_of_a_date(web):
    s = _shop(web)
    c = web.login("laoban")
    T = _t(web)
    html = c.get(f"/money/ageing?side=receivable&as_of={T.date().isoformat()}").text
    row = re.search(rf'data-partner="{s["cus"]}">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="num not_due">¥200.00<', row) and re.search(r'class="num d1_30">¥500.00<', row)
    earlier = c.get(f"/money/ageing?side=receivable&as_of={(T - 25 * DAY).date().isoformat()}").text
    row = re.search(rf'data-partner="{s["cus"]}">(.*?)</tr>', earlier, re.S).group(1)
    assert re.search(r'class="num not_due">¥500.00<', row) and "¥200.00" not in row  # not yet delivered


def test_a_receipt_allocated_to_a_picked_document_then_reversed(web):
    s = _shop(web)
    fin = _login(web, "qian", "finance")
    page = fin.get(f"/money/pay?kind=receipt&partner_id={s['cus']}").text
    items = re.findall(r'data-item="(\d+)"', page)
    assert len(items) == 2
    newest = max(int(i) for i in items)
    r = fin.post("/money/pay", data={"csrf_token": csrf_of(page), "kind": "receipt", "partner_id": str(s["cus"]),
                                     "account_id": str(s["wx"]), "amount": "300", "on": _t(web).date().isoformat(),
                                     "mode": "picked", f"item-{newest}": "200"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    pay = fin.get(r.headers["location"]).text
    assert re.search(r'id="pay-unallocated">¥100.00<', pay)  # 300 − 200 to the picked delivery
    bal = money_reads.balances(web.app.uow_factory, "receivable", web.actor("laoban"))
    assert bal[0]["balance"] == D(400)
    pid = int(r.headers["location"].split("/")[3].split("?")[0])
    r = fin.post(f"/money/payments/{pid}/reverse", data={"csrf_token": csrf_of(pay), "reason": ""})
    assert r.status_code == 422 and 'id="reason-error"' in r.text
    r = fin.post(f"/money/payments/{pid}/reverse", data={"csrf_token": csrf_of(pay), "reason": "重复登记"})
    assert r.status_code == 200 and 'data-state="reversed"' in r.text
    assert money_reads.balances(web.app.uow_factory, "receivable", web.actor("laoban"))[0]["balance"] == D(700)


def test_a_refused_receipt_shows_errors_next_to_fields(web):
    s = _shop(web)
    fin = _login(web, "qian", "finance")
    page = fin.get("/money/pay?kind=receipt").text
    r = fin.post("/money/pay", data={"csrf_token": csrf_of(page), "kind": "receipt", "partner_id": str(s["cus"]),
                                     "account_id": str(s["wx"]), "amount": "-5", "mode": "oldest"})
    assert r.status_code == 422 and 'id="amount-error"' in r.text


def test_money_pages_need_their_permissions(web):
    s = _shop(web)
    keeper = web.login("zhang")
    assert keeper.get("/money").status_code == 403
    assert keeper.get(f"/money/statement?partner_id={s['cus']}").status_code == 403
    assert keeper.get("/money/pay?kind=receipt").status_code == 403
    r = keeper.post("/money/pay", data={"csrf_token": csrf_of(keeper.get("/").text), "kind": "receipt",
                                        "partner_id": str(s["cus"]), "account_id": str(s["wx"]), "amount": "5",
                                        "mode": "oldest"})
    assert r.status_code == 403
    assert money_reads.page_payments(web.app.uow_factory, web.actor("laoban"), None, 10) == []


def test_money_pages_are_english_for_an_english_viewer(web):
    s = _shop(web)
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    pid = money.record_payment(web.app.uow_factory, money.PaymentInput(
        money.m.PaymentKind.RECEIPT, s["cus"], s["wx"], "50"), web.actor("laoban"), _t(web))
    data_words = ("中文", "幸福里餐馆", "城南粮油", "微信收款")
    for url in ("/money", "/money?side=payable", f"/money/statement?partner_id={s['cus']}", "/money/ageing",
                f"/money/pay?kind=receipt&partner_id={s['cus']}", "/money/payments", f"/money/payments/{pid}"):
        html = c.get(url).text
        for w in data_words:
            html = html.replace(w, "")
        text = re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>", "", html, flags=re.S))
        assert not re.findall(r"[^\s]*[\u4e00-\u9fff][^\s]*", text), (url, re.findall(r"\S*[\u4e00-\u9fff]\S*", text))


def test_openings_one_by_one_and_pasted_from_excel_open_the_statement(web):
    s = _shop(web)
    fin = _login(web, "qian", "finance")
    page = fin.get("/money/openings").text
    assert 'id="opening-form"' in page
    r = fin.post("/money/openings", data={"csrf_token": csrf_of(page), "partner_id": str(s["cus"]), "amount": "800",
                                          "reference": "INV-1", "on": "2026-01-31", "due_on": "2026-02-28"},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/money/openings?done=1-0"
    table = ("往来单位编码\t单号\t金额\t日期\t到期日\n"  # a paste from Excel: tabs
             "C1\tINV-1\t800\t2026-01-31\t2026-02-28\nS1\tFP-9\t300\t\t\n")
    r = fin.post("/money/openings", data={"csrf_token": csrf_of(page), "table": table, "on": "2026-01-31"},
                 follow_redirects=False)
    assert r.headers["location"] == "/money/openings?done=1-1"  # INV-1 was there already: not entered twice
    listed = fin.get(r.headers["location"]).text
    assert 'id="openings-done"' in listed and len(re.findall(r'data-opening="\d+"', listed)) == 2
    html = fin.get(f"/money/statement?partner_id={s['cus']}&on=2026-02-01&to=2026-02-28").text
    assert re.search(r'id="opening">¥800.00<', html)
    bad = fin.post("/money/openings", data={"csrf_token": csrf_of(page), "table": "code,amount,date\nC1,5,2026-01-01\n"
                                            "NOPE,5,2026-01-01\n"})
    assert bad.status_code == 422 and "第 3 行" in bad.text and "NOPE" in bad.text
    one = fin.post("/money/openings", data={"csrf_token": csrf_of(page), "partner_id": str(s["cus"]), "amount": "0",
                                            "on": "2026-01-31"})
    assert one.status_code == 422 and 'id="amount-error"' in one.text
    assert len(web.app.queries.violations()) == 0


def test_a_customer_with_a_credit_is_refunded_from_the_balances_page(web):
    s = _shop(web)
    fin = _login(web, "qian", "finance")
    money.record_payment(web.app.uow_factory, money.PaymentInput(
        money.m.PaymentKind.RECEIPT, s["cus"], s["wx"], "1000"), web.actor("laoban"), _t(web))  # 300 over
    row = re.search(rf'data-partner="{s["cus"]}">(.*?)</tr>', fin.get("/money").text, re.S).group(1)
    assert "kind=customer_refund" in row
    page = fin.get(f"/money/pay?kind=customer_refund&partner_id={s['cus']}").text
    assert "登记退款" in page and re.search(r'data-item="\d+"><td>SK-', page) and "¥300.00" in page
    r = fin.post("/money/pay", data={"csrf_token": csrf_of(page), "kind": "customer_refund",
                                     "partner_id": str(s["cus"]), "account_id": str(s["wx"]), "amount": "400",
                                     "on": _t(web).date().isoformat(), "mode": "oldest"})
    assert r.status_code == 409 and 'id="amount-error"' in r.text and "300" in r.text
    r = fin.post("/money/pay", data={"csrf_token": csrf_of(page), "kind": "customer_refund",
                                     "partner_id": str(s["cus"]), "account_id": str(s["wx"]), "amount": "300",
                                     "on": _t(web).date().isoformat(), "mode": "oldest"}, follow_redirects=False)
    assert r.status_code == 303
    assert "退款给客户" in fin.get(r.headers["location"]).text and "退款给客户" in fin.get("/money/payments").text
    assert money_reads.balances(web.app.uow_factory, "receivable", web.actor("laoban"))[0]["balance"] == 0


def test_opening_and_refund_pages_are_english_for_an_english_viewer(web):
    s = _shop(web)
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    for url in ("/money/openings", f"/money/pay?kind=customer_refund&partner_id={s['cus']}"):
        html = c.get(url).text
        for w in ("中文", "幸福里餐馆", "城南粮油", "微信收款"):
            html = html.replace(w, "")
        text = re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>", "", html, flags=re.S))
        assert not re.findall(r"[^\s]*[\u4e00-\u9fff][^\s]*", text), (url, re.findall(r"\S*[\u4e00-\u9fff]\S*", text))
