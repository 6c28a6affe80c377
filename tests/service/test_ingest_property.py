"""POS 导入 — property: whatever the batches, repeats and overlaps, each (source, source_id) has exactly
one effect; stock = opening − Σ applied sales; a sale the books cannot cover is held, never negative."""

from __future__ import annotations

import tempfile
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.domain.ledger import Movement
from jxc.services import ingest
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW, make_world

OPENING = D(12)
QTY = {i: D(1 + i % 4) for i in range(8)}  # event T-i always sells QTY[i] bags


def _event(i: int) -> ingest.IngestEvent:
    lines = (ingest.IngestLine("P002", str(QTY[i])), ingest.IngestLine("P003", "0"))
    return ingest.IngestEvent(f"T-{i}", "sale", "WH1", NOW, lines, raw={"id": i, "qty": str(QTY[i])})


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=6), min_size=1, max_size=5))
def test_batches_with_repeats_and_overlaps_have_one_effect_per_event(batches):
    app = build(Settings(database_url="sqlite://", data_dir=tempfile.mkdtemp()))
    app.create_all()
    try:
        w = make_world(app)
        post(app.uow_factory, PostingRequest("receipt", (Movement(w.rice, OPENING, w.supplier, w.shelf_a,
                                                                  unit_cost=D(1)),), NOW), SYSTEM, NOW)
        first: dict[str, ingest.Outcome] = {}
        for batch in batches:
            for o in ingest.ingest(app.uow_factory, "pos", "pos:1", [_event(i) for i in batch], SYSTEM, NOW):
                if o.source_id in first:
                    assert o.result == "duplicate"
                    assert (o.event_id, o.document_id) == (first[o.source_id].event_id, first[o.source_id].document_id)
                else:
                    assert o.result in ("applied", "held")
                    first[o.source_id] = o
        sold = sum((QTY[int(k[2:])] for k, o in first.items() if o.result == "applied"), D(0))
        on_hand = sum((a.qty for a in app.queries.balances(w.rice).values()), D(0))
        assert on_hand == OPENING - sold and on_hand >= 0
        held = [k for k, o in first.items() if o.result == "held"]
        assert all(QTY[int(k[2:])] > on_hand for k in held) or not held
        assert len(first) == len({i for b in batches for i in b})
        assert app.queries.violations() == []
    finally:
        app.dispose()
