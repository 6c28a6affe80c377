"""库存流水分页 — the ledger pages by cursor (keyset), so postings made while someone pages through
never make a row appear twice or not at all (offset paging does both)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from jxc.domain.ledger import Movement
from jxc.interfaces.web import pages_ledger
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW

FILTERS = {"product_id": None, "warehouse_id": None, "kind": None, "lot": None, "since": None, "until": None,
           "warehouse_ids": None}


def _receive(web, qty: int, at) -> None:
    w = web.world
    post(web.app.uow_factory, PostingRequest("purchase_receipt", (
        Movement(w.rice, Decimal(qty), w.supplier, w.shelf_a, unit_cost=Decimal(1)),), at), SYSTEM, at)


def _ids(web, **kw):
    return [r["id"] for r in web.app.web.ledger_keyset(limit=3, **kw, **FILTERS).rows]


def test_keyset_pages_neither_skip_nor_repeat_rows_while_others_post(web):
    # 8 entries, three of them at the same moment (ties are broken by id)
    for k, days in enumerate((1, 1, 1, 2, 3, 5, 8, 13)):
        _receive(web, k + 1, NOW - timedelta(days=days))
    reads = web.app.web
    before = [r["id"] for r in reads.ledger_keyset(limit=100, **FILTERS).rows]
    assert len(before) == 8
    seen, page = [], reads.ledger_keyset(limit=3, **FILTERS)
    while True:
        seen += [r["id"] for r in page.rows]
        if not page.has_older:
            break
        # others post meanwhile: a movement now (qty 50), one at the cursor's own moment (60: a tie
        # that sorts newer by id), one back-dated before everything (70)
        _receive(web, 50, NOW)
        _receive(web, 60, page.rows[-1]["effective_at"])
        _receive(web, 70, NOW - timedelta(days=40 + len(seen)))  # each older than anything before it
        page = reads.ledger_keyset(after_id=page.last_id, limit=3, **FILTERS)
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert seen[:8] == before, "a row that existed before paging started was skipped or moved"
    after = {r["id"]: r["qty"] for r in reads.ledger_keyset(limit=100, **FILTERS).rows}
    # what sorts after the cursor (back-dated) shows up, once; what sorts before it belongs to newer pages
    assert sorted(i for i in seen[8:]) == sorted(i for i, q in after.items() if q == 70)
    assert len(seen) > 8 and 50 not in [after[i] for i in seen] and 60 not in [after[i] for i in seen]


def test_offset_paging_repeats_a_row_when_someone_posts_meanwhile(web):
    """Why the ledger does not page by offset: the same scenario shows a row twice."""
    for k in range(6):
        _receive(web, k + 1, NOW - timedelta(days=k + 1))
    reads = web.app.web
    first = [r["id"] for r in reads.ledger_page(offset=0, limit=3, **FILTERS).rows]
    _receive(web, 50, NOW)
    second = [r["id"] for r in reads.ledger_page(offset=3, limit=3, **FILTERS).rows]
    assert set(first) & set(second)  # offset 3 now starts at the old page's last row
    keyset = [r["id"] for r in reads.ledger_keyset(after_id=first[-1], limit=3, **FILTERS).rows]
    assert not set(first) & set(keyset) and len(keyset) == 3


def test_paging_back_returns_the_newer_pages_without_gaps(web):
    for k in range(8):
        _receive(web, k + 1, NOW - timedelta(days=k + 1))
    reads = web.app.web
    everything = [r["id"] for r in reads.ledger_keyset(limit=100, **FILTERS).rows]
    page = reads.ledger_keyset(after_id=everything[5], limit=2, **FILTERS)
    assert [r["id"] for r in page.rows] == everything[6:8] and not page.has_older and page.has_newer
    back = reads.ledger_keyset(before_id=page.first_id, limit=2, **FILTERS)
    assert [r["id"] for r in back.rows] == everything[4:6] and back.has_newer and back.has_older
    top = reads.ledger_keyset(before_id=everything[1], limit=2, **FILTERS)  # fewer than a page above: the top
    assert [r["id"] for r in top.rows] == everything[:2] and not top.has_newer
    assert reads.ledger_keyset(after_id=10**9, limit=2, **FILTERS).rows == [
        r for r in reads.ledger_keyset(limit=2, **FILTERS).rows]  # an unknown cursor reads as the first page


def test_the_ledger_page_follows_cursor_links_keeping_its_filters(web, monkeypatch):
    monkeypatch.setattr(pages_ledger, "PAGE_SIZE", 2)
    numbers: list[str] = []
    for _ in range(5):
        web.receive(web.world.rice, "2")
    web.receive(web.world.eggs, "9")
    c = web.login("laoban")
    url = "/ledger?product=P002"
    pages = 0
    while url:
        html = c.get(url.replace("&amp;", "&")).text
        numbers += re.findall(r'<td data-label="单据">([^<]+)</td>', html)
        web.receive(web.world.rice, "1")  # a clerk receives more rice while the owner reads
        nxt = re.search(r'rel="next" id="page-older" href="([^"]+)"', html)
        url = nxt.group(1) if nxt else ""
        assert not url or "product=P002" in url
        pages += 1
    assert pages == 3 and len(numbers) == 5 == len(set(numbers))
    assert "共 8 条流水" in c.get("/ledger?product=P002").text  # the three received meanwhile are there
    bad = c.get("/ledger", params={"after": "not-a-cursor"})
    assert bad.status_code == 400 and "分页游标无效" in bad.text
