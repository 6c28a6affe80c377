"""盘点 — pure rules of stock counting: book as-of, variance, combining counters, ABC, rotation, KPIs.

Guarantees:
- `book_at` is the one definition of "the book at the moment a line was
  counted": the opening quantity plus every move effective at or before that
  moment (the same ≤ rule as `balances.replay` and `Queries.stock_at`).
- A variance is counted − book-at-counted_at. Stock that moves after a line was
  counted is already in the book when the adjustment posts, so posting the
  variance leaves the book equal to what was on the shelf plus later moves.
- Combining (`combine`): within one counter and one condition the last entry
  wins (a correction replaces, it does not add); a counter's quantity for a
  bucket is the sum over conditions (good + damaged + near-expiry). Counters are
  compared on *variance*, not raw quantity, so two people counting the same
  shelf before and after a sale agree. Counters that disagree flag the bucket
  for recount; only the latest recount round of a bucket counts.
- `rotation_slice` over all slots covers every key exactly once.
- No clock, no settings, no I/O: time and tolerances come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from jxc.domain.quantities import ZERO, money

BucketRef = tuple[int, int, int]  # (location_id, product_id, lot_id): a counted place, all statuses


class Condition(StrEnum):
    """盘点标记 — what the counter saw."""

    GOOD = "good"  # 正常
    DAMAGED = "damaged"  # 破损
    NEAR_EXPIRY = "near_expiry"  # 临期


class TaskState(StrEnum):
    """盘点任务状态."""

    OPEN = "open"  # 已下达
    COUNTING = "counting"  # 盘点中
    CLOSED = "closed"  # 已结束（已生成盘盈盘亏单或无差异）
    CANCELLED = "cancelled"  # 已取消


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class Move:
    """一笔库存变动 — a signed quantity into a counted place at a business time."""

    ref: BucketRef
    effective_at: datetime
    qty: Decimal


def book_at(opening: Mapping[BucketRef, Decimal], moves: Iterable[Move], ref: BucketRef,
            at: datetime) -> Decimal:
    """账面数 — ``opening`` plus the moves of ``ref`` effective at or before ``at``."""
    return opening.get(ref, ZERO) + sum((m.qty for m in moves if m.ref == ref and m.effective_at <= at), ZERO)


@dataclass(frozen=True)
class CountEntry:
    """盘点录入 — one line a counter sent (base units), with the book at its moment."""

    id: int
    ref: BucketRef
    counter: str
    condition: Condition
    qty_base: Decimal
    counted_at: datetime
    round: int
    book_qty: Decimal

    @property
    def variance(self) -> Decimal:
        return self.qty_base - self.book_qty


@dataclass(frozen=True)
class CombinedLine:
    """盘点结果行 — one bucket after combining every counter's entries."""

    ref: BucketRef
    counted_qty: Decimal
    book_qty: Decimal
    counted_at: datetime
    counted_by: str
    counters: tuple[str, ...]
    conditions: tuple[str, ...]
    conflict: bool  # counters disagree: recount before closing

    @property
    def variance(self) -> Decimal:
        return self.counted_qty - self.book_qty


def _per_counter(entries: Sequence[CountEntry]) -> dict[str, tuple[Decimal, Decimal, datetime, set[str]]]:
    """counter → (counted, book at their last moment, that moment, conditions); last entry per condition wins."""
    latest: dict[tuple[str, Condition], CountEntry] = {}
    for e in sorted(entries, key=lambda e: (e.counted_at, e.id)):
        latest[(e.counter, e.condition)] = e
    out: dict[str, tuple[Decimal, Decimal, datetime, set[str]]] = {}
    for (counter, cond), e in sorted(latest.items(), key=lambda kv: (kv[1].counted_at, kv[1].id)):
        qty, _, _, conds = out.get(counter, (ZERO, ZERO, e.counted_at, set()))
        # the counter's total is compared against the book at their latest entry's moment
        out[counter] = (qty + e.qty_base, e.book_qty, e.counted_at, conds | {cond.value})
    return out


def combine(entries: Iterable[CountEntry], rounds: Mapping[BucketRef, int] | None = None) -> list[CombinedLine]:
    """Combine entries per bucket (see the module's guarantees); sorted by bucket."""
    by_ref: dict[BucketRef, list[CountEntry]] = {}
    for e in entries:
        by_ref.setdefault(e.ref, []).append(e)
    lines = []
    for ref, group in sorted(by_ref.items()):
        current = (rounds or {}).get(ref, max(e.round for e in group))
        group = [e for e in group if e.round == current]
        if not group:
            continue  # a recount was ordered and nobody has recounted yet
        per = _per_counter(group)
        variances = {counter: q - b for counter, (q, b, _, _) in per.items()}
        last_counter = max(per, key=lambda c: per[c][2])
        qty, book, at, _ = per[last_counter]
        conds = sorted(set().union(*(c[3] for c in per.values())))
        lines.append(CombinedLine(ref, qty, book, at, last_counter, tuple(sorted(per)), tuple(conds),
                                  conflict=len(set(variances.values())) > 1))
    return lines


def within_tolerance(line: CombinedLine, tolerance_pct: Decimal) -> bool:
    """准确 — |variance| ≤ tolerance% of the book (a zero book allows no variance)."""
    return abs(line.variance) <= abs(line.book_qty) * tolerance_pct / 100


@dataclass(frozen=True)
class Accuracy:
    """库存记录准确率 — lines within tolerance over lines counted."""

    counted: int
    accurate: int

    @property
    def rate(self) -> Decimal:
        if not self.counted:
            return Decimal(1)
        return (Decimal(self.accurate) / self.counted).quantize(Decimal("0.0001"))


def accuracy(lines: Iterable[CombinedLine], tolerance_pct: Decimal) -> Accuracy:
    ls = list(lines)
    return Accuracy(len(ls), sum(1 for ln in ls if within_tolerance(ln, tolerance_pct)))


def value_by(rows: Iterable[Mapping[str, object]], key: str) -> dict[str, Decimal]:
    """盘差金额汇总 — Σ |value| of adjustment rows grouped by ``key`` (reason, category, person)."""
    out: dict[str, Decimal] = {}
    for r in rows:
        k = str(r.get(key) or "")
        out[k] = money(out.get(k, ZERO) + abs(Decimal(str(r["value"]))))
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def classify_abc(usage: Mapping[int, Decimal], a_share: Decimal = Decimal("0.8"),
                 b_share: Decimal = Decimal("0.95")) -> dict[int, AbcClass]:
    """ABC 分类 — by value of usage: the items making the first 80% of value are A, to 95% B, the rest C.

    An item whose cumulative share *starts* below the bound belongs to that class, so the
    single biggest item is always A; items with no usage are C.
    """
    total = sum((v for v in usage.values() if v > 0), ZERO)
    out: dict[int, AbcClass] = {}
    running = ZERO
    for pid, value in sorted(usage.items(), key=lambda kv: (-kv[1], kv[0])):
        if value <= 0 or total == 0:
            out[pid] = AbcClass.C
            continue
        share_before = running / total
        out[pid] = AbcClass.A if share_before < a_share else AbcClass.B if share_before < b_share else AbcClass.C
        running += value
    return out


def rotation_slots(period_days: int, interval_days: int) -> int:
    """轮盘 — how many slices a rotation has (e.g. 28 days / 7 = 4 weekly slices of 25%)."""
    return max(1, period_days // max(1, interval_days))


def rotation_slice(keys: Iterable[str], slots: int, index: int) -> list[str]:
    """The keys counted in slot ``index`` (mod ``slots``): contiguous, near-equal chunks of the sorted keys."""
    ordered = sorted(set(keys))
    i = index % slots
    n = len(ordered)
    return ordered[i * n // slots:(i + 1) * n // slots]


def rotation_index(started_on: datetime, now: datetime, interval_days: int) -> int:
    return max(0, (now - started_on).days // max(1, interval_days))
