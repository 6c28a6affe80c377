"""POS 导入并发 — two overlapping batches posted at once: every event applied exactly once.

On a SQLite file (WAL, real connections) and on PostgreSQL (`--db=postgresql`). The unique
(source, source_id) key decides the race; afterwards the exact counts hold and `violations()`
(I1–I10) is clean.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from jxc.domain.ledger import Movement
from jxc.services import ingest
from jxc.services.posting import SYSTEM, Actor, PostingRequest, post
from tests.conftest import NOW, make_world

CASHIER = Actor("pos", frozenset({"document.create.sales_delivery", "document.post.sales_delivery"}), role="sales")


def _event(i: int) -> ingest.IngestEvent:
    lines = (ingest.IngestLine("P002", "1", unit_price="10"), ingest.IngestLine(None, kind="discount", amount="-0.5"))
    raw = {"source_id": f"T-{i:03d}", "type": "sale", "lines": [["P002", "1"], ["discount", "-0.5"]]}
    return ingest.IngestEvent(f"T-{i:03d}", "sale", "WH1", NOW, lines, raw=raw)


@pytest.mark.parametrize("round_", range(2))
def test_two_overlapping_batches_at_once_apply_each_event_exactly_once(file_app, round_):
    w = make_world(file_app)
    post(file_app.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(100), w.supplier, w.shelf_a,
                                                                   unit_cost=D(2)),), NOW), SYSTEM, NOW)
    batches = [[_event(i) for i in range(0, 30)], [_event(i) for i in range(15, 45)][::-1]]
    barrier = threading.Barrier(2)

    def send(batch: list[ingest.IngestEvent]) -> list[ingest.Outcome]:
        barrier.wait()
        return ingest.ingest(file_app.uow_factory, "pos", "pos:store-01", batch, CASHIER, NOW)

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(send, batches)
    results = Counter(o.result for o in a + b)
    assert results == Counter({"applied": 45, "duplicate": 15}), results
    by_id: dict[str, set[int | None]] = {}
    for o in a + b:
        by_id.setdefault(o.source_id, set()).add(o.document_id)
    assert all(len(docs) == 1 for docs in by_id.values())  # a duplicate answers with the first document
    with file_app.engine.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM ingest_events")).scalar()
        lines = conn.execute(text("SELECT count(*) FROM ingest_lines")).scalar()
        deliveries = conn.execute(text("SELECT count(*) FROM documents WHERE state = 'posted'")).scalar()
    assert (events, lines, deliveries) == (45, 90, 45)
    left = sum((a.qty for a in file_app.queries.balances(w.rice).values()), D(0))
    assert left == D(55)
    assert file_app.queries.violations() == []
