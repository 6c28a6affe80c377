"""Outbox worker — order per aggregate, SKIP LOCKED claims, signed webhooks with retries and dead letters."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from jxc.domain import documents as d
from jxc.services import documents, outbox_delivery, webhooks
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM
from tests.conftest import NOW, make_world


def _receipt(app, world, qty=5):
    inp = DraftInput(d.DocumentKind.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, D(qty), unit_price=D(3)),),
                     effective_at=NOW)
    doc_id = documents.create_draft(app.uow_factory, inp, SYSTEM, NOW)
    documents.submit(app.uow_factory, doc_id, SYSTEM, NOW)
    return doc_id


def _undelivered(app):
    with app.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL")).scalar()


def test_events_of_one_aggregate_are_delivered_in_order_one_batch_after_another(app, world):
    _receipt(app, world)
    batches = []
    while batch := outbox_delivery.deliver_batch(app.uow_factory, NOW):
        batches.append([(e["aggregate"], e["aggregate_id"], e["id"], e["event_type"]) for e in batch])
    order = [e for b in batches for e in b]
    for agg in {(a, i) for a, i, _, _ in order}:
        ids = [eid for a, i, eid, _ in order if (a, i) == agg]
        assert ids == sorted(ids)
    for b in batches:  # never two events of one aggregate in one batch: the later waits for the earlier
        assert len({(a, i) for a, i, _, _ in b}) == len(b)
    doc_events = [t for a, _, _, t in order if a == "document"]
    assert doc_events == ["document.created", "document.posted"]
    assert _undelivered(app) == 0


def test_a_rolled_back_batch_is_claimed_again_with_the_same_ids(app, world):
    _receipt(app, world)

    def crash(events):
        raise RuntimeError("worker died mid-batch")

    with pytest.raises(RuntimeError):
        outbox_delivery.deliver_batch(app.uow_factory, NOW, before_commit=crash)
    assert _undelivered(app) == 3
    first = [e["id"] for e in outbox_delivery.deliver_batch(app.uow_factory, NOW)]
    assert first and _undelivered(app) == 3 - len(first)


@pytest.mark.postgres
def test_concurrent_workers_claim_disjoint_events_with_skip_locked(file_app, db_kind):
    if db_kind != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises workers on the write lock")
    world = make_world(file_app)
    for _ in range(6):
        _receipt(file_app, world, 1)
    got: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def run(i):
        barrier.wait()
        while batch := outbox_delivery.deliver_batch(file_app.uow_factory, NOW, limit=3):
            got[i] += [e["id"] for e in batch]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(got[0]) & set(got[1])
    assert _undelivered(file_app) == 0


class FakeTransport:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.calls = []

    def __call__(self, url, body, headers, timeout_s):
        self.calls.append((url, body, dict(headers)))
        status = self.statuses.pop(0)
        if status is None:
            raise ConnectionRefusedError("connection refused")
        return status


def test_webhook_is_signed_retried_with_backoff_then_dead_alerted_and_replayed(app, world):
    f = app.uow_factory
    eid, secret = webhooks.register(f, "https://erp.example.com/hook", ["stock.posted"], SYSTEM, NOW)
    _receipt(app, world)
    outbox_delivery.drain(f, lambda: NOW)
    policy, rng = webhooks.RetryPolicy(max_attempts=2), random.Random(7)
    transport = FakeTransport([500, None, 204])
    now = NOW
    states = []
    for _ in range(2):
        jobs = webhooks.claim_due(f, now, policy)
        assert len(jobs) == 1
        ok, status, error = webhooks.send(jobs[0], transport, 1_700_000_000, policy)
        states.append(webhooks.record(f, jobs[0], ok, status, error, 12, now, policy, rng))
        assert webhooks.claim_due(f, now, policy) == []  # backing off: not due again at once
        now += timedelta(hours=7)
    assert states == ["pending", "dead"]
    url, body, headers = transport.calls[0]
    assert webhooks.verify(secret, headers["X-Jxc-Signature"], body, 1_700_000_100)
    assert not webhooks.verify("wrong", headers["X-Jxc-Signature"], body, 1_700_000_100)
    assert json.loads(body)["id"] == int(headers["X-Jxc-Event-Id"])
    with app.engine.connect() as conn:
        alerts = conn.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'integration.alert'")).all()
    assert len(alerts) == 1 and "连续失败 2 次" in json.loads(alerts[0][0])["message_zh"]
    ops = app.queries.operations(now)
    assert ops["webhooks"]["dead"] == 1 and ops["endpoints"][0]["consecutive_failures"] == 2
    dead = app.queries.page_deliveries(None, 10, "dead")[0]
    webhooks.retry(f, dead["id"], SYSTEM, now)
    job = webhooks.claim_due(f, now, policy)[0]
    assert webhooks.record(f, job, *webhooks.send(job, transport, 1_700_000_000, policy), 5, now, policy, rng) == "delivered"
    assert app.queries.audit(action="webhook.replay", limit=5)


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap():
    policy, rng = webhooks.RetryPolicy(), random.Random(1)
    for attempts in range(1, 12):
        ceiling = min(6 * 3600, 10 * 2 ** (attempts - 1))
        delays = [policy.delay(attempts, rng).total_seconds() for _ in range(50)]
        assert all(1 <= x <= max(1, ceiling) for x in delays)
    assert len({round(policy.delay(5, rng).total_seconds()) for _ in range(20)}) > 5  # jittered


def test_plain_http_webhooks_are_refused_except_on_loopback(app):
    with pytest.raises(Exception) as exc:
        webhooks.register(app.uow_factory, "http://erp.example.com/hook", ["*"], SYSTEM, NOW)
    assert exc.value.code == "WEBHOOK_URL_INVALID"
    webhooks.register(app.uow_factory, "http://127.0.0.1:9/hook", ["*"], SYSTEM, NOW, fmt="dingtalk")
