"""应收应付页面 — partner balances with what is overdue, statements (对账单, .xlsx), ageing (账龄),
receipts, payments and refunds (退款) with allocation (核销), their reversal (红冲), and opening balances
(期初: one at a time, or pasted from a spreadsheet).

Guarantees:
- Pages call `services.money`, the same service as /api/v1/money; it checks `money.view`,
  `money.receive` and `money.pay` on every call, and a refusal shows its reason.
- Every POST checks the session's CSRF token; a refused receipt re-renders the form with
  what was typed and each message next to its field.
- A statement's opening + debits − credits = closing, as the service computes it; the
  .xlsx export is the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jxc.domain import money as m
from jxc.domain.errors import DomainError, Forbidden
from jxc.domain.permissions import holds
from jxc.interfaces.api.deps import jxc
from jxc.interfaces.web import web_export
from jxc.interfaces.web.i18n import N_, gettext_for
from jxc.interfaces.web.routes import Form, Page
from jxc.interfaces.web.web_common import (
    csrf_ok,
    csrf_refused,
    error_text,
    field_errors,
    pick,
    render,
)
from jxc.services import first_run, money, money_reads
from jxc.services import money_openings as op

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SIDES = {"receivable": N_("应收（客户）"), "payable": N_("应付（供应商）")}
KINDS = {"receipt": N_("收款"), "payment": N_("付款"), "customer_refund": N_("退款给客户"),
         "supplier_refund": N_("供应商退款")}
TITLES = {"receipt": N_("登记收款"), "payment": N_("登记付款"), "customer_refund": N_("登记退款（付给客户）"),
          "supplier_refund": N_("登记供应商退款（收回）")}
BUCKETS = {"not_due": N_("未到期"), "d1_30": N_("逾期1-30天"), "d31_60": N_("逾期31-60天"),
           "d61_90": N_("逾期61-90天"), "over_90": N_("逾期90天以上")}
OVERDUE = ("d1_30", "d31_60", "d61_90", "over_90")


def _today(app: Any) -> date:
    return app.clock.now().astimezone(app.settings.zone).date()


def _start(app: Any, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=app.settings.zone)


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return default


def _refused(request: Request, v: Any, exc: DomainError) -> Response:
    return render(request, "error.html", exc.status, viewer=v, message=error_text(request, exc))


def _partners(app: Any, side: str) -> list[dict[str, Any]]:
    role = "customer" if side == "receivable" else "supplier"
    return [p for p in app.queries.page_records("partners", None, 5000, active=True) if p["role"] in (role, "both")]


@router.get("/money")
def balances(request: Request, v: Page, side: str = "receivable") -> Response:
    """往来余额 — each partner's balance, credit limit and the overdue part (from ageing as of today)."""
    app = jxc(request)
    side = side if side in SIDES else "receivable"
    try:
        rows = money_reads.balances(app.uow_factory, side, v.actor)
        aged = money_reads.ageing(app.uow_factory, side, app.clock.now(), _today(app), v.actor)
    except DomainError as exc:
        return _refused(request, v, exc)
    overdue = {r["partner_id"]: sum((r[b] for b in OVERDUE), Decimal(0)) for r in aged["partners"]}
    for r in rows:
        r["overdue"] = overdue.get(r["partner_id"], Decimal(0))
    total = {"balance": sum((r["balance"] for r in rows), Decimal(0)),
             "overdue": sum((r["overdue"] for r in rows), Decimal(0))}
    return render(request, "money.html", viewer=v, side=side, sides=SIDES, rows=rows, total=total,
                  may_receive=holds(v.actor.permissions, money.PERM_RECEIVE),
                  may_pay=holds(v.actor.permissions, money.PERM_PAY))


@router.get("/money/statement")
def statement(request: Request, v: Page, partner_id: int, on: str = "", to: str = "", side: str = "",
              format: str = "") -> Response:  # noqa: A002 — the query name
    """对账单 — opening, movements (linked to their documents / payments), closing; ``format=xlsx`` downloads."""
    app = jxc(request)
    _ = gettext_for(request)
    today = _today(app)
    since, until = _day(on, today.replace(day=1)), _day(to, today)
    try:
        st = money_reads.statement(app.uow_factory, partner_id, _start(app, since), _start(app, until + timedelta(days=1)),
                             v.actor, side if side in SIDES else None)
    except DomainError as exc:
        return _refused(request, v, exc)
    for r in st["movements"]:
        r["label"] = pick(request, *m.ITEM_LABELS.get(r["kind"], (r["kind"], r["kind"])))
    if format in ("xlsx", "csv"):
        zone = app.settings.zone
        head = [_("日期"), _("类型"), _("单号"), _("应收/应付增加"), _("收付/冲减"), _("余额")]
        rows: list[list[Any]] = [["", _("期初余额"), "", None, None, st["opening"]]]
        rows += [[r["effective_at"].astimezone(zone).date().isoformat() if r["effective_at"].tzinfo
                  else r["effective_at"].date().isoformat(), r["label"], r["reference"], r["debit"], r["credit"],
                  r["balance"]] for r in st["movements"]]
        rows.append(["", _("期末余额"), "", st["debits"], st["credits"], st["closing"]])
        return web_export.table(format, f"statement-{st['partner_code']}-{since}-{until}", _("对账单"), head, rows)
    return render(request, "money_statement.html", viewer=v, st=st, on=since.isoformat(), to=until.isoformat(),
                  sides=SIDES)


@router.get("/money/ageing")
def ageing(request: Request, v: Page, side: str = "receivable", as_of: str = "") -> Response:
    """账龄 — open items by days overdue on a date, per partner, with totals."""
    app = jxc(request)
    side = side if side in SIDES else "receivable"
    day = _day(as_of, _today(app))
    try:
        aged = money_reads.ageing(app.uow_factory, side, _start(app, day + timedelta(days=1)), day, v.actor)
    except DomainError as exc:
        return _refused(request, v, exc)
    return render(request, "money_ageing.html", viewer=v, aged=aged, side=side, sides=SIDES, buckets=BUCKETS,
                  as_of=day.isoformat())


# ── receipts and payments ────────────────────────────────────────────────────

def _pay_form(request: Request, v: Any, kind: str, values: dict[str, str], status: int = 200,
              errors: dict[str, str] | None = None, general: list[str] | None = None) -> Response:
    app = jxc(request)
    side = m.PAYMENT_SIDE[m.PaymentKind(kind)].value
    settles = -m.PAYMENT_SIGN[m.PaymentKind(kind)]  # receipts settle debits (+), refunds use credits (−)
    partner_id = int(values["partner_id"]) if values.get("partner_id", "").isdigit() else None
    items: list[dict[str, Any]] = []
    if partner_id:
        try:
            items = [{**r, "open": settles * r["open"]} for r in
                     money_reads.open_items(app.uow_factory, v.actor, None, 200, partner_id, side)
                     if settles * r["open"] > 0]
        except DomainError:  # a cashier without money.view: oldest-first only
            items = []
    accounts = app.queries.page_records("money_accounts", None, 200, active=True)
    return render(request, "money_pay.html", status, viewer=v, kind=kind, kinds=KINDS, titles=TITLES, values=values,
                  partners=_partners(app, side), accounts=accounts, items=items, errors=errors or {},
                  general=general or [])


def _may_record(actor: Any, kind: str) -> bool:
    return holds(actor.permissions, money.PERMISSION[m.PaymentKind(kind)])


@router.get("/money/pay")
def pay_form(request: Request, v: Page, kind: str = "receipt", partner_id: str = "") -> Response:
    """收款 / 付款 — partner, account, amount, date; allocation oldest-first or to picked documents."""
    _ = gettext_for(request)
    kind = kind if kind in KINDS else "receipt"
    if not _may_record(v.actor, kind):
        return render(request, "error.html", 403, viewer=v, message=_("%(name)s 无权登记收付款", name=v.actor.name))
    values = {"partner_id": partner_id[:10], "amount": "", "on": _today(jxc(request)).isoformat(), "mode": "oldest",
              "account_id": "", "remark": ""}
    return _pay_form(request, v, kind, values)


@router.post("/money/pay")
def record(request: Request, data: Form, v: Page) -> Response:
    """登记收付款 — allocated oldest first, or to the ticked documents with the amounts typed."""
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    kind = data.get("kind", "receipt") if data.get("kind") in KINDS else "receipt"
    values = {k: data.get(k, "").strip() for k in ("partner_id", "account_id", "amount", "on", "mode", "remark")}
    picked: list[tuple[int, str]] = []
    if values["mode"] == "picked":
        picked = [(int(k[5:]), val.strip()) for k, val in sorted(data.items())
                  if k.startswith("item-") and k[5:].isdigit() and val.strip()]
    try:
        if not _may_record(v.actor, kind):
            raise Forbidden("PERMISSION_DENIED", f"{v.actor.name} 无权登记{'收款' if kind == 'receipt' else '付款'}",
                            f"{v.actor.name} may not record a {kind}", field="kind")
        day = _day(values["on"], _today(app))
        pid = money.record_payment(app.uow_factory, money.PaymentInput(
            m.PaymentKind(kind), int(values["partner_id"] or 0), int(values["account_id"] or 0)
            if values["account_id"].isdigit() else 0, values["amount"] or "0",
            effective_at=app.clock.now() if day == _today(app) else _start(app, day) + timedelta(hours=12),
            allocations=picked if values["mode"] == "picked" else None, remark=values["remark"] or None), v.actor,
            app.clock.now())
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        return _pay_form(request, v, kind, values, exc.status if exc.status != 400 else 422, errors, general)
    return RedirectResponse(f"/money/payments/{pid}?done=recorded", status_code=303)


@router.get("/money/payments")
def payments(request: Request, v: Page, partner_id: str = "", after: int = 0) -> Response:
    """收付款单 — by number, 50 a page (keyset)."""
    app = jxc(request)
    pid = int(partner_id) if partner_id.isdigit() else None
    try:
        rows = money_reads.page_payments(app.uow_factory, v.actor, after or None, PAGE_SIZE + 1, partner_id=pid)
    except DomainError as exc:
        return _refused(request, v, exc)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    names = {p["id"]: p["name"] for p in app.queries.page_records("partners", None, 5000)}
    for r in rows:
        r["partner"] = names.get(r["partner_id"], "")
    return render(request, "money_payments.html", viewer=v, rows=rows, kinds=KINDS,
                  next_after=rows[-1]["id"] if more else None)


def _payment_page(request: Request, v: Any, payment_id: int, status: int = 200, **extra: Any) -> Response:
    app = jxc(request)
    try:
        pay = money.get_payment(app.uow_factory, payment_id, v.actor)
    except DomainError as exc:
        return _refused(request, v, exc)
    partner = (app.queries.page_records("partners", None, 1, id=pay["partner_id"]) or [{}])[0]
    items = {r["id"]: r for r in money_reads.open_items(app.uow_factory, v.actor, None, 1000, pay["partner_id"],
                                                  open_only=False)}
    allocs = [dict(a, item=items.get(a["other_id"], {}))
              for a in pay["allocations"]]
    ctx = {"viewer": v, "pay": pay, "partner": partner, "allocs": allocs, "kinds": KINDS, "done": "", "errors": {},
           "may_reverse": pay["state"] == "posted" and _may_record(v.actor, pay["kind"])}
    ctx.update(extra)
    return render(request, "money_payment.html", status, **ctx)


@router.get("/money/payments/{payment_id:int}")
def payment(request: Request, payment_id: int, v: Page, done: str = "") -> Response:
    """收付款单 — amount, what it settled, what is left as a prepayment; the reversal form."""
    return _payment_page(request, v, payment_id, done=done[:20])


@router.post("/money/payments/{payment_id:int}/reverse")
def reverse(request: Request, payment_id: int, data: Form, v: Page) -> Response:
    """红冲收付款 — needs a reason; what it settled becomes open again."""
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    try:
        money.reverse_payment(app.uow_factory, payment_id, data.get("reason", "").strip(), v.actor, app.clock.now())
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        return _payment_page(request, v, payment_id, exc.status if exc.status != 400 else 422, errors=errors,
                             error="；".join(general) if general else None)
    return RedirectResponse(f"/money/payments/{payment_id}?done=reversed", status_code=303)


# ── opening balances (期初) ───────────────────────────────────────────────────

def _openings_page(request: Request, v: Any, values: dict[str, str], status: int = 200,
                   errors: dict[str, str] | None = None, general: list[str] | None = None, done: str = "") -> Response:
    app = jxc(request)
    try:
        rows = op.page_openings(app.uow_factory, v.actor, None, 1000)
    except DomainError as exc:
        return _refused(request, v, exc)
    partners = app.queries.page_records("partners", None, 5000, active=True)
    return render(request, "money_openings.html", status, viewer=v, rows=rows, partners=partners, sides=SIDES,
                  values=values, errors=errors or {}, general=general or [], done=done)


@router.get("/money/openings")
def openings(request: Request, v: Page, done: str = "") -> Response:
    """期初应收/应付 — the openings entered so far, a form for one, and a box to paste many from Excel."""
    day = _today(jxc(request)) - timedelta(days=1)
    return _openings_page(request, v, {"on": day.isoformat()}, done=done[:20])


@router.post("/money/openings")
def record_openings(request: Request, data: Form, v: Page) -> Response:
    """录入期初 — the pasted table (all rows or none), or the one entry of the form."""
    app = jxc(request)
    if not csrf_ok(request, data, v):
        return csrf_refused(request, v)
    keys = ("partner_id", "reference", "amount", "on", "due_on", "side", "table")
    values = {k: data.get(k, "").strip() for k in keys}
    first_row = 2
    try:
        if values["table"]:
            rows = first_run.read_table(values["table"].encode(), columns=op.COLUMNS)
            entries = op.entries_from_rows(app.uow_factory, rows, app.settings.zone, _day(values["on"], _today(app)))
        else:
            first_row = 0
            due = _day(values["due_on"], date.min) if values["due_on"] else None
            if due == date.min:
                raise DomainError("VALUE_INVALID", "到期日格式应为 2026-10-31", "the due date should look like 2026-10-31",
                                  field="entries[0].due_on")
            entries = [op.OpeningInput(int(values["partner_id"]) if values["partner_id"].isdigit() else 0,
                                       values["amount"] or "0", _start(app, _day(values["on"], _today(app))),
                                       values["reference"] or None, due, values["side"] or None)]
        done = op.record_openings(app.uow_factory, entries, v.actor, app.clock.now())
    except DomainError as exc:
        errors, general = field_errors(request, exc)
        if first_row:  # a pasted table: name the spreadsheet row of each problem
            _ = gettext_for(request)
            general += [_("第 %(row)s 行：%(problem)s", row=first_row + int(k.split("-")[1]), problem=msg)
                        for k, msg in errors.items() if k.startswith("entries-")]
            errors = {}
        else:
            errors = {k.removeprefix("entries-0-"): msg for k, msg in errors.items()}
        return _openings_page(request, v, values, exc.status if exc.status != 400 else 422, errors, general)
    made = sum(1 for r in done if r.created)
    return RedirectResponse(f"/money/openings?done={made}-{len(done) - made}", status_code=303)
