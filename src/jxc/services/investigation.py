"""账实不符排查 — the seeds' five-step method as one view, and its Excel export.

For a product (lot, warehouse) and a counted quantity at a moment it shows:
1. the gap: book as of the count − counted (and the book as it was *known* at
   the count, before later back-dated postings);
2. the movement timeline since the last good count with a running balance,
   each posting flagged reversal / back-dated / entered after the count;
3. drafts and pending approvals (staged receipts, undocumented deliveries);
4. reservations not delivered (issue 4) and transfers still in transit;
5. who created, approved and posted each document, when, from which device.

Guarantees:
- Read only: one unit of work, never committed, nothing written.
- The suspect ("the first document after which the book can no longer match
  the count") is chosen by a stated rule, in this order: (a) no gap now but a
  gap at counting time → the posting entered after the count that closed it;
  (b) something not yet stock whose posting would close the gap exactly
  (draft/pending document, transfer in transit, undelivered reservation),
  earliest first; (c) a posted document whose quantity equals the gap
  (recorded, but did not happen on the shelf), non-standard flows first
  (reversals, returns, back-dated), then earliest. No exact match → no suspect,
  and the candidates are listed by how close they come.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from jxc.domain.documents import KINDS, DocumentKind
from jxc.domain.errors import NotFound
from jxc.domain.quantities import ZERO
from jxc.domain.settings import with_defaults
from jxc.services.ports import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
_INBOUND = {"purchase_receipt", "sales_return", "opening_balance", "production_receipt", "transfer_receipt"}
_SUSPICIOUS = {"sales_return": 0, "reversal": 0, "count_adjustment": 1}


def investigate(f: UowFactory, product_id: int, warehouse_id: int, now: datetime,
                counted_qty: Decimal | None = None, counted_at: datetime | None = None,
                lot_id: int | None = None, since: datetime | None = None) -> dict[str, Any]:
    """排查 — the five-step view as a dict (sections of rows; see the module docstring)."""
    at = counted_at or now
    with f() as uow:
        product = uow.records.get("products", product_id)
        warehouse = uow.records.get("warehouses", warehouse_id)
        if product is None or warehouse is None:
            raise NotFound("NOT_FOUND", "商品或仓库不存在", "no such product or warehouse", field="product_id")
        settings = with_defaults(uow.settings.all())
        locs = uow.counting.physical_locations(warehouse_id)
        since = since or uow.counting.last_good_count(product_id, locs, at) or at - timedelta(
            days=settings["investigate.window_days"])
        opening_map, _ = uow.counting.book_moves(warehouse_id, since, since, product_id)
        opening = sum((q for ref, q in opening_map.items() if lot_id is None or ref[2] == lot_id), ZERO)
        rows = uow.counting.timeline(product_id, locs, lot_id, since, at)
        open_docs = uow.counting.open_documents(product_id, warehouse_id)
        transit = uow.counting.transfers_in_transit(product_id, warehouse_id)
        reserved = uow.counting.reserved_not_delivered(product_id, warehouse_id)
        who = _attribution(uow, rows, open_docs, transit)
    late = timedelta(minutes=settings["investigate.late_minutes"])
    timeline = _timeline(rows, opening, at, late, who)
    book = timeline[-1]["balance"] if timeline else opening
    known = opening + sum((r["qty"] for r in timeline if not r["after_count"]), ZERO)
    report = {"product": {"id": product_id, "code": product["code"], "name": product["name"]},
              "warehouse": {"id": warehouse_id, "code": warehouse["code"], "name": warehouse["name"]},
              "lot_id": lot_id, "since": since, "counted_at": at, "counted_qty": counted_qty,
              "opening": opening, "book_qty": book, "book_known_at_count": known,
              "gap": None if counted_qty is None else book - counted_qty,
              "gap_at_count": None if counted_qty is None else known - counted_qty,
              "timeline": timeline, "open_documents": [_open_doc(d, warehouse_id, at, who) for d in open_docs],
              "in_transit": [_transit(t, warehouse_id, who) for t in transit],
              "reservations": reserved, "reservations_status": "pending" if reserved is None else "ok"}
    report["suspect"], report["candidates"] = _suspect(report)
    report["earliest_possible"] = _earliest_possible(report)
    return report


def _attribution(uow: UnitOfWork, rows: list[dict[str, Any]], open_docs: list[dict[str, Any]],
                 transit: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """(object type, id) → created / posted (who, when, ip, device) and approvals."""
    doc_ids = {r["document"]["id"] for r in rows if r["document"]} | {d["id"] for d in open_docs} | {
        t["id"] for t in transit}
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for a in uow.counting.attributions(doc_ids, {r["posting_id"] for r in rows}):
        slot = out.setdefault((a["object_type"], int(a["object_id"])), {"approvals": []})
        step = a["action"].split(".")[-1]
        slot.setdefault(step, {"by": a["actor"], "at": a["at"], "ip": a["ip"], "device": a["device"]})
    for ap in uow.counting.approvals(doc_ids):
        out.setdefault(("document", ap["document_id"]), {"approvals": []})["approvals"].append(
            {"by": ap["username"], "at": ap["at"], "decision": ap["decision"], "comment": ap["comment"]})
    return out


def _who(who: Mapping[tuple[str, int], dict[str, Any]], doc_id: int | None, posting_id: int | None) -> dict[str, Any]:
    doc = who.get(("document", doc_id), {}) if doc_id else {}
    post = who.get(("posting", posting_id), {}) if posting_id else {}
    created = doc.get("create") or post.get("post") or {}
    posted = doc.get("post") or doc.get("reverse") or post.get("post") or {}
    return {"created_by": created.get("by"), "created_at": created.get("at"), "device": created.get("device"),
            "ip": created.get("ip"), "posted_by": posted.get("by"), "posted_device": posted.get("device"),
            "approved_by": ", ".join(a["by"] for a in doc.get("approvals", []) if a["decision"] == "approved")}


def _timeline(rows: list[dict[str, Any]], opening: Decimal, at: datetime, late: timedelta,
              who: Mapping[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    balance, out = opening, []
    for r in rows:
        balance += r["qty"]
        doc = r["document"] or {}
        kind = "reversal" if r["reverses_id"] else doc.get("kind", r["posting_kind"])
        out.append({"posting_id": r["posting_id"], "effective_at": r["effective_at"], "posted_at": r["posted_at"],
                    "kind": kind, "kind_zh": _kind_zh(kind), "number": doc.get("number") or r["reference"],
                    "document_id": doc.get("id"), "qty": r["qty"], "balance": balance,
                    "reason": doc.get("reason_code") or doc.get("reason_text") or r["remark"],
                    "reversal": bool(r["reverses_id"]) or doc.get("state") == "reversed",
                    "backdated": r["posted_at"] - r["effective_at"] > late, "after_count": r["posted_at"] > at,
                    **_who(who, doc.get("id"), r["posting_id"])})
    return out


def _kind_zh(kind: str) -> str:
    if kind == "reversal":
        return "红冲"
    info = KINDS.get(DocumentKind(kind)) if kind in DocumentKind._value2member_map_ else None
    return info.zh if info else kind


def _effect(d: Mapping[str, Any], warehouse_id: int) -> Decimal:
    """How the book of this warehouse would move if the open document posted."""
    kind, qty = d["kind"], d["qty"]
    if kind == "transfer":
        return qty if d["to_warehouse_id"] == warehouse_id and d["warehouse_id"] != warehouse_id else -qty
    if kind == "count_adjustment":
        return qty if d["role"] == "gain" else -qty
    if kind in ("status_change", "assembly", "disassembly"):
        return qty if d["role"] == "output" else -qty if d["role"] == "component" else ZERO
    return qty if kind in _INBOUND else -qty


def _open_doc(d: Mapping[str, Any], warehouse_id: int, at: datetime,
              who: Mapping[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    return {"document_id": d["id"], "number": d["number"], "kind": d["kind"], "kind_zh": _kind_zh(d["kind"]),
            "state": d["state"], "qty": d["qty"], "effect": _effect(d, warehouse_id), "created_at": d["created_at"],
            "created_after_count": d["created_at"] > at, **_who(who, d["id"], None)}


def _transit(t: Mapping[str, Any], warehouse_id: int, who: Mapping[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    incoming = t["to_warehouse_id"] == warehouse_id
    return {"document_id": t["id"], "number": t["number"], "direction": "in" if incoming else "out",
            "in_transit": t["in_transit"], "effect": t["in_transit"], "sent_at": t["effective_at"],
            **_who(who, t["id"], None)}


def _suspect(r: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    gap, gap_then = r["gap"], r["gap_at_count"]
    if gap is None:
        return None, []
    if gap == 0:
        late = [t for t in r["timeline"] if t["after_count"]]
        if gap_then and late:
            pick = next((t for t in late if t["qty"] == -gap_then), late[0])
            return _pick("late_posting", pick, "盘点后补录、业务时间早于盘点的单据已补上差异",
                         "a posting entered after the count, dated before it, closed the gap"), []
        return None, []
    unposted = [("open_document", d) for d in r["open_documents"] if not d["created_after_count"]]
    unposted += [("in_transit", t) for t in r["in_transit"]]
    unposted += [("reservation", {**x, "effect": -x["open_qty"], "number": x["holder"]})
                 for x in r["reservations"] or []]
    exact = [(s, x) for s, x in unposted if gap + x["effect"] == 0]
    if exact:
        section, x = exact[0]
        return _pick(section, x, "尚未生效的单据/在途/预占，过账后账实相符",
                     "not stock yet: posting it makes the book match the shelf"), []
    posted = [t for t in r["timeline"] if t["qty"] == gap]
    posted.sort(key=lambda t: (_SUSPICIOUS.get(t["kind"], 2 if not t["backdated"] else 1), t["effective_at"]))
    if posted:
        return _pick("timeline", posted[0], "已记账但实物未发生：该单数量正好等于差异",
                     "recorded but did not happen on the shelf: its quantity equals the gap", r), []
    candidates = sorted([{"section": s, **x} for s, x in unposted] + [{"section": "timeline", **t} for t in r["timeline"]],
                        key=lambda x: abs(gap + x.get("effect", -x.get("qty", ZERO))))
    return None, candidates[:5]


def _pick(section: str, x: Mapping[str, Any], zh: str, en: str, report: Mapping[str, Any] | None = None
          ) -> dict[str, Any]:
    out = {"section": section, "number": x.get("number"), "document_id": x.get("document_id"),
           "posting_id": x.get("posting_id"), "kind": x.get("kind"), "qty": x.get("qty", x.get("effect")),
           "created_by": x.get("created_by"), "approved_by": x.get("approved_by"), "device": x.get("device"),
           "reason_zh": zh, "reason_en": en}
    if report is not None and x.get("kind") == "sales_return":
        pair = next((t for t in report["timeline"] if t["kind"] == "sales_delivery" and t["qty"] == -x["qty"]
                     and t["created_by"] == x.get("created_by")
                     and t["effective_at"].date() == x["effective_at"].date()), None)
        if pair:
            out["paired_with"] = pair["number"]
            out["reason_zh"] += f"；与同一人当日同量的销售 {pair['number']} 配对，疑似虚构销售后退货冲正"
            out["reason_en"] += f"; pairs with same-day sale {pair['number']} by the same person: fake sale then return?"
    return out


def _earliest_possible(r: Mapping[str, Any]) -> dict[str, Any] | None:
    """For a book above the shelf: the gap cannot predate the last moment the book held less than it."""
    gap = r["gap"]
    if not gap or gap < 0:
        return None
    after = None
    if r["opening"] < gap:
        after = "opening"
    for t in r["timeline"]:
        if t["balance"] < gap:
            after = t["number"]
    return {"after": after}


def tables(r: Mapping[str, Any]) -> dict[str, list[list[Any]]]:
    """The report as sheets of rows (header first): the CLI prints them, `write_xlsx` saves them."""
    s = r["suspect"] or {}
    summary = [["项目 item", "值 value"], ["商品 product", f"{r['product']['code']} {r['product']['name']}"],
               ["仓库 warehouse", r["warehouse"]["code"]], ["自 since (上次准确盘点/回看)", r["since"]],
               ["盘点时间 counted at", r["counted_at"]], ["实盘 counted", r["counted_qty"]],
               ["账面(盘点时点) book as of count", r["book_qty"]], ["盘点当时已知账面 book known then", r["book_known_at_count"]],
               ["差异 gap (账-实)", r["gap"]], ["疑点单据 suspect", s.get("number")],
               ["原因 why", s.get("reason_zh")], ["经办 by", s.get("created_by")], ["设备 device", s.get("device")],
               ["预占 reservations", "待上线 pending (issue 4)" if r["reservations_status"] == "pending" else "ok"]]
    timeline = [["业务时间 effective", "录入时间 posted", "单号 number", "类型 kind", "数量 qty", "结存 balance",
                 "经办 by", "审批 approved", "设备 device", "红冲 reversal", "补录 back-dated", "盘后录入 after count"]]
    timeline += [[t["effective_at"], t["posted_at"], t["number"], t["kind_zh"], t["qty"], t["balance"],
                  t["created_by"], t["approved_by"], t["device"], t["reversal"], t["backdated"], t["after_count"]]
                 for t in r["timeline"]]
    open_docs = [["单号 number", "类型 kind", "状态 state", "数量 qty", "影响 effect", "经办 by", "设备 device"]]
    open_docs += [[d["number"], d["kind_zh"], d["state"], d["qty"], d["effect"], d["created_by"], d["device"]]
                  for d in r["open_documents"]]
    transit = [["调拨单 number", "方向 direction", "在途 in transit", "经办 by", "设备 device"]]
    transit += [[t["number"], t["direction"], t["in_transit"], t["created_by"], t["device"]] for t in r["in_transit"]]
    reserved = [["占用方 holder", "未出库 open qty", "经办 by", "时间 at"]]
    reserved += [[x["holder"], x["open_qty"], x["created_by"], x["created_at"]] for x in r["reservations"] or []]
    return {"概要 Summary": summary, "流水 Timeline": timeline, "未生效 Open": open_docs, "在途 Transit": transit,
            "预占 Reserved": reserved}


def write_xlsx(r: Mapping[str, Any], target: str | Path | IO[bytes]) -> None:
    """导出 Excel — one sheet per section; times written without zone (Excel has none), in UTC."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in tables(r).items():
        ws = wb.create_sheet(title[:31])
        for row in rows:
            ws.append([_cell(v) for v in row])
    wb.save(target)


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    return v  # Decimal stays Decimal: openpyxl writes it as a number
