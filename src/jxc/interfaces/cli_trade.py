"""命令行：采购与销售 — orders, quick sale, returns, prices, 以销定购 suggestions, scorecard, reports.

Products, warehouses and partners are named by code; quantities per order line are `LINE=QTY`.
Commands run as the command-line operator (all permissions), like the other admin commands.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jxc.bootstrap import App, build
from jxc.config import Settings
from jxc.domain.errors import DomainError
from jxc.services import pricing, purchasing, reports, trade
from jxc.services.posting import Actor

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder (JXC_DATA_DIR)")]
CLI_ACTOR = Actor("cli", frozenset({"*"}))
order_app = typer.Typer(help="采购/销售订单 / purchase and sales orders", no_args_is_help=True)
price_app = typer.Typer(help="价格表与供货条件 / price lists and supplier terms", no_args_is_help=True)
suggest_app = typer.Typer(help="以销定购建议 / purchase suggestions", no_args_is_help=True)


def _app(data_dir: Path | None) -> App:
    return build(Settings(data_dir=data_dir) if data_dir else Settings())


def _fail(exc: DomainError) -> typer.Exit:
    Console(stderr=True).print(f"[red]错误 {exc.code}[/red]：{exc.message_zh}\n[red]error {exc.code}[/red]: "
                               f"{exc.message_en}")
    for p in (exc.details or {}).get("problems", []):
        Console(stderr=True).print(f"  {p['field']}: {p['message_zh']} / {p['message_en']}")
    return typer.Exit(code=2)


def _id(a: App, table: str, code: str) -> int:
    rows = a.queries.page_records(table, None, 1, code=code)
    if not rows:
        raise DomainError("NOT_FOUND", f"编码 {code} 不存在", f"no {table[:-1]} with code {code}", field="code")
    return rows[0]["id"]


def _pairs(items: list[str]) -> dict[int, str]:
    out = {}
    for item in items:
        no, _, qty = item.partition("=")
        if not no.isdigit() or not qty:
            raise DomainError("VALUE_INVALID", f"“{item}”应写成 行号=数量，如 1=5", f"'{item}': write LINE=QTY, e.g. 1=5",
                              field="qty")
        out[int(no)] = qty
    return out


def _lines(a: App, items: list[str]) -> list[trade.OrderLineInput]:
    """CODE:QTY[:UNIT[:PRICE]] per line."""
    out = []
    for item in items:
        code, qty, unit, price = (item.split(":") + ["", "", ""])[:4]
        out.append(trade.OrderLineInput(_id(a, "products", code), qty, unit or None, price or None))
    return out


def _show(rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        Console().print(f"{title}: 无 / none")
        return
    cols = [k for k in rows[0] if k not in ("lines",)]
    table = Table(*cols, title=title)
    for r in rows:
        table.add_row(*("" if r[k] is None else str(r[k]) for k in cols))
    Console().print(table)


@order_app.command("create")
def order_create(kind: Annotated[str, typer.Argument(help="purchase | sales")],
                 partner: Annotated[str, typer.Option(help="partner code 往来单位编码")],
                 warehouse: Annotated[str, typer.Option(help="warehouse code 仓库编码")],
                 line: Annotated[list[str], typer.Option(help="CODE:QTY[:UNIT[:PRICE]]; no price: the price list")],
                 needed_on: Annotated[datetime | None, typer.Option(help="needed by (date) 需求日期")] = None,
                 data_dir: DataDir = None) -> None:
    """新建订单 / create a purchase or sales order (draft)."""
    a = _app(data_dir)
    try:
        needed = None if needed_on is None else datetime.combine(needed_on.date(), time(23, 59), a.settings.zone)
        oid = trade.create_order(a.uow_factory, kind, _id(a, "partners", partner), _id(a, "warehouses", warehouse),
                                 _lines(a, line), CLI_ACTOR, a.clock.now(), needed)
    except DomainError as exc:
        raise _fail(exc) from exc
    _order(a, oid)


def _order(a: App, oid: int) -> None:
    o = trade.get_order(a.uow_factory, oid)
    Console().print(f"{o['number']}  id={o['id']}  {o['kind']}  状态 state={o['state']}")
    _show([{k: ln[k] for k in ("line_no", "product_id", "unit", "qty", "qty_base", "qty_done", "unit_price",
                               "shortage")} for ln in o["lines"]], "明细 lines")


def _act(fn: Any, data_dir: Path | None, *args: Any) -> Any:
    a = _app(data_dir)
    try:
        return a, fn(a.uow_factory, *args, CLI_ACTOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc


@order_app.command("confirm")
def order_confirm(order_id: int, data_dir: DataDir = None) -> None:
    """确认订单 / confirm: a sales order reserves stock; shortfalls become purchase suggestions."""
    a, shortages = _act(trade.confirm_order, data_dir, order_id)
    _order(a, order_id)
    _show(shortages, "缺货 → 采购建议 / shortfalls → suggestions")


@order_app.command("deliver")
def order_deliver(order_id: int, qty: Annotated[list[str] | None, typer.Option(help="LINE=QTY (base units)")] = None,
                  data_dir: DataDir = None) -> None:
    """按订单出库 / deliver against a sales order (default: everything outstanding)."""
    a, doc = _act(trade.deliver, data_dir, order_id, _pairs(qty) if qty else None)
    Console().print(f"出库单 delivery id={doc}")
    _order(a, order_id)


@order_app.command("receive")
def order_receive(order_id: int, qty: Annotated[list[str] | None, typer.Option(help="LINE=QTY (base units)")] = None,
                  freight: Annotated[str | None, typer.Option(help="运费 freight in 元, split over the lines")] = None,
                  freight_basis: Annotated[str | None, typer.Option(help="amount (按金额, default) or qty (按数量)")] = None,
                  data_dir: DataDir = None) -> None:
    """按订单入库 / receive against a purchase order; beyond the tolerance it waits for approval.

    ``--freight`` is split over the receipt's lines into their cost and owed to the supplier."""
    receive = partial(trade.receive, freight=freight, freight_basis=freight_basis)
    a, doc = _act(receive, data_dir, order_id, _pairs(qty) if qty else None)
    Console().print(f"入库单 receipt id={doc}")
    _order(a, order_id)


@order_app.command("close")
def order_close(order_id: int, reason: Annotated[str | None, typer.Option()] = None, data_dir: DataDir = None) -> None:
    """关闭订单 / close (or cancel a draft); releases what is still reserved."""
    a = _app(data_dir)
    try:
        trade.close_order(a.uow_factory, order_id, CLI_ACTOR, a.clock.now(), reason)
    except DomainError as exc:
        raise _fail(exc) from exc
    _order(a, order_id)


@order_app.command("show")
def order_show(order_id: int, data_dir: DataDir = None) -> None:
    """订单详情 / one order with its lines."""
    a = _app(data_dir)
    try:
        _order(a, order_id)
    except DomainError as exc:
        raise _fail(exc) from exc


@order_app.command("list")
def order_list(kind: Annotated[str | None, typer.Option()] = None, state: Annotated[str | None, typer.Option()] = None,
               limit: int = 50, data_dir: DataDir = None) -> None:
    """订单列表 / orders by id, filtered by kind and state."""
    a = _app(data_dir)
    rows = trade.list_orders(a.uow_factory, CLI_ACTOR, None, limit, kind=kind, state=state)
    _show([{k: r[k] for k in ("id", "number", "kind", "state", "partner_id", "warehouse_id", "needed_on")}
           for r in rows], "订单 orders")


def quick_sale(warehouse: Annotated[str, typer.Option(help="warehouse / store code")],
               line: Annotated[list[str], typer.Option(help="CODE:QTY[:UNIT[:PRICE]]")],
               customer: Annotated[str | None, typer.Option(help="customer code; none: walk-in 散客")] = None,
               channel: Annotated[str, typer.Option()] = "store", member: bool = False,
               data_dir: DataDir = None) -> None:
    """开单 / quick sale: order and delivery in one step, priced from the price list."""
    a = _app(data_dir)
    try:
        inp = trade.QuickSaleInput(_id(a, "warehouses", warehouse), tuple(_lines(a, line)),
                                   _id(a, "partners", customer) if customer else None, channel, member)
        doc = trade.quick_sale(a.uow_factory, inp, CLI_ACTOR, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"{doc['number']}  状态 state={doc['state']}")
    _show([{"line": ln["line_no"], "product_id": ln["product_id"], "qty": ln["qty"], "unit_price": ln["unit_price"],
            "price source": (s["source"] or {}).get("label_zh", "手工 entered")}
           for ln, s in zip(doc["lines"], doc["price_sources"], strict=False)], "明细 lines")


def return_goods(document_id: Annotated[int, typer.Argument(help="the posted receipt / delivery")],
                 qty: Annotated[list[str], typer.Option(help="LINE=QTY (base units)")],
                 reason_code: Annotated[str | None, typer.Option()] = None,
                 reason: Annotated[str | None, typer.Option(help="reason text 退货原因")] = None,
                 data_dir: DataDir = None) -> None:
    """退货 / return against a purchase receipt or sales delivery, at its cost (reason required)."""
    a = _app(data_dir)
    try:
        doc = trade.return_goods(a.uow_factory, document_id, _pairs(qty), CLI_ACTOR, a.clock.now(), reason_code,
                                 reason)
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print(f"退货单 return id={doc}")


@price_app.command("set")
def price_set(product: str, tier: Annotated[str, typer.Option(help="default | customer | channel | member")],
              price: Annotated[str, typer.Option()], unit: Annotated[str | None, typer.Option()] = None,
              customer: Annotated[str | None, typer.Option()] = None,
              channel: Annotated[str | None, typer.Option()] = None, data_dir: DataDir = None) -> None:
    """定价 / set one price-list row."""
    a = _app(data_dir)
    try:
        pricing.set_price(a.uow_factory, _id(a, "products", product), tier, price, CLI_ACTOR, a.clock.now(), unit,
                          _id(a, "partners", customer) if customer else None, channel)
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print("已保存 / saved")


@price_app.command("resolve")
def price_resolve(product: str, unit: Annotated[str | None, typer.Option()] = None,
                  customer: Annotated[str | None, typer.Option()] = None,
                  channel: Annotated[str | None, typer.Option()] = None, member: bool = False,
                  data_dir: DataDir = None) -> None:
    """取价 / which price applies, and why."""
    a = _app(data_dir)
    try:
        q = pricing.PriceQuery(_id(a, "products", product), unit, _id(a, "partners", customer) if customer else None,
                               channel, member)
        got = pricing.resolve(a.uow_factory, q, a.clock.now())
    except DomainError as exc:
        raise _fail(exc) from exc
    s = got["source"]
    Console().print(f"{got['unit_price'].normalize():f} / {got['unit']}  来源 {s['label_zh']} / {s['label_en']}"
                    f"{'（按单位换算）' if s.get('converted') else ''}")


@price_app.command("supplier")
def price_supplier(product: str, supplier: Annotated[str, typer.Option()],
                   price: Annotated[str | None, typer.Option(help="per base unit")] = None,
                   pack_unit: Annotated[str | None, typer.Option(help="箱规 unit, e.g. 箱")] = None,
                   lead_days: Annotated[int | None, typer.Option()] = None, preferred: bool = False,
                   data_dir: DataDir = None) -> None:
    """供货条件 / a supplier's default price, pack size, lead time; preferred supplier."""
    a = _app(data_dir)
    try:
        pricing.set_supplier_terms(a.uow_factory, _id(a, "partners", supplier), _id(a, "products", product),
                                   CLI_ACTOR, a.clock.now(), price, pack_unit, lead_days, preferred)
    except DomainError as exc:
        raise _fail(exc) from exc
    Console().print("已保存 / saved")


@suggest_app.command("list")
def suggest_list(state: Annotated[str, typer.Option()] = "open", data_dir: DataDir = None) -> None:
    """以销定购建议 / purchase suggestions (shortfall, supplier, needed and order-by dates)."""
    a = _app(data_dir)
    _show(purchasing.list_suggestions(a.uow_factory, state, None, 500), "采购建议 suggestions")


@suggest_app.command("convert")
def suggest_convert(suggestion_id: Annotated[list[int] | None, typer.Argument()] = None,
                    data_dir: DataDir = None) -> None:
    """一键生成采购订单 / open suggestions → draft purchase orders, one per supplier."""
    a, made = _act(purchasing.convert, data_dir, suggestion_id or None)
    for oid in made:
        _order(a, oid)


def scorecard(supplier: Annotated[str | None, typer.Option()] = None, months: int = 3,
              data_dir: DataDir = None) -> None:
    """供应商考核 / on-time, fill and return rates (return rate > 15 % flagged)."""
    a = _app(data_dir)
    rows = purchasing.scorecard(a.uow_factory, CLI_ACTOR, a.clock.now(),
                                _id(a, "partners", supplier) if supplier else None, months)
    _show([{k: r[k] for k in ("code", "name", "receipts", "on_time_rate", "fill_rate", "return_rate",
                              "return_rate_flag")} for r in rows], "供应商考核 scorecard")


def report(name: Annotated[str, typer.Argument(help=", ".join(reports.GROUPINGS))],
           by: Annotated[str, typer.Option(help="product | partner | warehouse | document | day | month")] = "product",
           since: Annotated[datetime | None, typer.Option()] = None,
           until: Annotated[datetime | None, typer.Option()] = None, offset: int = 0, limit: int = 50,
           data_dir: DataDir = None) -> None:
    """报表 / purchase & sales summaries, gross profit, fulfilment and fill rates."""
    a = _app(data_dir)
    zone = a.settings.zone
    off = a.clock.now().astimezone(zone).utcoffset()
    flt = reports.ReportFilter(since and since.replace(tzinfo=zone), until and until.replace(tzinfo=zone),
                               utc_offset_minutes=int(off.total_seconds() // 60) if off else 0)
    try:
        page = reports.run(a.queries, CLI_ACTOR, name, by, flt, offset, limit)
    except DomainError as exc:
        raise _fail(exc) from exc
    _show(page["items"], f"{name} by {page['by']}")
    if page["next_offset"] is not None:
        Console().print(f"下一页 / next page: --offset {page['next_offset']}")


def register(app: typer.Typer) -> None:
    app.add_typer(order_app, name="order")
    app.add_typer(price_app, name="price")
    app.add_typer(suggest_app, name="suggestions")
    app.command("quick-sale")(quick_sale)
    app.command("return")(return_goods)
    app.command("scorecard")(scorecard)
    app.command("report")(report)
