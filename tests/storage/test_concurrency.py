"""并发 — many clerks, PDAs and channels on one SKU at once (after cosmicpython test_uow).

Eight threads start together at a barrier and post against the same product on real,
separate connections: a SQLite file in WAL mode, or PostgreSQL with --db=postgresql.
Each test asserts the exact number of successes and of each refusal, that no other
error happened (no "database is locked", no deadlock), the final stock, and that
`violations()` is empty. Each race runs a few times to catch flakiness.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from jxc.domain.balances import replay
from jxc.domain.errors import DomainError
from jxc.domain.ledger import BucketKey, LedgerEntry, Movement
from jxc.services.posting import SYSTEM, Actor, PostingRequest, close_period, post, reverse
from jxc.storage.tables import ledger_entries, period_balances, periods, postings
from tests.conftest import NOW, make_world

THREADS = 8
ROUNDS = range(3)
CLERK = Actor("clerk", frozenset({"document.post"}))


def race(work: Callable[[int], list[str]]) -> Counter[str]:
    """Run ``work(thread_no)`` on THREADS threads released together; count the outcomes.

    ``work`` returns one outcome per attempt ("ok" or a refusal code); anything else it
    raises is counted as "ERROR <type>: <message>" so that a test can assert there were none.
    """
    barrier = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            got = work(n)
        except Exception as exc:  # noqa: BLE001 - reported in the counter, asserted on
            got = [f"ERROR {type(exc).__name__}: {str(exc).splitlines()[0]}"]
        with lock:
            outcomes.update(got)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


def attempt(fn: Callable[[], object]) -> str:
    try:
        fn()
    except DomainError as exc:
        return exc.code
    return "ok"


def receipt(w, qty: str, at: datetime = NOW, cost: str = "2", key: str | None = None):
    move = Movement(w.rice, D(qty), w.supplier, w.shelf_a, unit_cost=D(cost))
    return PostingRequest("receipt", (move,), at, idempotency_key=key)


def issue(w, qty: str, at: datetime = NOW) -> PostingRequest:
    return PostingRequest("issue", (Movement(w.rice, D(qty), w.shelf_a, w.customer),), at)


def on_hand(app, w) -> D:
    bucket = BucketKey(w.shelf_a, w.rice, 0, "available")
    held = app.queries.balances(product_id=w.rice).get(bucket)
    return D(0) if held is None else held.qty


def count_postings(app) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(postings)).scalar_one()


@pytest.mark.parametrize("round_", ROUNDS)
def test_parallel_issues_never_oversell_the_last_units(file_app, round_):
    w = make_world(file_app)
    post(file_app.uow_factory, receipt(w, "30"), CLERK, NOW)

    def five_issues(n: int) -> list[str]:
        return [
            attempt(lambda: post(file_app.uow_factory, issue(w, "1"), CLERK, NOW)) for _ in range(5)
        ]

    outcomes = race(five_issues)
    assert outcomes == {"ok": 30, "STOCK_INSUFFICIENT": 10}
    assert on_hand(file_app, w) == 0
    assert count_postings(file_app) == 1 + 30
    assert file_app.queries.violations() == []


@pytest.mark.parametrize("round_", ROUNDS)
def test_racing_receipts_and_issues_lose_no_update(file_app, round_):
    w = make_world(file_app)
    post(file_app.uow_factory, receipt(w, "20"), CLERK, NOW)

    def receive_or_issue(n: int) -> list[str]:
        if n % 2 == 0:  # four receivers: 5 × 1.5 each, at different costs
            req = receipt(w, "1.5", cost=str(n + 1))
        else:  # four sellers: 5 × 1 each, never more than the opening 20 in total
            req = issue(w, "1")
        return [attempt(lambda: post(file_app.uow_factory, req, CLERK, NOW)) for _ in range(5)]

    outcomes = race(receive_or_issue)
    assert outcomes == {"ok": 40}
    assert on_hand(file_app, w) == D(20) + D("1.5") * 20 - 20
    assert count_postings(file_app) == 1 + 40
    assert file_app.queries.violations() == []


@pytest.mark.parametrize("round_", ROUNDS)
def test_same_idempotency_key_from_eight_threads_posts_once(file_app, round_):
    w = make_world(file_app)
    ids: list[int] = []

    def send(n: int) -> list[str]:
        res = post(file_app.uow_factory, receipt(w, "7", key="pos-3-000042"), CLERK, NOW)
        ids.append(res.posting_id)
        return ["created" if res.created else "replayed"]

    outcomes = race(send)
    assert outcomes == {"created": 1, "replayed": THREADS - 1}
    assert len(set(ids)) == 1
    assert count_postings(file_app) == 1
    assert on_hand(file_app, w) == 7
    assert file_app.queries.violations() == []


@pytest.mark.parametrize("round_", ROUNDS)
def test_eight_threads_reversing_one_posting_reverse_it_once(file_app, round_):
    w = make_world(file_app)
    original = post(file_app.uow_factory, receipt(w, "10"), CLERK, NOW)
    post(file_app.uow_factory, receipt(w, "4"), CLERK, NOW)
    later = NOW + timedelta(hours=1)

    def undo(n: int) -> list[str]:
        return [attempt(lambda: reverse(file_app.uow_factory, original.posting_id, CLERK, later))]

    outcomes = race(undo)
    assert outcomes == {"ok": 1, "ALREADY_REVERSED": THREADS - 1}
    assert on_hand(file_app, w) == 4
    assert count_postings(file_app) == 3
    assert file_app.queries.violations() == []


@pytest.mark.parametrize("round_", ROUNDS)
def test_period_close_racing_backdated_postings_lets_none_slip_in(file_app, round_):
    now = datetime.now(UTC)
    until = now - timedelta(hours=1)
    w = make_world(file_app)
    post(file_app.uow_factory, receipt(w, "100", at=until - timedelta(days=1)), CLERK, now)

    def close_or_post(n: int) -> list[str]:
        if n == 0:
            # the close request's time is read when it arrives, as the interfaces do
            return [
                attempt(
                    lambda: close_period(file_app.uow_factory, until, SYSTEM, datetime.now(UTC))
                )
            ]
        out = []
        for k in range(4):  # back-dated into the period being closed
            at = until - timedelta(minutes=n * 10 + k)
            req = receipt(w, "1", at=at) if k % 2 == 0 else issue(w, "1", at=at)
            out.append(
                attempt(lambda req=req: post(file_app.uow_factory, req, CLERK, datetime.now(UTC)))
            )
        return out

    outcomes = race(close_or_post)
    accepted = outcomes["ok"] - 1
    # every attempt either posted or was refused PERIOD_CLOSED (all may win the race: no refusal)
    assert set(outcomes) <= {"ok", "PERIOD_CLOSED"}
    assert outcomes["ok"] + outcomes["PERIOD_CLOSED"] == 1 + (THREADS - 1) * 4
    assert count_postings(file_app) == 1 + accepted
    # every accepted posting is in the snapshot: snapshot == Σ ledger effective before the close
    with file_app.engine.connect() as conn:
        (period_id,) = conn.execute(select(periods.c.id)).one()
        s = period_balances.c
        snap = {
            BucketKey(*r[:4]): (r[4], r[5])
            for r in conn.execute(
                select(s.location_id, s.product_id, s.lot_id, s.status, s.qty, s.value).where(
                    s.period_id == period_id
                )
            )
        }
        c = ledger_entries.c
        rows = conn.execute(
            select(
                c.product_id,
                c.lot_id,
                c.location_id,
                c.status,
                c.qty,
                c.unit_cost,
                c.value,
                c.effective_at,
                c.line_no,
            )
        ).all()
    before_close = replay([LedgerEntry(*r) for r in rows], until - timedelta(microseconds=1))
    assert snap == {k: (a.qty, a.value) for k, a in before_close.items()}
    assert file_app.queries.violations() == []
