"""过账状态机 — random sequences of real postings, checked against a pure-Python model.

A hypothesis `RuleBasedStateMachine` drives `post`, `reverse` and `close_period` on a
real database (SQLite in memory; also PostgreSQL when the suite runs with
``--db=postgresql``). The model is the list of entries every accepted posting must
have written (quantities only), replayed with `jxc.domain.balances`. After every step:
I1 balances == model == Σ ledger; I2; I3; I5; I8 `stock_at(T)` == replay to T; the
counts of postings, audit records and outbox events; and `violations() == []`.

It runs on the database under test. ``HYPOTHESIS_PROFILE=thorough`` runs many more and longer examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.balances import Amount, replay
from jxc.domain.catalog import StockStatus
from jxc.domain.errors import DomainError
from jxc.domain.ledger import NO_LOT, BucketKey, LedgerEntry, Movement, imbalances
from jxc.services.posting import Actor, PostingRequest, close_period, post, reverse
from jxc.storage.tables import audit_records, ledger_entries, outbox_events, postings
from tests.conftest import NOW, World, _truncate, make_world

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
MACHINE_SETTINGS = settings(
    max_examples=300 if THOROUGH else 40,
    stateful_step_count=60 if THOROUGH else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CLERK = Actor("clerk", frozenset({"document.post"}))
OWNER = Actor("owner", frozenset({"document.post", "stock.allow_negative"}))
START = NOW + timedelta(days=1)
US = timedelta(microseconds=1)

qtys = st.decimals(
    places=3,
    min_value=Decimal("0.001"),
    max_value=Decimal("40"),
    allow_nan=False,
    allow_infinity=False,
)
costs = st.decimals(
    places=2, min_value=Decimal("0"), max_value=Decimal("99"), allow_nan=False, allow_infinity=False
)
ticks = st.integers(min_value=0, max_value=240)  # minutes the clock moves before a step
backs = st.sampled_from([100, 100, 100, 0, 1, 50, 99])  # % of the way from the close to now


@dataclass
class ModelPosting:
    id: int
    entries: tuple[LedgerEntry, ...]  # the model's entries: quantities, no values
    allow_negative: bool
    reverses_id: int | None = None
    reversed_by: int | None = None
    db_entries: tuple[LedgerEntry, ...] = ()  # as read from the database right after posting


@dataclass
class Keyed:
    key: str
    request: PostingRequest
    actor: Actor
    posting_id: int


@dataclass
class Model:
    postings: dict[int, ModelPosting] = field(default_factory=dict)
    closes: list[datetime] = field(default_factory=list)
    approved: set[BucketKey] = field(default_factory=set)  # touched by an allow_negative posting
    audit_records: int = 0
    outbox_events: int = 0

    @property
    def closed_until(self) -> datetime | None:
        return self.closes[-1] if self.closes else None

    def entries(self) -> list[LedgerEntry]:
        return [e for p in self.postings.values() for e in p.entries]

    def qty(self, as_of: datetime | None = None) -> dict[BucketKey, Decimal]:
        return {k: a.qty for k, a in replay(self.entries(), as_of).items() if a.qty != 0}


def _qty_only(buckets: dict[BucketKey, Amount]) -> dict[BucketKey, Decimal]:
    return {k: a.qty for k, a in buckets.items() if a.qty != 0}


def _model_entries(moves: tuple[Movement, ...], at: datetime) -> tuple[LedgerEntry, ...]:
    out = []
    for n, m in enumerate(moves, start=1):
        out.append(
            LedgerEntry(
                m.product_id,
                m.lot_id,
                m.from_location_id,
                m.from_status,
                -m.qty,
                Decimal(0),
                Decimal(0),
                at,
                n,
            )
        )
        out.append(
            LedgerEntry(
                m.product_id,
                m.lot_id,
                m.to_location_id,
                m.dest_status,
                m.qty,
                Decimal(0),
                Decimal(0),
                at,
                n,
            )
        )
    return tuple(out)


def _bundle(posting_id: int | None):
    return multiple() if posting_id is None else posting_id


def _negate(entries: tuple[LedgerEntry, ...], at: datetime) -> tuple[LedgerEntry, ...]:
    return tuple(
        LedgerEntry(
            e.product_id,
            e.lot_id,
            e.location_id,
            e.status,
            -e.qty,
            e.unit_cost,
            -e.value,
            at,
            e.line_no,
        )
        for e in entries
    )


_PG_APPS: dict[str, App] = {}


def _fresh_app(pg_url: str | None) -> App:
    if pg_url is None:
        app = build(Settings(database_url="sqlite://"))
        app.create_all()
        return app
    if pg_url not in _PG_APPS:
        _PG_APPS[pg_url] = build(Settings(database_url=pg_url))
    app = _PG_APPS[pg_url]
    _truncate(app)
    return app


class LedgerMachine(RuleBasedStateMachine):
    posted = Bundle("posted")
    keyed = Bundle("keyed")

    def __init__(self, pg_url: str | None = None) -> None:
        super().__init__()
        self.pg_url = pg_url
        self.app = _fresh_app(pg_url)
        self.w: World = make_world(self.app)
        self.now = START
        self.model = Model()
        self.keys = 0
        with self.app.engine.connect() as conn:
            self.model.audit_records = conn.execute(
                select(func.count()).select_from(audit_records)
            ).scalar_one()

    def teardown(self) -> None:
        if self.pg_url is None:
            self.app.dispose()

    # --- helpers ----------------------------------------------------------------------------

    @property
    def physical(self) -> set[int]:
        return {self.w.shelf_a, self.w.shelf_b}

    def item(self, which: str) -> tuple[int, int]:
        return (self.w.rice, NO_LOT) if which == "rice" else (self.w.milk, self.w.milk_lot)

    def tick(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    def back_dated(self, pct: int) -> datetime:
        lower = self.model.closed_until or START
        return lower + (self.now - lower) * pct // 100

    def on_hand(
        self, location: int, which: str, status: StockStatus = StockStatus.AVAILABLE
    ) -> Decimal:
        product, lot = self.item(which)
        return self.model.qty().get(BucketKey(location, product, lot, status), Decimal(0))

    def predict(
        self, entries: tuple[LedgerEntry, ...], allow_negative: bool, at: datetime
    ) -> tuple[str | None, set[BucketKey]]:
        """The refusal `post`/`reverse` must give (None: accepted), and the short buckets."""
        after = self.model.qty()
        for e in entries:
            after[e.bucket] = after.get(e.bucket, Decimal(0)) + e.qty
        short = {
            e.bucket
            for e in entries
            if e.qty < 0 and e.location_id in self.physical and after[e.bucket] < 0
        }
        if short and not allow_negative:
            return "STOCK_INSUFFICIENT", short
        if self.model.closed_until is not None and at < self.model.closed_until:
            return "PERIOD_CLOSED", short
        return None, short

    def db_entries(self, posting_id: int) -> tuple[LedgerEntry, ...]:
        c = ledger_entries.c
        with self.app.engine.connect() as conn:
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
                .where(c.posting_id == posting_id)
                .order_by(c.id)
            )
            return tuple(LedgerEntry(*r) for r in rows)

    def accept(
        self,
        posting_id: int,
        entries: tuple[LedgerEntry, ...],
        allow_negative: bool,
        reverses_id: int | None = None,
    ) -> None:
        assert posting_id not in self.model.postings
        self.model.postings[posting_id] = ModelPosting(
            posting_id, entries, allow_negative, reverses_id, db_entries=self.db_entries(posting_id)
        )
        if reverses_id is not None:
            self.model.postings[reverses_id].reversed_by = posting_id
        if allow_negative:
            self.model.approved |= {e.bucket for e in entries}
        self.model.audit_records += 1
        self.model.outbox_events += 1

    def submit(
        self,
        kind: str,
        moves: tuple[Movement, ...],
        at: datetime,
        actor: Actor = CLERK,
        allow_negative: bool = False,
        key: str | None = None,
    ) -> int | None:
        """Post through the service; assert it does what the model predicts; the new id."""
        req = PostingRequest(kind, moves, at, idempotency_key=key, allow_negative=allow_negative)
        entries = _model_entries(moves, at)
        if allow_negative and not actor.can("stock.allow_negative"):
            expected, short = "NEGATIVE_NOT_PERMITTED", set()
        else:
            expected, short = self.predict(entries, allow_negative, at)
        try:
            res = post(self.app.uow_factory, req, actor, self.now)
        except DomainError as exc:
            event(f"{kind} refused {exc.code}")
            assert exc.code == expected, f"refused {exc.code}, model expected {expected}: {exc}"
            if expected == "STOCK_INSUFFICIENT":
                named = {
                    BucketKey(b["location_id"], b["product_id"], b["lot_id"], b["status"])
                    for b in exc.details["buckets"]
                }
                assert named == short
            return None
        event(f"{kind} accepted")
        assert expected is None, f"accepted, model expected {expected}"
        assert res.created and res.entries == len(entries)
        self.accept(res.posting_id, entries, allow_negative)
        self.last_request = req
        return res.posting_id

    # --- rules --------------------------------------------------------------------------------

    @initialize(target=posted, amounts=st.lists(qtys, min_size=4, max_size=4), cost=costs)
    def opening_stock(self, amounts, cost):
        """期初 — one posting of four lines: both products on both shelves."""
        moves = []
        for n, which in enumerate(["rice", "rice", "milk", "milk"]):
            product, lot = self.item(which)
            shelf = self.w.shelf_a if n % 2 == 0 else self.w.shelf_b
            moves.append(
                Movement(
                    product, amounts[n] * 10, self.w.opening, shelf, lot_id=lot, unit_cost=cost
                )
            )
        return _bundle(self.submit("opening", tuple(moves), START))

    @rule(
        target=posted,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        cost=costs,
        shelf=st.sampled_from(["a", "b"]),
        pct=backs,
        minutes=ticks,
    )
    def receive(self, which, qty, cost, shelf, pct, minutes):
        self.tick(minutes)
        product, lot = self.item(which)
        to = self.w.shelf_a if shelf == "a" else self.w.shelf_b
        return _bundle(
            self.submit(
                "receipt",
                (Movement(product, qty, self.w.supplier, to, lot_id=lot, unit_cost=cost),),
                self.back_dated(pct),
            )
        )

    @rule(
        target=keyed,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        cost=costs,
        pct=backs,
        minutes=ticks,
    )
    def receive_with_key(self, which, qty, cost, pct, minutes):
        self.tick(minutes)
        product, lot = self.item(which)
        self.keys += 1
        key = f"pda-{self.keys}"
        pid = self.submit(
            "receipt",
            (Movement(product, qty, self.w.supplier, self.w.shelf_a, lot_id=lot, unit_cost=cost),),
            self.back_dated(pct),
            key=key,
        )
        return multiple() if pid is None else Keyed(key, self.last_request, CLERK, pid)

    @rule(
        target=posted,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        shelf=st.sampled_from(["a", "b"]),
        pct=backs,
        minutes=ticks,
        full=st.booleans(),
    )
    def issue(self, which, qty, shelf, pct, minutes, full):
        """Sell — often exactly what is on hand, often more (must be refused)."""
        self.tick(minutes)
        product, lot = self.item(which)
        src = self.w.shelf_a if shelf == "a" else self.w.shelf_b
        held = self.on_hand(src, which)
        if full and held > 0:
            qty = held
        return _bundle(
            self.submit(
                "issue",
                (Movement(product, qty, src, self.w.customer, lot_id=lot),),
                self.back_dated(pct),
            )
        )

    @rule(
        target=posted,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        owner=st.booleans(),
        minutes=ticks,
    )
    def issue_allowing_negative(self, which, qty, owner, minutes):
        """Negative stock: only an actor holding stock.allow_negative may post it."""
        self.tick(minutes)
        product, lot = self.item(which)
        qty = self.on_hand(self.w.shelf_b, which).copy_abs() + qty
        return _bundle(
            self.submit(
                "issue",
                (Movement(product, qty, self.w.shelf_b, self.w.customer, lot_id=lot),),
                self.now,
                actor=OWNER if owner else CLERK,
                allow_negative=True,
            )
        )

    @rule(
        target=posted,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        a_to_b=st.booleans(),
        minutes=ticks,
    )
    def transfer(self, which, qty, a_to_b, minutes):
        self.tick(minutes)
        product, lot = self.item(which)
        src, dst = (self.w.shelf_a, self.w.shelf_b) if a_to_b else (self.w.shelf_b, self.w.shelf_a)
        qty = min(qty, max(self.on_hand(src, which), Decimal("0.001")))
        return _bundle(
            self.submit("transfer", (Movement(product, qty, src, dst, lot_id=lot),), self.now)
        )

    @rule(target=posted, which=st.sampled_from(["rice", "milk"]), qty=qtys, minutes=ticks)
    def dispatch_to_transit(self, which, qty, minutes):
        self.tick(minutes)
        product, lot = self.item(which)
        qty = min(qty, max(self.on_hand(self.w.shelf_a, which), Decimal("0.001")))
        return _bundle(
            self.submit(
                "transfer_out",
                (Movement(product, qty, self.w.shelf_a, self.w.transit, lot_id=lot),),
                self.now,
            )
        )

    @precondition(
        lambda self: any(
            q > 0 for k, q in self.model.qty().items() if k.location_id == self.w.transit
        )
    )
    @rule(target=posted, data=st.data(), minutes=ticks)
    def receive_from_transit(self, data, minutes):
        self.tick(minutes)
        moving = sorted(
            (k, q) for k, q in self.model.qty().items() if k.location_id == self.w.transit and q > 0
        )
        key, q = data.draw(st.sampled_from(moving))
        part = data.draw(st.sampled_from([q, (q / 2).quantize(Decimal("0.001")) or q]))
        return _bundle(
            self.submit(
                "transfer_in",
                (
                    Movement(
                        key.product_id, part, self.w.transit, self.w.shelf_b, lot_id=key.lot_id
                    ),
                ),
                self.now,
            )
        )

    @rule(
        target=posted,
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        hold=st.sampled_from([StockStatus.FROZEN, StockStatus.QUALITY_HOLD]),
        release=st.booleans(),
        minutes=ticks,
    )
    def change_status(self, which, qty, hold, release, minutes):
        """冻结 / 质检 and back: available ↔ frozen / quality_hold on the same shelf."""
        self.tick(minutes)
        product, lot = self.item(which)
        src, dst = (hold, StockStatus.AVAILABLE) if release else (StockStatus.AVAILABLE, hold)
        qty = min(qty, max(self.on_hand(self.w.shelf_a, which, src), Decimal("0.001")))
        return _bundle(
            self.submit(
                "status_change",
                (
                    Movement(
                        product,
                        qty,
                        self.w.shelf_a,
                        self.w.shelf_a,
                        lot_id=lot,
                        from_status=src,
                        to_status=dst,
                    ),
                ),
                self.now,
            )
        )

    @rule(target=posted, which=st.sampled_from(["rice", "milk"]), qty=qtys, minutes=ticks)
    def scrap(self, which, qty, minutes):
        self.tick(minutes)
        product, lot = self.item(which)
        qty = min(qty, max(self.on_hand(self.w.shelf_a, which), Decimal("0.001")))
        return _bundle(
            self.submit(
                "scrap",
                (Movement(product, qty, self.w.shelf_a, self.w.scrap, lot_id=lot),),
                self.now,
            )
        )

    @rule(target=posted, posting_id=posted, owner=st.booleans(), pct=backs, minutes=ticks)
    def reverse_posting(self, posting_id, owner, pct, minutes):
        """红冲 — refused when already reversed, for a reversal, when it would go negative."""
        self.tick(minutes)
        actor = OWNER if owner else CLERK
        at = self.back_dated(pct)
        original = self.model.postings[posting_id]
        entries = _negate(original.entries, at)
        allow = original.allow_negative and actor.can("stock.allow_negative")
        if original.reverses_id is not None:
            expected: str | None = "REVERSAL_OF_REVERSAL"
        elif original.reversed_by is not None:
            expected = "ALREADY_REVERSED"
        else:
            expected, _ = self.predict(entries, allow, at)
        try:
            res = reverse(
                self.app.uow_factory, posting_id, actor, self.now, effective_at=at, reason="录错"
            )
        except DomainError as exc:
            event(f"reversal refused {exc.code}")
            assert exc.code == expected, f"refused {exc.code}, model expected {expected}: {exc}"
            return multiple()
        event("reversal accepted")
        assert expected is None, f"reversal accepted, model expected {expected}"
        self.accept(res.posting_id, entries, allow, reverses_id=posting_id)
        return res.posting_id

    @rule(k=keyed, minutes=ticks)
    def retry_same_key(self, k, minutes):
        """A retry returns the first posting and has no second effect (I7)."""
        self.tick(minutes)
        res = post(self.app.uow_factory, k.request, k.actor, self.now)
        assert (res.posting_id, res.created, res.entries) == (k.posting_id, False, 0)

    @rule(k=keyed, minutes=ticks)
    def reuse_key_for_another_request(self, k, minutes):
        self.tick(minutes)
        m = k.request.movements[0]
        other = PostingRequest(
            k.request.kind,
            (
                Movement(
                    m.product_id,
                    m.qty + 1,
                    m.from_location_id,
                    m.to_location_id,
                    lot_id=m.lot_id,
                    unit_cost=m.unit_cost,
                ),
            ),
            k.request.effective_at,
            idempotency_key=k.key,
        )
        try:
            post(self.app.uow_factory, other, k.actor, self.now)
        except DomainError as exc:
            assert exc.code == "IDEMPOTENCY_MISMATCH"
            assert exc.details["posting_id"] == k.posting_id
        else:
            raise AssertionError("a reused idempotency key posted a different request")

    @rule(pct=st.integers(min_value=0, max_value=100), minutes=ticks)
    def close(self, pct, minutes):
        """月结 at a time between the last close (or the start) and now."""
        self.tick(minutes)
        until = self.back_dated(pct)
        if self.model.closed_until is not None and until <= self.model.closed_until:
            with pytest.raises(DomainError) as err:
                close_period(self.app.uow_factory, until, OWNER, self.now)
            assert err.value.code == "PERIOD_NOT_ADVANCING"
            return
        close_period(self.app.uow_factory, until, OWNER, self.now)
        self.model.closes.append(until)
        self.model.audit_records += 1
        self.model.outbox_events += 1

    @precondition(lambda self: self.model.closed_until is not None)
    @rule(
        which=st.sampled_from(["rice", "milk"]),
        qty=qtys,
        early=st.sampled_from([US, timedelta(minutes=1), timedelta(days=3)]),
        sell=st.booleans(),
    )
    def post_before_the_close(self, which, qty, early, sell):
        """Back-dated into the closed period: refused (PERIOD_CLOSED), nothing written."""
        product, lot = self.item(which)
        at = self.model.closed_until - early
        move = (
            Movement(product, qty, self.w.shelf_a, self.w.customer, lot_id=lot)
            if sell
            else Movement(
                product, qty, self.w.supplier, self.w.shelf_a, lot_id=lot, unit_cost=Decimal(1)
            )
        )
        assert self.submit("late", (move,), at) is None

    # --- invariants, after every step ----------------------------------------------------------

    def read_db(self) -> tuple[list[LedgerEntry], list[int], list[int]]:
        """Every ledger entry, the posting each belongs to, and the counts of
        postings, audit records and outbox events — read on one connection."""
        c = ledger_entries.c
        cols = (c.product_id, c.lot_id, c.location_id, c.status, c.qty, c.unit_cost, c.value)
        with self.app.engine.connect() as conn:
            rows = conn.execute(
                select(*cols, c.effective_at, c.line_no, c.posting_id).order_by(c.id)
            ).all()
            counts = conn.execute(
                select(
                    *(
                        select(func.count()).select_from(t).scalar_subquery()
                        for t in (postings, audit_records, outbox_events)
                    )
                )
            ).one()
        return [LedgerEntry(*r[:9]) for r in rows], [r[9] for r in rows], list(counts)

    @invariant()
    def books_match_the_model(self):
        """One invariant (one read of the database) checking I1, I2, I3, I5, I6/I10 counts, I8."""
        entries, owners, counts = self.read_db()
        self.check_balances(entries, owners)
        self.check_stock_at(entries)
        # every accepted posting and close wrote one audit record and one event; refusals none
        assert counts == [
            len(self.model.postings),
            self.model.audit_records,
            self.model.outbox_events,
        ]
        assert self.app.queries.violations() == []

    def check_balances(self, entries: list[LedgerEntry], owners: list[int]) -> None:
        balances = self.app.queries.balances(physical_only=False)
        # I1: balances == Σ ledger (qty and value) == the model (qty)
        assert balances == replay(entries)
        assert _qty_only(balances) == self.model.qty()
        # I2: each posting balanced per product and lot
        by_posting: dict[int, list[LedgerEntry]] = {}
        for e, pid in zip(entries, owners, strict=True):
            by_posting.setdefault(pid, []).append(e)
        assert set(by_posting) == set(self.model.postings)
        for pid, es in by_posting.items():
            assert imbalances(es) == {}, f"posting #{pid} is unbalanced"
            # I5: entries never change after posting
            assert tuple(es) == self.model.postings[pid].db_entries, f"posting #{pid} changed"
        # I5: p + reverse(p) nets to zero in every bucket
        for p in self.model.postings.values():
            if p.reverses_id is not None:
                assert replay(by_posting[p.id] + by_posting[p.reverses_id]) == {}
        # I3: physical stock below zero only where an approved negative posting went
        for k, q in _qty_only(balances).items():
            if k.location_id in self.physical and q < 0:
                assert k in self.model.approved, f"{k} is {q} without approval"

    def check_stock_at(self, entries: list[LedgerEntry]) -> None:
        """I8 — at the last close and just before it, between and before the latest postings."""
        times = sorted({e.effective_at for e in entries})
        probes = set(self.model.closes[-1:])
        if self.model.closes:
            probes.add(self.model.closes[-1] - US)  # the last instant inside the closed period
        if times:
            probes.add(times[-1] - US)  # just before the latest business time
        if len(times) >= 2:
            probes.add(times[-2] + (times[-1] - times[-2]) / 2)  # between two postings
        for t in sorted(probes):
            as_of = self.app.queries.stock_at(t, physical_only=False)
            assert as_of == replay(entries, t), f"stock_at({t}) != ledger replay"
            assert _qty_only(as_of) == self.model.qty(t), f"stock_at({t}) != model"


def test_random_postings_keep_every_invariant(pg_url):
    """Runs on the database under test: SQLite, or PostgreSQL with --db=postgresql
    (there every step costs network round trips and fsyncs, so fewer examples)."""
    chosen = MACHINE_SETTINGS
    if pg_url is not None and not THOROUGH:
        chosen = settings(MACHINE_SETTINGS, max_examples=20)
    run_state_machine_as_test(lambda: LedgerMachine(pg_url), settings=chosen)
