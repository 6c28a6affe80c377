"""English pages — the document and warehouse pages show no Chinese of their own to an English user
(names typed by people, like 东北大米 or 总仓, and approval-rule reasons, which the rules hold in
Chinese only and the page marks lang="zh-CN", stay as they are)."""

from __future__ import annotations

import re

from tests.web.conftest import csrf_of

DATA = ("东北大米", "纯牛奶", "鸡蛋", "总仓", "A货架", "B货架", "袋", "瓶", "个", "默认库位",  # names in the test shop
        "中文")  # the language switch names the other language in itself


def _chinese_left(html: str) -> list[str]:
    html = re.sub(r'<span lang="zh-CN" class="data">.*?</span>', " ", html, flags=re.S)  # marked as Chinese data
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    for name in DATA:
        text = text.replace(name, "")
    return sorted(set(re.findall(r"[\u4e00-\u9fff]+", text)))


def test_document_and_warehouse_pages_are_english_for_an_english_user(web):
    doc = web.pending_scrap(web.world.rice, "1")
    c = web.login("laoban")
    c.cookies.set("jxc_lang", "en")
    csrf_of(c.get("/").text)
    for path in ("/documents/list", "/documents/new", "/documents/new?kind=sales_delivery", f"/documents/{doc}",
                 "/approvals", "/m", "/m/receive", "/m/transfer", "/m/count",
                 f"/documents/line?product_id={web.world.milk}&kind=sales_delivery&warehouse_id={web.world.wh}"):
        r = c.get(path)
        assert r.status_code == 200, path
        assert _chinese_left(r.text) == [], path
