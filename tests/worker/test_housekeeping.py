"""Worker housekeeping — reservations past their TTL are freed, overdue drafts remind, each round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from jxc.domain.documents import DocumentKind as K
from jxc.domain.ledger import Movement
from jxc.services import documents as docs
from jxc.services import reserving as rs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import make_world


def test_worker_round_expires_due_reservations_and_sends_reminders(app):
    from jxc.interfaces.worker import Worker

    w = make_world(app)
    now = datetime.now(UTC)
    post(app.uow_factory, PostingRequest("receipt", (Movement(w.rice, D(5), w.supplier, w.shelf_a, unit_cost=D(1)),),
                                         now), SYSTEM, now)
    rs.reserve(app.uow_factory, rs.ReserveRequest(w.rice, w.wh, "3", "mini:1", ttl_s=60), SYSTEM,
               now - timedelta(minutes=5))
    docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, w.wh, (LineInput(w.rice, "1"),)), SYSTEM,
                      now - timedelta(hours=2))
    worker = Worker(app)
    assert worker.housekeeping() == 2  # one reservation expired, one reminder sent
    assert rs.availability(app.uow_factory, w.rice, w.wh, now.date()).available == D(5)
    assert worker.housekeeping() == 0  # nothing twice
