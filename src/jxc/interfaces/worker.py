"""事件工作进程 — the outbox worker: deliver events (fan-out + push), send due webhooks, repeat.

`jxc serve` runs one in a thread (`start_in_process`); `jxc worker` runs it on
its own, and on PostgreSQL several may run at once (claims use SKIP LOCKED).
A worker killed at any point loses nothing: undelivered events and leased
webhook deliveries are taken again by the next worker (at least once, same ids).
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.services import outbox_delivery, reminders, reserving, webhooks
from jxc.services.posting import SYSTEM

log = logging.getLogger("jxc.worker")
Delivered = Callable[[Sequence[dict[str, Any]]], None]


def urllib_transport(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
    """POST with the standard library; an HTTP error status is a status, not an exception."""
    req = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (https, or loopback http)
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from exc


def policy(settings: Settings) -> webhooks.RetryPolicy:
    return webhooks.RetryPolicy(max_attempts=settings.webhook_max_attempts,
                                lease=timedelta(seconds=settings.webhook_lease_s),
                                timeout_s=settings.webhook_timeout_s)


class Worker:
    def __init__(self, app: App, on_delivered: Delivered | None = None,
                 transport: webhooks.Transport = urllib_transport, rng: random.Random | None = None) -> None:
        self.app = app
        self.on_delivered = on_delivered
        self.transport = transport
        self.rng = rng or random.Random()
        self.policy = policy(app.settings)
        self._next_reminders = 0.0

    def housekeeping(self) -> int:
        """Expire reservations past their TTL (every round: stock is freed within a poll of the
        deadline) and send due overdue-document reminders (once a minute)."""
        f, now = self.app.uow_factory, self.app.clock.now()
        done = len(reserving.expire_due(f, now, SYSTEM))
        if time.monotonic() >= self._next_reminders:
            done += len(reminders.remind_overdue(f, now))
            self._next_reminders = time.monotonic() + 60
        return done

    def step(self) -> int:
        """One round: housekeeping, a batch of events, then the due webhooks; returns the work done."""
        f, clock = self.app.uow_factory, self.app.clock
        expired = self.housekeeping()
        events = outbox_delivery.deliver_batch(f, clock.now())
        if events and self.on_delivered is not None:
            self.on_delivered(events)
        jobs = webhooks.claim_due(f, clock.now(), self.policy)
        for job in jobs:
            started = time.perf_counter()
            ok, status, error = webhooks.send(job, self.transport, int(time.time()), self.policy)
            latency = int((time.perf_counter() - started) * 1000)
            webhooks.record(f, job, ok, status, error, latency, clock.now(), self.policy, self.rng)
        return expired + len(events) + len(jobs)

    def run(self, stop: threading.Event) -> None:
        idle = self.app.settings.worker_poll_s
        while not stop.is_set():
            try:
                busy = self.step()
            except Exception:  # the database went away, a bug in a handler: log, wait, go on
                log.exception("outbox worker step failed; retrying in %.1f s", idle * 4)
                stop.wait(idle * 4)
                continue
            if not busy:
                stop.wait(idle)


def start_in_process(app: App, on_delivered: Delivered | None = None) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: one worker thread inside `jxc serve`."""
    stop = threading.Event()
    thread = threading.Thread(target=Worker(app, on_delivered).run, args=(stop,), name="jxc-worker", daemon=True)
    thread.start()
    return thread, stop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jxc worker", description="outbox worker 事件投递进程")
    parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return run(build(Settings(data_dir=args.data_dir) if args.data_dir else Settings()), args.once)


def run(app: App, once: bool) -> int:
    worker = Worker(app)
    if once:
        while worker.step():
            pass
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("jxc worker started on %s", app.engine.dialect.name)
    worker.run(stop)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
