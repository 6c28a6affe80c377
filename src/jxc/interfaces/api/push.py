"""实时推送 — WebSocket clients get stock and document events of their warehouses within a second.

Guarantees:
- The hub forwards events the worker delivered. In one process the worker
  wakes it directly; across processes on PostgreSQL it wakes on LISTEN/NOTIFY
  (the worker's NOTIFY is sent only when its delivery commits), and a one-second
  poll bounds the wait either way.
- A client sees only events of the warehouses it may work in; integration
  alerts only if it holds `settings.edit`.
- A reconnecting client sends the last event id it saw and first gets every
  delivered event after it, then the live stream; ids are unique, so a client
  dedupes by id (an event may arrive twice around the reconnect).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jxc.bootstrap import App
from jxc.domain.permissions import holds
from jxc.interfaces.api.render import plain
from jxc.services.posting import Actor

log = logging.getLogger("jxc.push")
LATE_WINDOW = 200  # re-read this many ids behind the cursor: on PostgreSQL ids may commit out of order


@dataclass(eq=False)
class Subscriber:
    actor: Actor
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    topics: frozenset[str] = frozenset({"stock", "document"})

    def wants(self, message: dict[str, Any]) -> bool:
        return visible(self.actor, self.topics, message)


def visible(actor: Actor, topics: frozenset[str], message: dict[str, Any]) -> bool:
    """May this actor see this message? Its warehouses; integration alerts for settings.edit only."""
    topic = message["type"].split(".", 1)[0]
    if topic == "integration":
        return holds(actor.permissions, "settings.edit")
    if topic not in topics and topic != "period":
        return False
    scope = actor.warehouses
    return scope is None or not message["warehouses"] or bool(scope & set(message["warehouses"]))


class PushHub:
    def __init__(self, app: App) -> None:
        self.app = app
        self.subscribers: set[Subscriber] = set()
        self.lock = threading.Lock()
        self.wakeup = threading.Event()
        self.stop = threading.Event()
        self.cursor = 0
        self.seen: deque[int] = deque(maxlen=5000)
        self.seen_set: set[int] = set()
        self.locations: dict[int, int | None] = {}
        self.thread: threading.Thread | None = None

    # ── lifecycle ────────────────────────────────────────────────────────────
    def start(self) -> None:
        """Start tailing delivered events; done lazily, on the first subscriber or worker wake-up,
        so an API process nobody watches live runs no extra thread or database connection."""
        with self.lock:
            if self.thread is not None or self.stop.is_set():
                return
            self.cursor = self.app.queries.last_event_id()
            self.thread = threading.Thread(target=self._tail, name="jxc-push", daemon=True)
            self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.wakeup.set()
        if self.thread is not None:
            self.thread.join(timeout=3)

    def wake(self, _events: Sequence[dict[str, Any]] = ()) -> None:
        """Called by the in-process worker after a delivery committed."""
        self.start()
        self.wakeup.set()

    def _tail(self) -> None:
        listener = self.app.queries.event_listener() if self.app.engine.dialect.name == "postgresql" else None
        try:
            while not self.stop.is_set():
                if listener is not None:
                    listener.wait(0.5)
                else:
                    self.wakeup.wait(0.5)
                    self.wakeup.clear()
                try:
                    self.publish_new()
                except Exception:  # a failing read must not end push for everyone
                    log.exception("push: reading delivered events failed")
        finally:
            if listener is not None:
                listener.close()

    # ── events → messages ───────────────────────────────────────────────────
    def publish_new(self) -> int:
        events = self.app.queries.events_since(max(0, self.cursor - LATE_WINDOW), 1000)
        fresh = [e for e in events if e["id"] not in self.seen_set]
        for e in fresh:
            self._remember(e["id"])
        if events:
            self.cursor = max(self.cursor, events[-1]["id"])
        messages = self.messages(fresh)
        with self.lock:
            subs = list(self.subscribers)
        for m in messages:
            for s in subs:
                if s.wants(m):
                    s.loop.call_soon_threadsafe(s.queue.put_nowait, m)
        return len(messages)

    def _remember(self, event_id: int) -> None:
        if len(self.seen) == self.seen.maxlen:
            self.seen_set.discard(self.seen[0])
        self.seen.append(event_id)
        self.seen_set.add(event_id)

    def messages(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": e["id"], "type": e["event_type"], "aggregate": e["aggregate"],
                 "aggregate_id": e["aggregate_id"], "created_at": plain(e["created_at"]),
                 "warehouses": sorted(self._warehouses(e)), "data": e["payload"]} for e in events]

    def _warehouses(self, e: dict[str, Any]) -> set[int]:
        p = e["payload"]
        if e["event_type"] == "stock.posted":
            locs = {b[0] for b in p.get("buckets", [])}
            if locs - self.locations.keys():
                rows = self.app.queries.page_records("locations", None, 100_000)
                self.locations = {r["id"]: r["warehouse_id"] for r in rows}
            return {w for loc in locs if (w := self.locations.get(loc)) is not None}
        if e["aggregate"] == "document" and "document_id" in p:
            doc = self.app.queries.page_documents(p["document_id"] - 1, 1)
            if doc and doc[0]["id"] == p["document_id"]:
                return {w for w in (doc[0]["warehouse_id"], doc[0]["to_warehouse_id"]) if w is not None}
        if isinstance(p.get("warehouse_id"), int):  # reservations, POS/channel exceptions, …
            return {p["warehouse_id"]}
        return set()

    # ── subscribers ──────────────────────────────────────────────────────────
    def subscribe(self, actor: Actor) -> Subscriber:
        sub = Subscriber(actor, asyncio.get_running_loop())
        self.start()
        with self.lock:
            self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self.lock:
            self.subscribers.discard(sub)

    def backlog(self, sub: Subscriber, after: int) -> list[dict[str, Any]]:
        """Delivered events after ``after`` the subscriber may see (for a reconnect)."""
        out: list[dict[str, Any]] = []
        while True:
            events = self.app.queries.events_since(after, 500)
            out += [m for m in self.messages(events) if sub.wants(m)]
            if len(events) < 500:
                return out
            after = events[-1]["id"]
