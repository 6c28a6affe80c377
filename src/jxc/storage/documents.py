"""单据仓储 — documents, lines, number series, approvals, rules, roles; one connection per UoW.

Guarantees:
- Numbers come from `number_sequences` by an atomic increment (upsert …
  RETURNING), so two clerks never get the same 单号, on either database.
- `lock` reads a document with `SELECT … FOR UPDATE` on PostgreSQL (SQLite
  holds the write lock for the whole unit of work), so two approvers or a
  double-click cannot both move the same document.
- A header update names the version it read; a stale one is refused
  (VERSION_CONFLICT) with who changed it and when.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind, Places
from jxc.domain.errors import Conflict
from jxc.domain.ledger import BucketKey
from jxc.domain.quantities import UnitConversion
from jxc.storage.tables import (
    approval_rules,
    approvals,
    balances,
    document_lines,
    documents,
    locations,
    number_sequences,
    products,
    reasons,
    roles,
    unit_conversions,
    user_warehouses,
)

_DEC_FIELDS = ("min_amount", "min_line_qty", "min_count_diff_value", "backdated_hours")


def rule_to_json(rule: Rule) -> str:
    d = asdict(rule)
    d["levels"] = list(rule.levels)
    d["kind"] = rule.kind.value if rule.kind else None
    for k in _DEC_FIELDS:
        d[k] = None if d[k] is None else str(d[k])
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def rule_from_json(text: str, active: bool = True) -> Rule:
    d = json.loads(text)
    d["levels"] = tuple(d["levels"])
    d["kind"] = DocumentKind(d["kind"]) if d.get("kind") else None
    for k in _DEC_FIELDS:
        d[k] = None if d.get(k) is None else Decimal(d[k])
    d["active"] = active and d.get("active", True)
    return Rule(**d)


class SqlDocumentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    def next_number(self, prefix: str, day: str) -> int:
        ins = (postgresql.insert if self._pg else sqlite.insert)(number_sequences)
        stmt = ins.values(prefix=prefix, day=day, last=1).on_conflict_do_update(
            index_elements=[number_sequences.c.prefix, number_sequences.c.day],
            set_={"last": number_sequences.c.last + 1}).returning(number_sequences.c.last)
        return self.conn.execute(stmt).scalar_one()

    def insert(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        """A new document; one whose idempotency key a concurrent transaction committed first is refused
        (IDEMPOTENCY_IN_PROGRESS, with that document's id) — the caller returns the first one."""
        key = header.get("idempotency_key")
        add = documents.insert().returning(documents.c.id)
        try:
            if key:
                with self.conn.begin_nested():  # a savepoint: the transaction survives to read the first
                    doc_id = self.conn.execute(add, dict(header)).scalar_one()
            else:
                doc_id = self.conn.execute(add, dict(header)).scalar_one()
        except IntegrityError:
            first = self.find_by_key(key) if key else None
            if first is None:
                raise
            raise Conflict("IDEMPOTENCY_IN_PROGRESS", f"幂等键 {key} 已被同时进行的另一请求使用，请查看该单据",
                           f"idempotency key {key} was taken by a concurrent request; see that document",
                           field="idempotency_key", details={"document_id": first}) from None
        self._insert_lines(doc_id, lines)
        return doc_id

    def _insert_lines(self, doc_id: int, lines: Sequence[Mapping[str, Any]]) -> None:
        if lines:
            self.conn.execute(document_lines.insert(),
                              [{**ln, "document_id": doc_id, "line_no": i} for i, ln in enumerate(lines, 1)])

    def get(self, doc_id: int, lock: bool = False) -> dict[str, Any] | None:
        q = select(documents).where(documents.c.id == doc_id)
        if lock and self._pg:
            q = q.with_for_update()
        row = self.conn.execute(q).mappings().first()
        if row is None:
            return None
        doc = dict(row)
        doc["lines"] = [dict(r) for r in self.conn.execute(
            select(document_lines).where(document_lines.c.document_id == doc_id)
            .order_by(document_lines.c.line_no)).mappings()]
        return doc

    def find_by_key(self, idempotency_key: str) -> int | None:
        return self.conn.execute(select(documents.c.id).where(
            documents.c.idempotency_key == idempotency_key)).scalar()

    def receipts_of(self, doc_id: int) -> list[dict[str, Any]]:
        """Posted documents made from ``doc_id`` (e.g. the receipts of a transfer), with lines."""
        ids = self.conn.execute(select(documents.c.id).where(
            documents.c.source_document_id == doc_id, documents.c.state == "posted")
            .order_by(documents.c.id)).scalars().all()
        return [doc for i in ids if (doc := self.get(i)) is not None]

    def update(self, doc_id: int, values: Mapping[str, Any], expected_version: int | None) -> None:
        q = update(documents).where(documents.c.id == doc_id)
        if expected_version is not None:
            q = q.where(documents.c.version == expected_version)
        if self.conn.execute(q.values(**values, version=documents.c.version + 1)).rowcount != 1:
            row = self.conn.execute(select(documents.c.updated_by, documents.c.updated_at, documents.c.version)
                                    .where(documents.c.id == doc_id)).first()
            who, when = (row[0], row[1]) if row else ("?", None)
            raise Conflict("VERSION_CONFLICT",
                           f"单据已被 {who} 于 {when:%Y-%m-%d %H:%M} 修改，请刷新后重新编辑" if when else
                           "单据已被他人修改，请刷新后重新编辑",
                           f"the document was changed by {who} at {when:%Y-%m-%d %H:%M}; reload and edit again"
                           if when else "the document was changed by someone else; reload and edit again",
                           field="version", details={"changed_by": who, "version": row[2] if row else None})

    def open_documents(self, before: Any) -> list[dict[str, Any]]:
        """Drafts and pending approvals last touched before ``before`` (staged, not yet stock)."""
        c = documents.c
        rows = self.conn.execute(select(c.id, c.number, c.kind, c.state, c.warehouse_id, c.created_by,
                                        c.created_at, c.submitted_at, c.updated_at, c.reminder_level)
                                 .where(c.state.in_(("draft", "pending_approval")), c.updated_at < before)
                                 .order_by(c.updated_at))
        return [dict(r) for r in rows.mappings()]

    def set_reminder_level(self, doc_id: int, level: int) -> None:
        """Not an edit: no version bump, so a clerk's open form stays valid."""
        self.conn.execute(update(documents).where(documents.c.id == doc_id).values(reminder_level=level))

    def replace_lines(self, doc_id: int, lines: Sequence[Mapping[str, Any]]) -> None:
        self.conn.execute(delete(document_lines).where(document_lines.c.document_id == doc_id))
        self._insert_lines(doc_id, lines)

    def add_approval(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(approvals.insert(), dict(values))

    def approvals(self, doc_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(approvals).where(approvals.c.document_id == doc_id).order_by(approvals.c.id)).mappings()]

    def rules(self) -> list[Rule]:
        rows = self.conn.execute(select(approval_rules.c.definition, approval_rules.c.active)
                                 .order_by(approval_rules.c.id))
        return [rule_from_json(r[0], r[1]) for r in rows]

    def rule_rows(self) -> list[tuple[int, Rule]]:
        rows = self.conn.execute(select(approval_rules.c.id, approval_rules.c.definition, approval_rules.c.active)
                                 .order_by(approval_rules.c.id))
        return [(r[0], rule_from_json(r[1], r[2])) for r in rows]

    def add_rule(self, rule: Rule, now: Any) -> int:
        return self.conn.execute(approval_rules.insert().returning(approval_rules.c.id), {
            "name": rule.name, "definition": rule_to_json(rule), "active": rule.active, "version": 1,
            "updated_at": now}).scalar_one()

    def set_rule_active(self, rule_id: int, active: bool) -> bool | None:
        before = self.conn.execute(select(approval_rules.c.active).where(approval_rules.c.id == rule_id)).scalar()
        if before is not None:
            self.conn.execute(update(approval_rules).where(approval_rules.c.id == rule_id)
                              .values(active=active, version=approval_rules.c.version + 1))
        return before

    def save_role(self, code: str, name_zh: str, name_en: str, permissions: Sequence[str]) -> None:
        values = {"name_zh": name_zh, "name_en": name_en, "permissions": json.dumps(list(permissions))}
        if self.conn.execute(update(roles).where(roles.c.code == code).values(**values)).rowcount == 0:
            self.conn.execute(roles.insert().values(code=code, builtin=False, **values))

    def set_user_warehouses(self, user_id: int, warehouse_ids: Sequence[int]) -> None:
        self.conn.execute(delete(user_warehouses).where(user_warehouses.c.user_id == user_id))
        if warehouse_ids:
            self.conn.execute(user_warehouses.insert(), [{"user_id": user_id, "warehouse_id": w} for w in warehouse_ids])

    def add_reason(self, kind: str, code: str, label_zh: str, label_en: str) -> None:
        exists = self.conn.execute(select(reasons.c.id).where(reasons.c.kind == kind, reasons.c.code == code)).first()
        if exists:
            raise Conflict("CODE_TAKEN", f"原因 {code} 已存在", f"reason {code} already exists", field="code")
        self.conn.execute(reasons.insert().values(kind=kind, code=code, label_zh=label_zh, label_en=label_en,
                                                  active=True))

    def reasons(self, kind: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(reasons).where(reasons.c.kind == kind, reasons.c.active.is_(True)).order_by(reasons.c.id)).mappings()]

    def default_locations(self, warehouse_ids: Iterable[int]) -> dict[int, int]:
        """The first physical location of each warehouse (its 默认库位)."""
        out: dict[int, int] = {}
        for wid, lid in self.conn.execute(
                select(locations.c.warehouse_id, locations.c.id)
                .where(locations.c.warehouse_id.in_(list(warehouse_ids)), locations.c.kind == "physical",
                       locations.c.active.is_(True)).order_by(locations.c.id)):
            out.setdefault(wid, lid)
        return out

    def location_warehouses(self, location_ids: Iterable[int]) -> dict[int, int | None]:
        return {r[0]: r[1] for r in self.conn.execute(
            select(locations.c.id, locations.c.warehouse_id).where(locations.c.id.in_(list(location_ids))))}

    def places(self) -> Places:
        codes = {r[0]: r[1] for r in self.conn.execute(
            select(locations.c.code, locations.c.id).where(locations.c.kind != "physical"))}
        return Places(codes["V-SUPPLIER"], codes["V-CUSTOMER"], codes["V-PRODUCTION"], codes["V-SCRAP"],
                      codes["V-COUNT"], codes["V-OPENING"], codes["V-TRANSIT"])

    def units(self, product_ids: Iterable[int]) -> dict[int, tuple[str, tuple[UnitConversion, ...]]]:
        pids = list(product_ids)
        out = {r[0]: (r[1], ()) for r in self.conn.execute(
            select(products.c.id, products.c.base_unit).where(products.c.id.in_(pids)))}
        for pid, unit, factor in self.conn.execute(
                select(unit_conversions.c.product_id, unit_conversions.c.unit, unit_conversions.c.factor)
                .where(unit_conversions.c.product_id.in_(pids))):
            base, convs = out[pid]
            out[pid] = (base, (*convs, UnitConversion(unit, factor)))
        return out

    def on_hand(self, keys: Iterable[BucketKey]) -> dict[BucketKey, Decimal]:
        keys = sorted(keys)
        if not keys:
            return {}
        b = balances.c
        rows = self.conn.execute(select(b.location_id, b.product_id, b.lot_id, b.status, b.qty).where(
            tuple_(b.location_id, b.product_id, b.lot_id, b.status).in_(
                [(k.location_id, k.product_id, k.lot_id, k.status) for k in keys])))
        return {BucketKey(r[0], r[1], r[2], r[3]): r[4] for r in rows}

    def role_permissions(self, role: str) -> frozenset[str] | None:
        row = self.conn.execute(select(roles.c.permissions).where(roles.c.code == role)).first()
        return None if row is None else frozenset(json.loads(row[0]))

    def user_warehouses(self, user_id: int) -> frozenset[int]:
        return frozenset(self.conn.execute(select(user_warehouses.c.warehouse_id)
                                           .where(user_warehouses.c.user_id == user_id)).scalars())
