"""鲜邻优选 — the community fresh-produce shop demo: one store, ~420 SKUs, 90 days.

A day in the shop (all through the services):
- 20:30 the evening before, 王主管 orders from each supplier what the next days
  will sell (采购订单, confirmed); 06:30 小张 receives it as a lot (批次 = the
  day) into the store (采购入库 against the order); now and then a supplier
  short-ships a line (the order stays partial and is closed at noon) or misses
  it altogether (the shelf runs empty: a stock-out).
- 07:00–21:00 the till uploads the counter sales every three hours (收银机上传, a
  sales posting with the lots it took, oldest first).
- 10:00 the WeChat group's 接龙 order and a few private WeChat orders arrive
  as sales orders and reserve stock; 15:00 they are delivered (销售出库 against
  the order, what could not be reserved is closed as out of stock).
- Money (应收应付): WeChat customers pay at delivery (微信支付, a few in cash); the
  kindergarten canteen buys on 7 days' terms and pays by bank every Wednesday. 城南蔬菜批发 is
  paid in cash on delivery each morning; the other suppliers have 7–30 days' terms and are
  paid every Monday (bank, WeChat Pay, Alipay). The till's walk-in sales raise nothing.
- 21:30 小张 scraps what expires tomorrow and some spoiled produce (报损, which
  the default rule sends to the manager); 王主管 approves it.
Weekends sell about 40% more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jxc.domain.documents import DocumentKind as K
from jxc.domain.ledger import Movement
from jxc.services import documents as docs
from jxc.services import masterdata, trade
from jxc.services.demo import Run, create_accounts, settle, virtual_ids, weekday_factor
from jxc.services.demo_catalog import Sku, fresh_catalog
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, PostingRequest, post

DEFAULT_DAYS = 30  # `jxc serve --demo`'s quick first run; `jxc demo` builds 90 (docs/benchmarks.md §6)
SUPPLIERS = (("GYS01", "城南蔬菜批发", ("叶菜", "根茎", "菌菇")), ("GYS02", "鲜果源水果行", ("水果",)),
             ("GYS03", "惠民肉联厂", ("肉禽", "水产")), ("GYS04", "光明乳品配送", ("蛋奶",)),
             ("GYS05", "好邻居粮油副食", ("粮油", "调味", "零食", "日用")))
SUPPLIER_TERMS = {"GYS01": (0, "CASH"), "GYS02": (7, "WX"), "GYS03": (15, "BANK"), "GYS04": (7, "ZFB"),
                  "GYS05": (30, "BANK")}  # 账期 days (0: cash on delivery) and the account paid from
CUSTOMERS = (("KH01", "门店散客"), ("KH02", "幸福里业主群(微信接龙)"), ("KH03", "张阿姨(微信)"),
             ("KH04", "3栋王先生(微信)"), ("KH05", "幸福里幼儿园食堂"), ("KH06", "刘老师(微信)"))
PAYS_AT_ONCE = {"KH02": "WX", "KH03": "WX", "KH04": "CASH", "KH06": "WX"}  # at delivery; KH05 on terms
CANTEEN = "KH05"
HOURS = (9, 12, 15, 18, 21)  # the till uploads what it sold in the three hours before
HOUR_SHARE = {9: 21, 12: 21, 15: 13, 18: 26, 21: 19}
_SHARE_SUM = sum(HOUR_SHARE.values())
ZERO = Decimal(0)


@dataclass
class Item:
    sku: Sku
    pid: int
    supplier: int
    every: int  # order every N days
    phase: int
    lots: list[list[Any]] = field(default_factory=list)  # [lot_id, expires_on, qty], oldest first
    reserved: Decimal = ZERO

    @property
    def on_hand(self) -> Decimal:
        return sum((x[2] for x in self.lots), ZERO)

    @property
    def free(self) -> Decimal:
        return self.on_hand - self.reserved


@dataclass
class Shop:
    items: list[Item]
    store: int
    shelf: int
    suppliers: list[int]
    customers: dict[str, int]
    virtual: dict[str, int]
    open_orders: list[tuple[int, date]] = field(default_factory=list)  # purchase orders to receive
    stockouts: int = 0
    accounts: dict[str, int] = field(default_factory=dict)


def _every(sku: Sku) -> int:
    life = sku.shelf_life_days
    if life is None:
        return 14
    return 1 if life <= 3 else 3 if life <= 7 else 5


def setup(run: Run, size: int | None) -> Shop:
    f, day0 = run.f, run.at(run.day(-1), 9)
    store = masterdata.create(f, "warehouses", {"code": "MD01", "name": "鲜邻优选(幸福里店)", "kind": "store"},
                              SYSTEM, day0)
    with f() as uow:
        shelf = uow.records.find("locations", code="MD01-01")["id"]
    suppliers = [masterdata.create(f, "partners", {"code": code, "name": name, "role": "supplier",
                                                   "lead_time_days": 1,
                                                   "payment_terms_days": SUPPLIER_TERMS[code][0]}, SYSTEM, day0)
                 for code, name, _ in SUPPLIERS]
    customers = {code: masterdata.create(f, "partners", {"code": code, "name": name, "role": "customer",
                                                         **({"payment_terms_days": 7} if code == CANTEEN else {})},
                                         SYSTEM, day0)
                 for code, name in CUSTOMERS}
    by_cat = {cat: i for i, (_, _, cats) in enumerate(SUPPLIERS) for cat in cats}
    items = []
    for n, sku in enumerate(fresh_catalog(size or 420)):
        tracked = sku.shelf_life_days is not None
        pid = masterdata.create(f, "products", {
            "code": sku.code, "name": sku.name, "spec": sku.spec, "category": sku.category, "base_unit": sku.unit,
            "tracking": "lot" if tracked else "none", "shelf_life_days": sku.shelf_life_days,
            "safety_stock": str(sku.demand.quantize(Decimal(1))),
            **({"expiry_block_days": 1, "expiry_warn_days": 2} if tracked else {})}, SYSTEM, day0)
        if sku.case_unit:
            masterdata.add_unit_conversion(f, pid, sku.case_unit, sku.case_factor, SYSTEM, day0)
        masterdata.add_barcode(f, pid, sku.barcode, SYSTEM, day0)
        every = _every(sku)
        items.append(Item(sku, pid, suppliers[by_cat[sku.category]], every, n % every))
    shop = Shop(items, store, shelf, suppliers, customers, virtual_ids(f), accounts=create_accounts(run))
    _opening(run, shop)
    _order(run, shop, run.day(0), run.day(-1), everything=True)  # stock the shelves for the first morning
    return shop


def _opening(run: Run, shop: Shop) -> None:
    """期初 — the shelf-stable goods already in the shop on day one."""
    lines = []
    for it in shop.items:
        if it.sku.shelf_life_days is None:
            qty = (it.sku.demand * 10).quantize(Decimal(1), rounding="ROUND_CEILING")
            lines.append(LineInput(it.pid, qty, unit_price=str(it.sku.cost), location_id=shop.shelf))
            it.lots = [[0, None, qty]]
    if lines:
        at = run.at(run.day(-1), 18)
        doc = docs.create_draft(run.f, DraftInput(K.OPENING_BALANCE, shop.store, tuple(lines), effective_at=at,
                                                  remark="开业期初库存"), run.actors["laoban"], at)
        docs.submit(run.f, doc, run.actors["laoban"], at)
        run.documents += 1
        run.postings += 1


def simulate_day(run: Run, shop: Shop, i: int) -> None:
    day = run.day(i)
    wf = weekday_factor(day)
    _receive(run, shop, day)
    orders: list[int] = []
    for hour in HOURS:
        _till(run, shop, day, hour, wf)
        if hour == 9:
            orders = _wechat_orders(run, shop, day, wf)
        if hour == 15:
            _deliver(run, shop, day, orders)
    _scrap(run, shop, day)
    _order(run, shop, day + timedelta(days=1), day)
    if day.weekday() == 0:
        _pay_suppliers(run, shop, day)
    if day.weekday() == 2:
        settle(run, shop.customers[CANTEEN], True, shop.accounts["BANK"], day, run.at(day, 11), "食堂周结")


def _pay_suppliers(run: Run, shop: Shop, day: date) -> None:
    """付款 — Monday evening: each supplier on terms is paid what falls due in the next week."""
    for (code, _, _), supplier in zip(SUPPLIERS, shop.suppliers, strict=True):
        days, account = SUPPLIER_TERMS[code]
        if days:
            settle(run, supplier, False, shop.accounts[account], day + timedelta(days=6), run.at(day, 21, 50),
                   "按账期付款")


def _order(run: Run, shop: Shop, for_day: date, day: date, everything: bool = False) -> None:
    """20:30 — one purchase order per supplier for what is due tomorrow (以销定购 by cover days)."""
    at = run.at(day, 20, 30)
    manager = run.actors["zhuguan"]
    wf = sum(weekday_factor(for_day + timedelta(days=k)) for k in range(3)) / 3
    for supplier in shop.suppliers:
        lines = []
        for it in shop.items:
            if it.supplier != supplier or not (everything or (for_day - run.start).days % it.every == it.phase):
                continue
            cover = it.sku.demand * Decimal(wf) * (it.every + (2 if it.sku.shelf_life_days else 7))
            need = cover - it.on_hand
            if need <= 0:
                continue
            if it.sku.case_unit and need >= it.sku.case_factor:
                lines.append(trade.OrderLineInput(it.pid, math.ceil(need / it.sku.case_factor), it.sku.case_unit,
                                                  str(it.sku.cost * it.sku.case_factor)))
            else:
                lines.append(trade.OrderLineInput(it.pid, need.quantize(Decimal(1), rounding="ROUND_CEILING"),
                                                  it.sku.unit, str(it.sku.cost)))
        if lines:
            oid = trade.create_order(run.f, "purchase", supplier, shop.store, lines, manager, at,
                                     needed_on=run.at(for_day, 6), remark="明早到货")
            trade.confirm_order(run.f, oid, manager, at)
            shop.open_orders.append((oid, for_day))


def _receive(run: Run, shop: Shop, day: date) -> None:
    """06:30 — receive today's orders, lot by lot; a few lines short or missing."""
    keeper, rng = run.actors["cangguan"], run.rng
    at = run.at(day, 6, 30)
    by_pid = {it.pid: it for it in shop.items}
    due = [o for o in shop.open_orders if o[1] <= day]
    shop.open_orders = [o for o in shop.open_orders if o[1] > day]
    for oid, _ in due:
        order = trade.get_order(run.f, oid)
        lines, short = [], False
        for ln in order["lines"]:
            it = by_pid[ln["product_id"]]
            roll = rng.random()
            if roll < 0.015:  # missed: the shelf may run empty
                short = True
                continue
            qty = ln["qty"]
            if roll < 0.05 and qty > 1:
                qty = max(Decimal(1), (qty * Decimal(rng.uniform(0.5, 0.9))).quantize(Decimal(1)))
                short = True
            lot = 0
            if it.sku.shelf_life_days is not None:
                lot = masterdata.create_lot(run.f, it.pid, f"{day:%Y%m%d}", keeper, at, produced_on=day)
            price = (ln["unit_price"] * ln["qty_base"] / ln["qty"] * Decimal(rng.uniform(0.95, 1.06))
                     ).quantize(Decimal("0.01"))
            lines.append(LineInput(it.pid, qty, ln["unit"], lot, str(price), shop.shelf,
                                   order_line_id=ln["id"]))
            base = qty * (ln["qty_base"] / ln["qty"])
            expires = day + timedelta(days=it.sku.shelf_life_days) if lot else None
            if lot:
                it.lots.append([lot, expires, base])
            elif it.lots:
                it.lots[0][2] += base
            else:
                it.lots = [[0, None, base]]
        if lines:
            doc = docs.create_draft(run.f, DraftInput(K.PURCHASE_RECEIPT, shop.store, tuple(lines), effective_at=at,
                                                      partner_id=order["partner_id"],
                                                      remark=f"按订单 {order['number']} 到货"), keeper, at)
            docs.submit(run.f, doc, keeper, at)
            run.documents += 1
            run.postings += 1
            days, account = SUPPLIER_TERMS[SUPPLIERS[shop.suppliers.index(order["partner_id"])][0]]
            if days == 0:  # 现结: the driver is paid from the till's cash
                settle(run, order["partner_id"], False, shop.accounts[account], day, run.at(day, 6, 45), "货到付款")
        if short:
            trade.close_order(run.f, oid, run.actors["zhuguan"], run.at(day, 12), "供应商缺货，余量取消")


def _take(it: Item, qty: Decimal) -> list[tuple[int, Decimal]]:
    """Oldest lot first (the lots share a shelf life, so this is FEFO too)."""
    out = []
    for x in it.lots:
        if qty <= 0:
            break
        q = min(x[2], qty)
        if q > 0:
            out.append((x[0], q))
            x[2] -= q
            qty -= q
    it.lots = [x for x in it.lots if x[2] > 0 or x[0] == 0]
    return out


def _till(run: Run, shop: Shop, day: date, hour: int, wf: float) -> None:
    """收银机上传 — the hour's counter sales as one posting with the lots taken."""
    rng = run.rng
    share = HOUR_SHARE[hour] / _SHARE_SUM * wf * 0.8  # the other fifth is sold through WeChat
    moves = []
    for it in shop.items:
        mean = float(it.sku.demand) * share
        if mean < 1:  # slow sellers: one unit now and then
            if rng.random() > mean:
                continue
            want = Decimal(1)
        else:
            want = Decimal(max(1, round(rng.gauss(mean, mean / 4))))
        if it.free <= 0:
            shop.stockouts += 1
            continue
        for lot, q in _take(it, min(want, it.free)):
            moves.append(Movement(it.pid, q, shop.shelf, shop.virtual["V-CUSTOMER"], lot_id=lot))
    if moves:
        at = run.at(day, hour - 1, 59)
        post(run.f, PostingRequest("sales_delivery", tuple(moves), at, idempotency_key=f"pos-MD01-{day}-{hour}",
                                   reference=f"POS-MD01-{day:%Y%m%d}-{hour:02d}", remark="收银机上传 / till upload"),
             run.actors["shouyin"], at)
        run.postings += 1


def _wechat_orders(run: Run, shop: Shop, day: date, wf: float) -> list[int]:
    """10:00 — the group's 接龙 and a few private orders: sales orders that reserve stock."""
    rng, sales = run.rng, run.actors["shouyin"]
    at = run.at(day, 10)
    produce = [it for it in shop.items if it.sku.shelf_life_days is not None and it.sku.demand >= 3]
    buyers = [("KH02", rng.randint(8, 16))] + [(c, rng.randint(2, 5)) for c in ("KH03", "KH04", "KH05", "KH06")
                                              if rng.random() < 0.3 * wf]
    orders = []
    for code, n in buyers:
        picked = rng.sample(produce, k=min(n, len(produce)))
        lines = [trade.OrderLineInput(it.pid, max(Decimal(1), (it.sku.demand * Decimal(0.2 * wf)).quantize(Decimal(1))),
                                      it.sku.unit, str(it.sku.price)) for it in picked]
        oid = trade.create_order(run.f, "sales", shop.customers[code], shop.store, lines, sales, at,
                                 needed_on=run.at(day, 17), remark="微信群接龙" if code == "KH02" else "微信下单")
        trade.confirm_order(run.f, oid, sales, at)
        for ln in trade.get_order(run.f, oid)["lines"]:
            it = next(x for x in picked if x.pid == ln["product_id"])
            it.reserved += ln["qty_base"] - ln["shortage"]
        orders.append(oid)
    return orders


def _deliver(run: Run, shop: Shop, day: date, orders: list[int]) -> None:
    """15:00 — deliver what each order holds; what could not be held is closed as out of stock."""
    sales = run.actors["shouyin"]
    at = run.at(day, 15, 10)
    by_pid = {it.pid: it for it in shop.items}
    for oid in orders:
        order = trade.get_order(run.f, oid)
        held = {ln["line_no"]: ln["qty_base"] - ln["shortage"] for ln in order["lines"]
                if ln["qty_base"] - ln["shortage"] > 0}
        if held:
            trade.deliver(run.f, oid, held, sales, at)
            run.documents += 1
            run.postings += 1
            code = next(c for c, pid in shop.customers.items() if pid == order["partner_id"])
            if code in PAYS_AT_ONCE:
                settle(run, order["partner_id"], True, shop.accounts[PAYS_AT_ONCE[code]], None,
                       at + timedelta(minutes=5), "微信支付" if PAYS_AT_ONCE[code] == "WX" else "现金")
        for ln in order["lines"]:
            it = by_pid[ln["product_id"]]
            it.reserved -= ln["qty_base"] - ln["shortage"]
        _refresh(run, shop, [by_pid[ln["product_id"]] for ln in order["lines"]])
        if any(ln["shortage"] > 0 for ln in order["lines"]):
            trade.close_order(run.f, oid, sales, at, "部分缺货，已告知顾客")


def _refresh(run: Run, shop: Shop, items: list[Item]) -> None:
    """After the service picked lots itself, read back what each lot holds."""
    with run.f() as uow:
        for it in items:
            held = {x.lot_id: x.qty for x in uow.reservations.stock_lines(it.pid, shop.store) if x.status == "available"}
            for x in it.lots:
                x[2] = held.get(x[0], ZERO)
            it.lots = [x for x in it.lots if x[2] > 0 or x[0] == 0]


def _scrap(run: Run, shop: Shop, day: date) -> None:
    """21:30 — 报损: what expires tomorrow, and some spoiled produce; the manager approves."""
    rng, keeper = run.rng, run.actors["cangguan"]
    expiring, spoiled = [], []
    for it in shop.items:
        for x in it.lots:
            if not x[0] or x[2] <= 0:
                continue
            if x[1] <= day + timedelta(days=1):
                expiring.append(LineInput(it.pid, x[2], lot_id=x[0], location_id=shop.shelf))
                x[2] = ZERO
            elif x[2] >= 4 and rng.random() < 0.02:
                q = Decimal(rng.randint(1, int(x[2]) // 4 + 1))
                spoiled.append(LineInput(it.pid, q, lot_id=x[0], location_id=shop.shelf))
                x[2] -= q
        it.lots = [x for x in it.lots if x[2] > 0 or x[0] == 0]
    for reason, lines in (("expired", expiring), ("spoiled", spoiled)):
        if not lines:
            continue
        at = run.at(day, 21, 30)
        doc = docs.create_draft(run.f, DraftInput(K.SCRAP, shop.store, tuple(lines), effective_at=at, reason_code=reason,
                                                  remark="晚间清货：明日到期" if reason == "expired" else "腐烂变质"),
                                keeper, at)
        docs.submit(run.f, doc, keeper, at)
        docs.approve(run.f, doc, replace(run.actors["zhuguan"], reauthenticated=True), run.at(day, 21, 45),
                     "已核实")
        run.documents += 1
        run.postings += 1


def finish(run: Run, shop: Shop) -> list[str]:
    """Leave the shop as it stands tonight: tomorrow's orders placed, tomorrow's 接龙 reserved, and a
    scrap the keeper found late waiting for the manager (未生效: it does not count yet)."""
    last = run.day(run.days - 1)
    at = run.at(last, 21, 50)
    produce = [it for it in shop.items if it.sku.shelf_life_days and it.on_hand >= 3]
    if produce:
        it = produce[len(produce) // 2]
        lot = next(x for x in it.lots if x[0] and x[2] >= 1)
        doc = docs.create_draft(run.f, DraftInput(K.SCRAP, shop.store, (LineInput(it.pid, 1, lot_id=lot[0],
                                                                                  location_id=shop.shelf),),
                                                  effective_at=at, reason_code="damaged", remark="搬运压坏"),
                                run.actors["cangguan"], at)
        docs.submit(run.f, doc, run.actors["cangguan"], at)
        lot[2] -= 1
        lines = [trade.OrderLineInput(x.pid, 1, x.sku.unit, str(x.sku.price)) for x in produce[:6] if x.free >= 2]
        if lines:
            oid = trade.create_order(run.f, "sales", shop.customers["KH02"], shop.store, lines, run.actors["shouyin"],
                                     at, needed_on=run.at(last + timedelta(days=1), 15), remark="明日微信群接龙")
            trade.confirm_order(run.f, oid, run.actors["shouyin"], at)
    empty = sum(1 for it in shop.items if it.on_hand <= 0)
    low = sum(1 for it in shop.items if 0 < it.on_hand < it.sku.demand)
    return [f"售罄次数 stock-out events: {shop.stockouts}", f"当前缺货 SKU out of stock now: {empty}",
            f"低于安全库存 below safety stock: {low}",
            f"待到货采购订单 purchase orders awaiting delivery: {len(shop.open_orders)}"]
