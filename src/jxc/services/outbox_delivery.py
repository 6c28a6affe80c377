"""事件投递 — the outbox worker's step: claim undelivered events, fan them out, mark them delivered.

Guarantees:
- At least once: an event is marked delivered only in the transaction that
  fans it out (webhook delivery rows; on PostgreSQL the NOTIFY to every server
  process). A worker killed mid-batch rolls back: the next claim takes the
  same events again, with the same ids.
- In order per aggregate: only the oldest undelivered event of an aggregate
  is claimed, so a later event of it waits until the earlier one is delivered,
  whichever worker holds it.
- Several workers on PostgreSQL claim disjoint batches (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jxc.services import webhooks
from jxc.services.ports import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def deliver_batch(f: UowFactory, now: datetime, limit: int = 100,
                  before_commit: Callable[[Sequence[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Deliver one batch; return the events delivered (empty: nothing to do)."""
    with f() as uow:
        events = uow.api.claim_events(limit)
        if not events:
            return []
        endpoints = uow.api.endpoints(active_only=True)
        for event in events:
            targets = [e["id"] for e in endpoints if webhooks.subscribes(e, event["event_type"])]
            if targets:
                uow.api.add_deliveries(event["id"], targets, now)
        uow.api.mark_delivered([e["id"] for e in events], now)
        if before_commit is not None:
            before_commit(events)
        uow.commit()
    return events


def drain(f: UowFactory, now: Callable[[], datetime], limit: int = 100) -> int:
    """Deliver until nothing is left (tests, `jxc worker --once`); return how many were delivered."""
    total = 0
    while batch := deliver_batch(f, now(), limit):
        total += len(batch)
    return total
