"""审批规则 — which documents need whose approval, and why (explainable).

Guarantees:
- `required_levels` is pure: given the rules and the facts of a document it
  returns the ordered approver roles and, for each, the rule and condition
  that fired — the "why" a person sees.
- Default rules: count adjustments and scrap need a manager (主管); a posting
  that would make stock negative needs the owner (老板).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from jxc.domain.documents import DocumentKind


@dataclass(frozen=True)
class Facts:
    """审批依据 — what rules look at, computed from a document before it posts."""

    kind: DocumentKind
    amount: Decimal = Decimal(0)
    max_line_qty: Decimal = Decimal(0)
    count_diff_value: Decimal = Decimal(0)
    would_go_negative: bool = False
    backdated_hours: Decimal = Decimal(0)
    below_cost: bool = False
    between_stores: bool = False
    over_receipt: bool = False  # a receipt takes more than ordered + tolerance (超收)


@dataclass(frozen=True)
class Rule:
    """一条规则 — kind (None = any), conditions (all given must hold), approver roles in order."""

    name: str
    levels: tuple[str, ...]
    kind: DocumentKind | None = None
    min_amount: Decimal | None = None
    min_line_qty: Decimal | None = None
    min_count_diff_value: Decimal | None = None
    negative_stock: bool = False
    backdated_hours: Decimal | None = None
    below_cost: bool = False
    between_stores: bool = False
    over_receipt: bool = False
    active: bool = True

    def __post_init__(self) -> None:
        if not 1 <= len(self.levels) <= 3:
            raise ValueError("a rule has one to three approval levels")

    def why(self, f: Facts) -> list[str] | None:
        """The conditions that hold, or None when the rule does not apply."""
        if not self.active or (self.kind is not None and self.kind != f.kind):
            return None
        checks: list[tuple[bool, str]] = []
        if self.min_amount is not None:
            checks.append((f.amount >= self.min_amount, f"金额 {f.amount} ≥ {self.min_amount}"))
        if self.min_line_qty is not None:
            checks.append((f.max_line_qty >= self.min_line_qty, f"单行数量 {f.max_line_qty} ≥ {self.min_line_qty}"))
        if self.min_count_diff_value is not None:
            checks.append((f.count_diff_value >= self.min_count_diff_value,
                           f"盘差金额 {f.count_diff_value} ≥ {self.min_count_diff_value}"))
        if self.negative_stock:
            checks.append((f.would_go_negative, "过账后库存为负"))
        if self.backdated_hours is not None:
            checks.append((f.backdated_hours > self.backdated_hours,
                           f"补录 {f.backdated_hours} 小时前的单据 > {self.backdated_hours}"))
        if self.below_cost:
            checks.append((f.below_cost, "售价低于成本"))
        if self.between_stores:
            checks.append((f.between_stores, "门店之间调拨"))
        if self.over_receipt:
            checks.append((f.over_receipt, "收货超过订单数量与允许超收比例"))
        if not all(ok for ok, _ in checks):
            return None
        return [text for _, text in checks] or ["该类单据均需审批"]


@dataclass(frozen=True)
class Requirement:
    """需要的审批 — one level: the role, and the rules that asked for it."""

    level: int
    role: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


ROLE_RANK = {"owner": 3, "manager": 2}


def required_levels(rules: Iterable[Rule], facts: Facts) -> tuple[Requirement, ...]:
    """Merge every firing rule: level n needs the highest-ranked role any rule names at n."""
    by_level: dict[int, tuple[str, list[str]]] = {}
    for rule in rules:
        why = rule.why(facts)
        if why is None:
            continue
        for i, role in enumerate(rule.levels, start=1):
            current = by_level.get(i)
            reason = f"{rule.name}：{'，'.join(why)}"
            if current is None or ROLE_RANK.get(role, 1) > ROLE_RANK.get(current[0], 1):
                by_level[i] = (role, [*(current[1] if current else []), reason])
            else:
                current[1].append(reason)
    return tuple(Requirement(i, role, tuple(reasons)) for i, (role, reasons) in sorted(by_level.items()))


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("盘盈盘亏需主管审批", ("manager",), kind=DocumentKind.COUNT_ADJUSTMENT),
    Rule("报损需主管审批", ("manager",), kind=DocumentKind.SCRAP),
    Rule("负库存需老板审批", ("owner",), negative_stock=True),
    Rule("超收需主管审批", ("manager",), kind=DocumentKind.PURCHASE_RECEIPT, over_receipt=True),
)
