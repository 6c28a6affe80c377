"""演示数据 — a small, deterministic 鲜邻优选 community fresh-produce shop, built through the services.

Everything goes through the real services (master data, posting, users), so
every invariant holds and `jxc check` is clean on the result. The full demo
businesses (420 SKUs, a three-warehouse wholesaler, `--scale`) are issue 10.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from jxc.domain.ledger import Movement
from jxc.services import masterdata, users
from jxc.services.ports import UnitOfWork
from jxc.services.posting import SYSTEM, Actor, PostingRequest, post

UowFactory = Callable[[], UnitOfWork]
DEMO_PASSWORD = "demo1234"
DEMO_USERS = (("laoban", "owner", "李姐(老板)"), ("zhuguan", "manager", "王主管"),
              ("cangguan", "keeper", "小张(仓管)"), ("shouyin", "sales", "小刘(收银)"))

# code, name, spec, category, unit, cost, lot-tracked shelf life (days) or None, daily demand
PRODUCTS = (
    ("SC001", "菠菜", "散装", "蔬菜", "斤", "2.80", 3, 18), ("SC002", "小白菜", "散装", "蔬菜", "斤", "1.90", 3, 20),
    ("SC003", "西红柿", "散装", "蔬菜", "斤", "3.20", 7, 25), ("SC004", "土豆", "散装", "蔬菜", "斤", "1.60", 15, 30),
    ("SC005", "山药", "约1kg/袋", "蔬菜", "袋", "9.50", 10, 6), ("SC006", "黄瓜", "散装", "蔬菜", "斤", "2.60", 5, 22),
    ("SC007", "西兰花", "个", "蔬菜", "个", "3.50", 5, 10), ("SC008", "香菜", "把", "蔬菜", "把", "1.20", 3, 12),
    ("SG001", "蓝莓", "125g/盒", "水果", "盒", "8.50", 7, 14), ("SG002", "草莓", "500g/盒", "水果", "盒", "18.00", 4, 9),
    ("SG003", "车厘子", "2.5kg/箱", "水果", "箱", "160.00", 10, 1), ("SG004", "香蕉", "散装", "水果", "斤", "2.90", 6, 28),
    ("SG005", "苹果", "红富士", "水果", "斤", "4.20", 15, 24), ("SG006", "西瓜", "个", "水果", "个", "22.00", 10, 4),
    ("RL001", "五花肉", "散装", "肉禽", "斤", "14.50", 3, 10), ("RL002", "鸡胸肉", "500g/袋", "肉禽", "袋", "9.80", 5, 8),
    ("RL003", "土鸡蛋", "30枚/盒", "蛋奶", "盒", "24.00", 20, 6), ("RL004", "纯牛奶", "250ml×12", "蛋奶", "箱", "42.00", 30, 5),
    ("RL005", "酸奶", "200g/杯", "蛋奶", "杯", "3.20", 14, 16), ("LY001", "东北大米", "5kg/袋", "粮油", "袋", "29.00", None, 4),
    ("LY002", "花生油", "5L/桶", "粮油", "桶", "68.00", None, 2), ("LY003", "挂面", "1kg/袋", "粮油", "袋", "6.50", None, 5),
    ("YL001", "矿泉水", "550ml×24", "饮料", "箱", "18.00", None, 3), ("LS001", "薯片", "70g/袋", "零食", "袋", "4.30", None, 7),
)


@dataclass(frozen=True)
class DemoSummary:
    products: int
    postings: int
    users: tuple[tuple[str, str, str], ...]


def build_demo(uow_factory: UowFactory, now: datetime, zone: ZoneInfo, days: int = 30,
               seed: int = 20260122) -> DemoSummary:
    """Create the shop and ``days`` of daily receipts, counter sales and scrap, ending at ``now``."""
    rng = random.Random(seed)
    f = uow_factory
    for username, role, name in DEMO_USERS:
        users.create_user(f, username, DEMO_PASSWORD, role, SYSTEM, now, display_name=name)
    store = masterdata.create(f, "warehouses", {"code": "MD01", "name": "鲜邻优选(幸福里店)", "kind": "store"},
                              SYSTEM, now)
    shelf = masterdata.create(f, "locations", {"code": "MD01-HJ", "name": "前场货架", "warehouse_id": store},
                              SYSTEM, now)
    masterdata.create(f, "partners", {"code": "GYS01", "name": "城南蔬菜批发", "role": "supplier",
                                      "lead_time_days": 1}, SYSTEM, now)
    masterdata.create(f, "partners", {"code": "KH01", "name": "散客", "role": "customer"}, SYSTEM, now)
    virtual = _virtual_ids(f)
    keeper = Actor("cangguan", frozenset({"document.post"}))
    cashier = Actor("shouyin", frozenset({"document.post"}))
    items = []
    for code, name, spec, cat, unit, cost, life, demand in PRODUCTS:
        pid = masterdata.create(f, "products", {
            "code": code, "name": name, "spec": spec, "category": cat, "base_unit": unit,
            "tracking": "lot" if life else "none", "shelf_life_days": life,
            "safety_stock": str(max(1, demand // 2))}, SYSTEM, now)
        items.append((pid, Decimal(cost), life, demand))
    on_hand: dict[tuple[int, int], Decimal] = {}
    expiry: dict[int, date] = {}  # lot -> expiry date
    postings = 0
    start = (now.astimezone(zone) - timedelta(days=days)).date()
    for d in range(days):
        day = start + timedelta(days=d)
        morning = datetime.combine(day, time(6, 30), tzinfo=zone)
        receipt = []
        for pid, cost, life, demand in items:
            lot = 0
            if life:
                lot = masterdata.create_lot(f, pid, f"{day:%Y%m%d}", SYSTEM, morning, produced_on=day)
                expiry[lot] = day + timedelta(days=life)
            qty = Decimal(demand + rng.randint(0, demand // 2 + 1))
            if rng.random() < 0.06:  # a missed delivery: stock-outs happen
                continue
            price = (cost * Decimal(rng.uniform(0.95, 1.08))).quantize(Decimal("0.01"))
            receipt.append(Movement(pid, qty, virtual["V-SUPPLIER"], shelf, lot_id=lot, unit_cost=price))
            on_hand[(pid, lot)] = on_hand.get((pid, lot), Decimal(0)) + qty
        if receipt:
            post(f, PostingRequest("purchase_receipt", tuple(receipt), morning,
                                   idempotency_key=f"demo-receipt-{day}"), keeper, morning)
            postings += 1
        for hour in (9, 12, 17, 19):
            at = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone)
            lines = _sale(rng, items, on_hand, shelf, virtual["V-CUSTOMER"])
            if lines:
                post(f, PostingRequest("sales_delivery", tuple(lines), at), cashier, at)
                postings += 1
        scrap = _scrap(rng, on_hand, shelf, virtual["V-SCRAP"], expiry, day)
        if scrap:
            at = datetime.combine(day, time(21, 30), tzinfo=zone)
            post(f, PostingRequest("scrap", tuple(scrap), at, remark="损耗：腐烂变质"), keeper, at)
            postings += 1
    return DemoSummary(len(items), postings, DEMO_USERS)


def _sale(rng: random.Random, items: list, on_hand: dict, shelf: int, customer: int) -> list[Movement]:
    lines = []
    for pid, _cost, _life, demand in rng.sample(items, k=min(len(items), 8)):
        want = Decimal(max(1, rng.randint(demand // 8, demand // 3 + 1)))
        for (p, lot), qty in sorted(on_hand.items(), key=lambda kv: kv[0][1]):  # oldest lot first
            if p != pid or qty <= 0 or want <= 0:
                continue
            take = min(qty, want)
            lines.append(Movement(pid, take, shelf, customer, lot_id=lot))
            on_hand[(p, lot)] = qty - take
            want -= take
    return lines


def _scrap(rng: random.Random, on_hand: dict, shelf: int, scrap: int, expiry: dict, day: date) -> list[Movement]:
    """Evening clean-up: everything that expires by tomorrow goes (报损), and some damage on the rest."""
    lines = []
    for (pid, lot), qty in sorted(on_hand.items()):
        if lot and qty > 0 and expiry.get(lot, day + timedelta(days=99)) <= day + timedelta(days=1):
            lines.append(Movement(pid, qty, shelf, scrap, lot_id=lot))
            on_hand[(pid, lot)] = Decimal(0)
        elif lot and qty >= 4 and rng.random() < 0.08:
            take = Decimal(rng.randint(1, int(qty) // 4 + 1))
            lines.append(Movement(pid, take, shelf, scrap, lot_id=lot))
            on_hand[(pid, lot)] = qty - take
    return lines


def is_empty(uow_factory: UowFactory) -> bool:
    """No product and no user yet: a fresh book the demo may fill."""
    with uow_factory() as uow:
        return uow.records.find("products") is None and uow.records.find("users") is None


def _virtual_ids(f: UowFactory) -> dict[str, int]:
    with f() as uow:
        return {code: uow.records.find("locations", code=code)["id"]
                for code in ("V-SUPPLIER", "V-CUSTOMER", "V-SCRAP")}
