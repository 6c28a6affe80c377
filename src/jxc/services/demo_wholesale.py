"""宏达建材 — the building-materials wholesaler demo: ~2,000 SKUs, three warehouses, a quarter of trade.

A quarter at 宏达建材 (all through the services):
- 总仓 (central), 东区仓 and 西区门市 (a store) open with stock (期初).
- Contractors and decoration companies on credit order most weekdays (销售订单,
  reserved at once); 总仓 delivers the next day, often in two parts (partial
  deliveries), and what could not be held is closed short.
- Every Monday 王主管 orders from each supplier what fell below its reorder
  point; suppliers deliver after their lead time, often partly, the rest a few
  days later (purchase orders with partial receipts); a few are closed short.
- Twice a week 总仓 tops up the two branches (调拨 through transit); the
  branch confirms receipt the next day (签收), once with a shortfall (在途差异);
  the last transfers are still in transit tonight.
- Money (应收应付): contractors buy on 账期 (7, 15 or 30 days) within a credit limit and
  pay weekly by bank transfer, WeChat Pay or Alipay — most on time; 匠心木作 pays about 40
  days late, 锦绣家园物业 about 70, and 老周水电 (cash on delivery) has paid nothing since the
  goods he took home on go-live evening, so the ageing report fills every bucket. A customer
  over its limit pays some of what it owes before the order is confirmed; 华庭物业's lobby
  renovation, one big order over its 3万 limit, is approved by the owner (信用超额审批, audited).
  Every Friday the owner pays the suppliers what falls due in the next week (账期 15–60 days,
  by bank); three want paying on delivery (货到付款: WeChat Pay, Alipay, cash).
- Ten days ago 东区仓 ran its quarterly count of tiles and sanitary ware (盘点); the variances became a
  count adjustment the managers approved.
Sundays are quiet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import Conflict
from jxc.domain.money import BUCKET_LABELS, BUCKETS, PaymentKind
from jxc.services import counting, counting_close, masterdata, money, money_reads, trade, transfers
from jxc.services import documents as docs
from jxc.services.demo import Run, create_accounts, settle
from jxc.services.demo_catalog import WHOLESALE, Sku, wholesale_catalog
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor

DEFAULT_DAYS = 90
WAREHOUSES = (("ZC", "宏达建材总仓", "warehouse"), ("DQ", "东区仓", "warehouse"), ("XQ", "西区门市", "store"))
SUPPLIERS = ("佛山金陶瓷砖厂", "南安洁具有限公司", "联塑管业经销处", "立邦涂料华东仓", "雨虹防水代理",
             "北新板材批发", "远东电缆直营", "永康五金城")
CUSTOMERS = ("城建装饰工程公司", "美家装修", "锦绣家园物业", "恒通水电安装队", "新居易装饰", "宏图建筑劳务",
             "安居建材门店", "匠心木作", "东方装饰设计", "老周水电", "蓝天防水工程", "金牌装修队", "华庭物业",
             "鑫源市政工程", "家和装饰", "速美翻新", "居然好家装", "万象工程队", "诚信瓷砖铺贴", "大地幕墙",
             "阳光家装", "筑梦工程", "百合装饰", "旭日水电", "方圆建设")
ZERO = Decimal(0)
SUPPLIER_TERMS = ((30, "BANK"), (45, "BANK"), (15, "BANK"), (0, "WX"), (60, "BANK"), (30, "BANK"), (0, "ZFB"),
                  (0, "CASH"))  # 账期 days (0: 货到付款, paid on receipt) and the account the owner pays from
LATE = {"匠心木作": 40, "锦绣家园物业": 70}  # pays this many days after the due date (15 / 7 days' terms)
NEVER = "老周水电"  # 现结 (cash on delivery), yet has paid nothing since go-live evening
BIG = "华庭物业"  # the lobby renovation: one order over its limit, approved by the owner
SALES_PER_DAY = 36000  # ≈ what a day of sales orders is worth (4–8 orders of 2–7 lines)


@dataclass(frozen=True)
class Terms:
    """How a customer pays: 账期, days late (None: never), from which account, on which weekday."""

    days: int
    late: int | None
    account: str
    weekday: int
    limit: int


def customer_terms(i: int, name: str) -> Terms:
    """Deterministic per customer; the limit covers its usual share of sales over terms + lateness + a fortnight."""
    share = (i + 1) ** -1.2 - (i + 2) ** -1.2 if i < len(CUSTOMERS) - 1 else len(CUSTOMERS) ** -1.2
    days = 0 if name == NEVER else (30, 15, 7)[i % 3]
    late = None if name == NEVER else LATE.get(name, 0)
    limit = 30000 if name == BIG else max(30000, math.ceil(1.6 * share * SALES_PER_DAY * (
        days + (late if late is not None else 90) + 14) / 10000) * 10000)
    account = "CASH" if name == NEVER else ("BANK", "BANK", "WX", "ZFB")[i % 4]
    return Terms(days, late, account, i % 5, limit)


@dataclass
class Item:
    sku: Sku
    pid: int
    supplier: int
    reorder: Decimal  # reorder point at 总仓, base units


@dataclass
class Book:
    items: list[Item]
    wh: dict[str, int]
    shelf: dict[str, int]
    suppliers: list[int]
    customers: list[int]
    stock: dict[tuple[str, int], Decimal] = field(default_factory=dict)  # (warehouse code, product) -> free
    to_deliver: list[tuple[int, date]] = field(default_factory=list)  # sales orders, due day
    to_receive: list[tuple[int, date]] = field(default_factory=list)  # purchase orders, due day
    in_transit: list[tuple[int, date]] = field(default_factory=list)  # transfers, arrival day
    on_order: set[int] = field(default_factory=set)  # products with an open purchase order
    count_day: int = -1
    short_receipt_done: bool = False
    accounts: dict[str, int] = field(default_factory=dict)
    terms: dict[int, Terms] = field(default_factory=dict)  # customer id -> how it pays
    big_day: int = -1
    overrides: int = 0
    paydowns: int = 0


def setup(run: Run, size: int | None) -> Book:
    f, day0 = run.f, run.at(run.day(-1), 9)
    wh, shelf = {}, {}
    for code, name, kind in WAREHOUSES:
        wh[code] = masterdata.create(f, "warehouses", {"code": code, "name": name, "kind": kind}, SYSTEM, day0)
        with f() as uow:
            shelf[code] = uow.records.find("locations", code=f"{code}-01")["id"]
    suppliers = [masterdata.create(f, "partners", {"code": f"GYS{i + 1:02d}", "name": name, "role": "supplier",
                                                   "lead_time_days": 2 + i % 4,
                                                   "payment_terms_days": SUPPLIER_TERMS[i][0]}, SYSTEM, day0)
                 for i, name in enumerate(SUPPLIERS)]
    terms = [customer_terms(i, name) for i, name in enumerate(CUSTOMERS)]
    customers = [masterdata.create(f, "partners", {"code": f"KH{i + 1:03d}", "name": name, "role": "customer",
                                                   "credit_limit": str(t.limit), "payment_terms_days": t.days},
                                   SYSTEM, day0)
                 for i, (name, t) in enumerate(zip(CUSTOMERS, terms, strict=True))]
    cats = [c[0] for c in WHOLESALE]
    items = []
    for sku in wholesale_catalog(size or 2000):
        pid = masterdata.create(f, "products", {
            "code": sku.code, "name": sku.name, "spec": sku.spec, "category": sku.category, "base_unit": sku.unit,
            "safety_stock": str((sku.demand * 5).quantize(Decimal(1)))}, SYSTEM, day0)
        if sku.case_unit:
            masterdata.add_unit_conversion(f, pid, sku.case_unit, sku.case_factor, SYSTEM, day0)
        masterdata.add_barcode(f, pid, sku.barcode, SYSTEM, day0)
        items.append(Item(sku, pid, suppliers[cats.index(sku.category) % len(suppliers)],
                          (sku.demand * 8).quantize(Decimal(1))))
    book = Book(items, wh, shelf, suppliers, customers, count_day=max(0, run.days - 10),
                accounts=create_accounts(run), terms=dict(zip(customers, terms, strict=True)),
                big_day=min(4, run.days - 1))
    _opening(run, book)
    _go_live_evening(run, book)
    return book


def _go_live_evening(run: Run, book: Book) -> None:
    """上线当晚 — 老周水电 takes a few things home from 总仓 (现结, cash on delivery) and never pays."""
    at = run.at(run.day(-1), 19, 30)
    picked = sorted(book.items, key=lambda it: it.sku.price * it.sku.demand)[-3:]
    lines = tuple(trade.OrderLineInput(it.pid, it.sku.demand.quantize(Decimal(1), rounding=ROUND_CEILING),
                                       it.sku.unit, str(it.sku.price)) for it in picked)
    who = book.customers[CUSTOMERS.index(NEVER)]
    trade.quick_sale(run.f, trade.QuickSaleInput(book.wh["ZC"], lines, partner_id=who, remark="上线当晚提货，说好现结"),
                     run.actors["shouyin"], at)
    for ln in lines:
        book.stock[("ZC", ln.product_id)] -= Decimal(ln.qty)
    run.documents += 1
    run.postings += 1


def _opening(run: Run, book: Book) -> None:
    """期初 — 总仓 holds everything, the branches their best sellers."""
    at = run.at(run.day(-1), 18)
    for code, share in (("ZC", 1), ("DQ", 3), ("XQ", 5)):
        lines = []
        for n, it in enumerate(book.items):
            if n % share:
                continue
            qty = (it.sku.demand * (20 if code == "ZC" else 6)).quantize(Decimal(1), rounding="ROUND_CEILING")
            lines.append(LineInput(it.pid, qty, unit_price=str(it.sku.cost), location_id=book.shelf[code]))
            book.stock[(code, it.pid)] = qty
        doc = docs.create_draft(run.f, DraftInput(K.OPENING_BALANCE, book.wh[code], tuple(lines), effective_at=at,
                                                  remark="系统上线期初"), run.actors["laoban"], at)
        docs.submit(run.f, doc, run.actors["laoban"], at)
        run.documents += 1
        run.postings += 1


def simulate_day(run: Run, book: Book, i: int) -> None:
    day = run.day(i)
    sunday = day.weekday() == 6
    _receive(run, book, day)
    _arrive(run, book, day)
    _deliver(run, book, day)
    if not sunday:
        _collect(run, book, day)
        for _ in range(run.rng.randint(4, 8) if day.weekday() < 5 else run.rng.randint(2, 4)):
            _sales_order(run, book, day)
    if i == book.big_day:
        _big_order(run, book, day)
    if day.weekday() == 4:
        _pay_suppliers(run, book, day)
    if day.weekday() in (1, 4):
        for code in ("DQ", "XQ"):
            _transfer(run, book, day, code)
    if day.weekday() == 0:
        _purchase(run, book, day)
    if i == book.count_day:
        _count(run, book, day)


def _sales_order(run: Run, book: Book, day: date) -> None:
    rng = run.rng
    code = rng.choices(("ZC", "DQ", "XQ"), (6, 3, 1))[0]
    at = run.at(day, rng.randint(8, 16), rng.randint(0, 59))
    picked = rng.sample(book.items, k=rng.randint(2, 7))
    lines = []
    for it in picked:
        qty = max(Decimal(1), (it.sku.demand * Decimal(rng.uniform(1, 4))).quantize(Decimal(1)))
        if it.sku.case_unit and qty >= it.sku.case_factor * 2:
            lines.append(trade.OrderLineInput(it.pid, math.floor(qty / it.sku.case_factor), it.sku.case_unit,
                                              str(it.sku.price * it.sku.case_factor)))
        else:
            lines.append(trade.OrderLineInput(it.pid, qty, it.sku.unit, str(it.sku.price)))
    customer = book.customers[min(len(book.customers) - 1, int(rng.paretovariate(1.2)) - 1)]
    _place(run, book, code, customer, lines, at, day, "赊销 / on credit")


def _big_order(run: Run, book: Book, day: date) -> None:
    """华庭物业's lobby renovation: one order worth about twice its credit limit."""
    picked = sorted(book.items, key=lambda it: it.sku.price * it.sku.demand)[-15:-3]  # no random draw: the
    # rest of the story stays as it was
    lines = [trade.OrderLineInput(it.pid, (it.sku.demand * 8).quantize(Decimal(1)), it.sku.unit, str(it.sku.price))
             for it in picked]
    _place(run, book, "ZC", book.customers[CUSTOMERS.index(BIG)], lines, run.at(day, 15, 20), day,
           "大堂翻新工程 / lobby renovation")


def _place(run: Run, book: Book, code: str, customer: int, lines: list[trade.OrderLineInput], at: datetime,
           day: date, remark: str) -> None:
    sales = run.actors["shouyin"]
    oid = trade.create_order(run.f, "sales", customer, book.wh[code], lines, sales, at,
                             needed_on=run.at(day + timedelta(days=1), 9), remark=remark)
    try:
        trade.confirm_order(run.f, oid, sales, at)
    except Conflict as exc:
        if exc.code != "CREDIT_LIMIT_EXCEEDED":
            raise
        _over_limit(run, book, oid, customer, exc.details, at)
        trade.confirm_order(run.f, oid, sales, at)
    for ln in trade.get_order(run.f, oid)["lines"]:
        key = (code, ln["product_id"])
        book.stock[key] = book.stock.get(key, ZERO) - (ln["qty_base"] - ln["shortage"])
    book.to_deliver.append((oid, day + timedelta(days=1)))


def _over_limit(run: Run, book: Book, oid: int, customer: int, details: dict[str, str], at: datetime) -> None:
    """超信用额度 — the customer pays enough of what it owes first; when the order alone is over the
    limit, the owner approves it (信用超额审批, audited with the reason)."""
    owed = Decimal(details["owed"])
    over = Decimal(details["exposure"]) - Decimal(details["credit_limit"])
    if owed >= over:
        pay = min(owed, (over / 100).to_integral_value(ROUND_CEILING) * 100)
        account = book.accounts[book.terms[customer].account]
        money.record_payment(run.f, money.PaymentInput(PaymentKind.RECEIPT, customer, account, pay, at,
                                                       remark="超信用额度：先还款再确认订单"), run.actors["laoban"], at)
        book.paydowns += 1
        return
    money.override_credit(run.f, oid, "老客户工程大单，已电话确认付款计划，老板特批", run.actors["laoban"], at)
    book.overrides += 1


def _collect(run: Run, book: Book, day: date) -> None:
    """收款 — each customer pays on its weekday what falls due within the week (late payers: what fell
    due ``late`` days ago); 老周水电 pays nothing."""
    at = run.at(day, 16, 30)
    for customer, t in book.terms.items():
        if t.weekday != day.weekday() or t.late is None:
            continue
        due_by = day + timedelta(days=6) if t.late == 0 else day - timedelta(days=t.late)
        settle(run, customer, True, book.accounts[t.account], due_by, at, "按账期回款" if t.late == 0 else "逾期回款")


def _pay_suppliers(run: Run, book: Book, day: date) -> None:
    """付款 — Friday: the owner pays each supplier what falls due in the next week."""
    at = run.at(day, 17)
    for n, supplier in enumerate(book.suppliers):
        if SUPPLIER_TERMS[n][0] > 0:
            settle(run, supplier, False, book.accounts[SUPPLIER_TERMS[n][1]], day + timedelta(days=6), at,
                   "按账期付款")


def _deliver(run: Run, book: Book, day: date) -> None:
    """Deliver what is due: half the lines now and the rest in a few days for one order in four."""
    rng, keeper = run.rng, run.actors["cangguan"]
    due = [o for o in book.to_deliver if o[1] <= day]
    book.to_deliver = [o for o in book.to_deliver if o[1] > day]
    for oid, _ in due:
        order = trade.get_order(run.f, oid)
        at = run.at(day, rng.randint(8, 11), rng.randint(0, 59))
        left = {ln["line_no"]: ln["qty_base"] - ln["shortage"] - ln["qty_done"] for ln in order["lines"]}
        left = {n: q for n, q in left.items() if q > 0}
        if left and rng.random() < 0.25 and len(left) > 1 and order["state"] == "confirmed":
            first = dict(list(left.items())[: len(left) // 2])
            trade.deliver(run.f, oid, first, keeper, at)
            book.to_deliver.append((oid, day + timedelta(days=rng.randint(1, 3))))
            run.documents += 1
            run.postings += 1
            continue
        if left:
            trade.deliver(run.f, oid, left, keeper, at)
            run.documents += 1
            run.postings += 1
        if any(ln["shortage"] > 0 for ln in order["lines"]):
            trade.close_order(run.f, oid, run.actors["zhuguan"], at, "缺货部分不再发货")


def _purchase(run: Run, book: Book, day: date) -> None:
    """Monday — one order per supplier for what fell below the reorder point at 总仓."""
    manager, at = run.actors["zhuguan"], run.at(day, 9, 30)
    for s_idx, supplier in enumerate(book.suppliers):
        lines = []
        for it in book.items:
            if it.supplier != supplier or it.pid in book.on_order:
                continue
            if book.stock.get(("ZC", it.pid), ZERO) < it.reorder:
                need = it.reorder * 2 - book.stock.get(("ZC", it.pid), ZERO)
                if it.sku.case_unit:
                    lines.append(trade.OrderLineInput(it.pid, math.ceil(need / it.sku.case_factor), it.sku.case_unit,
                                                      str(it.sku.cost * it.sku.case_factor)))
                else:
                    lines.append(trade.OrderLineInput(it.pid, need.quantize(Decimal(1), rounding="ROUND_CEILING"),
                                                      it.sku.unit, str(it.sku.cost)))
                book.on_order.add(it.pid)
        if lines:
            oid = trade.create_order(run.f, "purchase", supplier, book.wh["ZC"], lines[:60], manager, at,
                                     needed_on=run.at(day + timedelta(days=2 + s_idx % 4), 9))
            trade.confirm_order(run.f, oid, manager, at)
            for ln in lines[60:]:
                book.on_order.discard(ln.product_id)
            book.to_receive.append((oid, day + timedelta(days=2 + s_idx % 4)))


def _receive(run: Run, book: Book, day: date) -> None:
    """Receipts against purchase orders: often part now, the rest later; now and then closed short."""
    rng, keeper = run.rng, run.actors["cangguan"]
    due = [o for o in book.to_receive if o[1] <= day]
    book.to_receive = [o for o in book.to_receive if o[1] > day]
    for oid, _ in due:
        order = trade.get_order(run.f, oid)
        at = run.at(day, rng.randint(13, 16), rng.randint(0, 59))
        left = {ln["line_no"]: ln["qty_base"] - ln["qty_done"] for ln in order["lines"] if ln["qty_base"] > ln["qty_done"]}
        if order["state"] == "confirmed" and rng.random() < 0.5:  # the first truck brings part
            part = {n: max(Decimal(1), (q * Decimal(rng.uniform(0.4, 0.8))).quantize(Decimal(1)))
                    for n, q in left.items()}
            book.to_receive.append((oid, day + timedelta(days=rng.randint(2, 4))))
        elif order["state"] == "partial" and rng.random() < 0.15:  # the rest never comes
            trade.close_order(run.f, oid, run.actors["zhuguan"], at, "供应商断货，余量取消")
            book.on_order.difference_update(ln["product_id"] for ln in order["lines"])
            continue
        else:
            part = left
            book.on_order.difference_update(ln["product_id"] for ln in order["lines"])
        trade.receive(run.f, oid, part, keeper, at)
        run.documents += 1
        run.postings += 1
        days, account = SUPPLIER_TERMS[book.suppliers.index(order["partner_id"])]
        if days == 0:
            settle(run, order["partner_id"], False, book.accounts[account], day, at + timedelta(minutes=20), "货到付款")
        for ln in order["lines"]:
            key = ("ZC", ln["product_id"])
            book.stock[key] = book.stock.get(key, ZERO) + part.get(ln["line_no"], ZERO)


def _transfer(run: Run, book: Book, day: date, code: str) -> None:
    """总仓 → branch: top up what fell low; received the next day."""
    at = run.at(day, 10, 30)
    lines = []
    for it in book.items:
        have = book.stock.get((code, it.pid))
        if have is None or have >= it.sku.demand * 3:
            continue
        want = (it.sku.demand * 6 - have).quantize(Decimal(1), rounding="ROUND_CEILING")
        central = book.stock.get(("ZC", it.pid), ZERO)
        qty = min(want, central - it.reorder // 2)
        if qty >= 1:
            lines.append(LineInput(it.pid, qty, location_id=book.shelf["ZC"]))
            book.stock[("ZC", it.pid)] = central - qty
        if len(lines) >= 40:
            break
    if not lines:
        return
    keeper = run.actors["cangguan"]
    doc = docs.create_draft(run.f, DraftInput(K.TRANSFER, book.wh["ZC"], tuple(lines), effective_at=at,
                                              to_warehouse_id=book.wh[code], remark=f"补货至{code}"), keeper, at)
    docs.submit(run.f, doc, keeper, at)
    run.documents += 1
    run.postings += 1
    book.in_transit.append((doc, day + timedelta(days=1)))


def _arrive(run: Run, book: Book, day: date) -> None:
    """签收 — the branch confirms what arrived (once a shortfall: 在途差异)."""
    keeper = run.actors["cangguan"]
    due = [t for t in book.in_transit if t[1] <= day]
    book.in_transit = [t for t in book.in_transit if t[1] > day]
    for doc_id, _ in due:
        transfer = docs.get(run.f, doc_id)
        code = next(c for c, w in book.wh.items() if w == transfer["to_warehouse_id"])
        received = {ln["line_no"]: ln["qty_base"] for ln in transfer["lines"]}
        if not book.short_receipt_done and len(received) > 2:
            first = min(received)
            received[first] = received[first] - 1
            book.short_receipt_done = True
        transfers.confirm_receipt(run.f, doc_id, received, keeper, run.at(day, 9, 15),
                                  remark="签收" if all(q == ln["qty_base"] for q, ln in zip(received.values(),
                                                                                            transfer["lines"], strict=True))
                                  else "签收：一件破损未收")
        run.documents += 1
        run.postings += 1
        for ln in transfer["lines"]:
            key = (code, ln["product_id"])
            book.stock[key] = book.stock.get(key, ZERO) + received[ln["line_no"]]


def _count(run: Run, book: Book, day: date) -> None:
    """季度盘点 — 东区仓 counts everything; variances become a count adjustment the managers approve."""
    rng, keeper, manager = run.rng, run.actors["cangguan"], run.actors["zhuguan"]
    at = run.at(day, 18, 0)
    plan = counting.create_plan(run.f, counting.PlanInput("东区仓季度盘点：瓷砖、卫浴", book.wh["DQ"], kind="cycle",
                                                          categories=("瓷砖", "卫浴")), manager, at)
    task = counting.create_task(run.f, plan, manager, at, assignees=("cangguan",))
    sheet = counting_close.sheet(run.f, task, manager, at)
    rows, varied = sheet["lines"], 0
    for n, row in enumerate(rows):
        book_qty = row["book_qty_now"]
        qty = book_qty
        if n == len(rows) - 1 and not varied:  # a count always finds something: one found box at least
            qty = book_qty + 1
        elif rng.random() < 0.05:
            qty = max(ZERO, book_qty + rng.choice((-2, -1, -1, 1, 2)))
            if qty < book_qty and book.stock.get(("DQ", row["product_id"]), ZERO) < 2:  # reserved: leave it
                qty = book_qty
        varied += qty != book_qty
        counted_at = run.at(day, 18, 30) + timedelta(seconds=20 * n)
        counting.enter_line(run.f, task, counting.CountLine(row["location_id"], row["product_id"], qty,
                                                            counted_at=counted_at), keeper, counted_at)
        book.stock[("DQ", row["product_id"])] = book.stock.get(("DQ", row["product_id"]), ZERO) + qty - book_qty
    close_at = run.at(day, 21, 0)
    result = counting_close.close(run.f, task, manager, close_at)
    if result.document_id:
        _approve_all(run, result.document_id, close_at + timedelta(minutes=20))
        run.documents += 1
        run.postings += 1


def _approve_all(run: Run, doc_id: int, at: datetime) -> None:
    """Walk the approval levels with the role each level asks for (never the submitter)."""
    by_role = {a.role: a for a in run.actors.values()}
    for _ in range(3):
        doc = docs.get(run.f, doc_id)
        if doc["state"] != "pending_approval":
            return
        role = doc["approval_plan"][doc["approval_level"] - 1]["role"]
        approver: Actor = by_role.get(role, run.actors["laoban"])
        if approver.name in (doc["created_by"], doc["updated_by"]):
            approver = run.actors["laoban"]
        docs.approve(run.f, doc_id, replace(approver, reauthenticated=True), at, "盘点差异已复核")


def finish(run: Run, book: Book) -> list[str]:
    """Tonight: top-ups for both branches are on the road (in transit, not yet received)."""
    last = run.day(run.days - 1)
    for code in ("DQ", "XQ"):
        _transfer(run, book, last, code)
    aged = money_reads.ageing(run.f, "receivable", run.at(last, 23, 59), run.day(run.days), run.actors["laoban"])["totals"]
    return [f"在途调拨 transfers in transit: {len(book.in_transit)}",
            f"待发货销售订单 sales orders to deliver: {len(book.to_deliver)}",
            f"待收货采购订单 purchase orders to receive: {len(book.to_receive)}",
            "应收账龄 receivables by age: " + " · ".join(f"{BUCKET_LABELS[b][0]} {aged[b]:,.0f}" for b in BUCKETS),
            f"信用超额审批 credit overrides: {book.overrides}; 超额先还款 paid down to confirm: {book.paydowns}"]
