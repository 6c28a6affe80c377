"""社群订单接单 — learned aliases in the database, the catalog cache, customer memory and draft orders.

Each test protects one promise of services/chat_intake.py (see its Guarantees)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.bootstrap import build
from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.ledger import Movement
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import chat_intake as ci
from jxc.services import masterdata, trade
from jxc.services.posting import SYSTEM, Actor, PostingRequest, post
from tests.conftest import NOW, World, make_world

SALES = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales")
FINANCE = Actor("qian", BUILTIN_ROLES["finance"][2], role="finance")


@dataclass(frozen=True)
class Shop:
    w: World
    blueberry: int  # 蓝莓 盒
    yam: int  # 铁棍山药 袋
    spinach: int  # 菠菜 斤
    cola: int  # 可口可乐 瓶, 1 箱 = 12 瓶
    wang: int  # customer 王姐, phone 13812345678, 3栋502
    zhao: int  # customer 赵先生


def _product(f, code, name, unit, spec=None):
    data = {"code": code, "name": name, "base_unit": unit}
    if spec:
        data["spec"] = spec
    return masterdata.create(f, "products", data, SYSTEM, NOW)


def _stock(app, w, product, qty):
    post(app.uow_factory, PostingRequest("receipt", (Movement(product, D(qty), w.supplier, w.shelf_a,
                                                              unit_cost=D("2")),), NOW), SYSTEM, NOW)


def make_shop(app) -> Shop:
    w = make_world(app)
    f = app.uow_factory
    blueberry = _product(f, "F001", "蓝莓", "盒", "125g/盒")
    yam = _product(f, "V010", "铁棍山药", "袋")
    spinach = _product(f, "V020", "菠菜", "斤")
    cola = _product(f, "D001", "可口可乐", "瓶", "330ml")
    masterdata.add_unit_conversion(f, cola, "箱", "12", SYSTEM, NOW)
    masterdata.add_barcode(f, cola, "6901234567890", SYSTEM, NOW)
    wang = masterdata.create(f, "partners", {"code": "C-WANG", "name": "王姐", "role": "customer",
                                             "phone": "13812345678", "address": "阳光花园3栋502"}, SYSTEM, NOW)
    zhao = masterdata.create(f, "partners", {"code": "C-ZHAO", "name": "赵先生", "role": "customer"}, SYSTEM, NOW)
    for product, qty in ((blueberry, "10"), (yam, "1"), (spinach, "20"), (cola, "48")):
        _stock(app, w, product, qty)
    return Shop(w, blueberry, yam, spinach, cola, wang, zhao)


@pytest.fixture
def shop(app) -> Shop:
    return make_shop(app)


def test_catalog_from_the_database_carries_names_specs_conversions_barcodes_and_learned_aliases(app, shop):
    ci.record_alias(app.uow_factory, app.chat_catalog, "肥宅水", shop.cola, SALES, NOW)
    with app.uow() as uow:
        book = app.chat_catalog.current(uow)
    products = book.parser.catalog.by_sku()
    assert products["F001"].spec == "125g/盒" and products["D001"].barcode == "6901234567890"
    assert products["D001"].units == (("箱", D(12)),)
    assert ("D001", "肥宅水") in book.parser.catalog.learned_aliases
    assert "P001" in products  # the world's products too: every active product is in the catalog


def test_a_clerks_correction_matches_the_same_phrasing_next_time(app, shop):
    before = ci.parse_message(app.uow_factory, app.chat_catalog, "肥宅水2瓶", SALES, NOW)
    assert before.result.unparseable  # nothing named 肥宅水 in the catalog
    ci.record_alias(app.uow_factory, app.chat_catalog, "肥宅水", shop.cola, SALES, NOW, source_text="肥宅水2瓶")
    after = ci.parse_message(app.uow_factory, app.chat_catalog, "肥宅水2瓶", SALES, NOW)
    (line,) = after.lines
    assert (line.line.sku, line.line.qty, line.line.evidence["matched_by"]) == ("D001", D(2), "learned_alias")


def test_override_and_delete_of_an_alias_are_audited_and_change_the_parse(app, shop):
    first = ci.record_alias(app.uow_factory, app.chat_catalog, "山药蛋", shop.yam, SALES, NOW)
    again = ci.record_alias(app.uow_factory, app.chat_catalog, "山药蛋", shop.spinach, SALES, NOW + timedelta(1))
    assert again["id"] == first["id"] and again["product_id"] == shop.spinach and again["version"] == 2
    (line,) = ci.parse_message(app.uow_factory, app.chat_catalog, "山药蛋3斤", SALES, NOW).lines
    assert line.line.sku == "V020"
    gone = ci.delete_alias(app.uow_factory, app.chat_catalog, first["id"], SALES, NOW)
    assert gone["active"] is False
    assert ci.list_aliases(app.uow_factory, SALES) == []
    assert len(ci.list_aliases(app.uow_factory, SALES, include_inactive=True)) == 1
    (line,) = ci.parse_message(app.uow_factory, app.chat_catalog, "山药蛋3斤", SALES, NOW).lines
    assert line.line.sku != "V020"  # forgotten: back to what the catalog itself says
    actions = [r["action"] for r in app.queries.audit(action="chat_alias")]
    assert sorted(actions) == ["chat_alias.create", "chat_alias.delete", "chat_alias.update"]
    with pytest.raises(DomainError) as err:
        ci.delete_alias(app.uow_factory, app.chat_catalog, first["id"], SALES, NOW)
    assert err.value.code == "NOT_FOUND"


@pytest.mark.parametrize("alias", ["", "  ", "123", "x" * 51])
def test_an_alias_must_be_words(app, shop, alias):
    with pytest.raises(ValidationFailed):
        ci.record_alias(app.uow_factory, app.chat_catalog, alias, shop.cola, SALES, NOW)


def test_only_sales_staff_teach_aliases_or_take_chat_orders(app, shop):
    with pytest.raises(DomainError) as err:
        ci.record_alias(app.uow_factory, app.chat_catalog, "肥宅水", shop.cola, FINANCE, NOW)
    assert err.value.code == "PERMISSION_DENIED"
    with pytest.raises(DomainError):
        ci.parse_message(app.uow_factory, app.chat_catalog, "蓝莓2盒", FINANCE, NOW)


def test_the_catalog_is_built_once_and_rebuilt_only_when_products_or_aliases_change(app, shop):
    cache = ci.ChatCatalog()
    for _ in range(3):
        ci.parse_message(app.uow_factory, cache, "蓝莓2盒", SALES, NOW)
    assert cache.builds == 1
    masterdata.update(app.uow_factory, "products", shop.yam, {"name": "铁棍山药(温县)"}, None, SYSTEM, NOW)
    ci.parse_message(app.uow_factory, cache, "蓝莓2盒", SALES, NOW)
    masterdata.add_unit_conversion(app.uow_factory, shop.blueberry, "箱", "10", SYSTEM, NOW)
    ci.parse_message(app.uow_factory, cache, "蓝莓2盒", SALES, NOW)
    ci.record_alias(app.uow_factory, ci.ChatCatalog(), "蓝梅子", shop.blueberry, SALES, NOW)  # another cache
    (line,) = ci.parse_message(app.uow_factory, cache, "蓝梅子2盒", SALES, NOW).lines
    assert cache.builds == 4 and line.line.sku == "F001"
    masterdata.deactivate(app.uow_factory, "products", shop.spinach, SYSTEM, NOW)
    assert "V020" not in cache.parser(app.uow_factory).catalog.by_sku()


def test_learned_aliases_survive_a_restart_and_reach_other_processes(file_app):
    shop = make_shop(file_app)
    ci.parse_message(file_app.uow_factory, file_app.chat_catalog, "蓝莓2盒", SALES, NOW)  # cache warm
    other = build(file_app.settings)  # a second process on the same book (or the same one restarted)
    try:
        ci.record_alias(other.uow_factory, other.chat_catalog, "肥宅水", shop.cola, SALES, NOW)
        (line,) = ci.parse_message(file_app.uow_factory, file_app.chat_catalog, "肥宅水1箱", SALES, NOW).lines
        assert (line.line.sku, line.line.unit) == ("D001", "箱")
    finally:
        other.dispose()
    restarted = build(file_app.settings)
    try:
        (line,) = ci.parse_message(restarted.uow_factory, restarted.chat_catalog, "肥宅水两瓶", SALES, NOW).lines
        assert line.line.sku == "D001"
    finally:
        restarted.dispose()


def test_parse_gives_availability_in_base_units_and_keeps_a_converted_unit(app, shop):
    parse = ci.parse_message(app.uow_factory, app.chat_catalog, "可乐2箱，蓝莓3盒", SALES, NOW, shop.w.wh)
    cola, berry = parse.lines
    assert (cola.line.unit, cola.line.qty, cola.qty_base, cola.available) == ("箱", D(2), D(24), D(48))
    assert cola.to_json()["enough"] is True and cola.placed
    assert (berry.qty_base, berry.available, berry.placed) == (D(3), D(10), True)


def test_draft_order_places_sure_lines_and_returns_uncertain_ones_for_a_decision(app, shop):
    text = "王姐 要2盒蓝莓+十来斤菠菜，3栋502"
    draft = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput(text, shop.w.wh), SALES, NOW)
    assert draft.partner_id == shop.wang  # name, address (and phone) match the customer's master data
    order = trade.get_order(app.uow_factory, draft.order_id)
    assert order["state"] == "draft" and order["partner_id"] == shop.wang
    assert [(ln["product_id"], ln["qty"]) for ln in order["lines"]] == [(shop.blueberry, D(2))]
    (left,) = [v for v in draft.parse.lines if not v.placed]
    assert left.line.sku == "V020" and "ambiguous_qty" in [r.value for r in left.line.review]
    assert draft.needs_decision == (left.index,)
    accepted = ci.draft_order(app.uow_factory, app.chat_catalog,
                              ci.ChatOrderInput(text, shop.w.wh, accept=(left.index,)), SALES, NOW)
    assert len(trade.get_order(app.uow_factory, accepted.order_id)["lines"]) == 2
    assert trade.confirm_order(app.uow_factory, accepted.order_id, SALES, NOW) == []  # reserving already exists
    assert [r["action"] for r in app.queries.audit(action="chat_order")] == ["chat_order.create"] * 2


def test_a_message_that_is_not_an_order_creates_nothing_and_says_why(app, shop):
    draft = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput("蓝莓今天有吗？多少钱一盒", shop.w.wh,
                                                                                  customer_id=shop.wang), SALES, NOW)
    assert draft.order_id is None and draft.reason == "question" and draft.to_json()["created"] is False
    assert app.queries.audit(action="order.create") == []


def test_every_line_uncertain_creates_nothing(app, shop):
    draft = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput("菠菜十来斤", shop.w.wh,
                                                                                  customer_id=shop.zhao), SALES, NOW)
    assert draft.order_id is None and draft.reason == "needs_decision" and draft.needs_decision == (1,)


def test_an_unknown_customer_is_refused_with_the_candidates(app, shop):
    with pytest.raises(ValidationFailed) as err:
        ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput("蓝莓2盒", shop.w.wh), SALES, NOW)
    assert err.value.code == "CHAT_CUSTOMER_UNKNOWN"
    with pytest.raises(ValidationFailed) as err:
        ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput("蓝莓2盒", shop.w.wh, customer_id=shop.zhao,
                                                                              accept=(7,)), SALES, NOW)
    assert err.value.problems[0].field == "accept[0]"


def test_customer_memory_learns_from_confirmed_chat_orders_only(app, shop):
    text = "我是小美 13900001111 7栋1201 蓝莓1盒"

    def guess():
        return ci.parse_message(app.uow_factory, app.chat_catalog, text, SALES, NOW).customer

    assert guess().partner_id is None  # nobody has this phone or address yet
    first = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput(text, shop.w.wh, customer_id=shop.zhao),
                           SALES, NOW)
    assert guess().partner_id is None  # a draft proves nothing: it may still be for someone else
    trade.confirm_order(app.uow_factory, first.order_id, SALES, NOW)
    g = guess()
    assert g.partner_id == shop.zhao and g.confidence >= ci.GUESS_MIN
    assert {e["source"] for e in g.candidates[0]["evidence"]} == {"memory"}
    second = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput("13900001111 蓝莓两盒", shop.w.wh),
                            SALES, NOW)
    assert second.partner_id == shop.zhao  # the phone alone is enough now


def test_two_customers_with_the_same_evidence_are_not_guessed(app, shop):
    masterdata.create(app.uow_factory, "partners", {"code": "C-WANG2", "name": "王姐(二号)", "role": "customer"},
                      SYSTEM, NOW)
    g = ci.parse_message(app.uow_factory, app.chat_catalog, "王姐 蓝莓2盒", SALES, NOW).customer
    assert g.partner_id is None and len(g.candidates) == 2


def test_clerks_teaching_the_same_phrasing_at_once_leave_one_alias_and_no_error(file_app):
    import threading

    shop = make_shop(file_app)
    products = [shop.blueberry, shop.yam, shop.spinach, shop.cola]
    barrier, errors = threading.Barrier(len(products)), []

    def teach(product_id: int) -> None:
        barrier.wait()
        try:
            ci.record_alias(file_app.uow_factory, file_app.chat_catalog, "老样子那个", product_id, SALES, NOW)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=teach, args=(p,)) for p in products]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (alias,) = ci.list_aliases(file_app.uow_factory, SALES)
    actions = sorted(r["action"] for r in file_app.queries.audit(action="chat_alias"))
    assert actions == ["chat_alias.create"] + ["chat_alias.update"] * 3 and alias["version"] == 4
    assert file_app.queries.violations() == []


def test_a_corrected_line_goes_on_the_order_and_is_remembered(app, shop):
    text = "王姐 3栋502 肥宅水2瓶 蓝莓1盒"
    first = ci.parse_message(app.uow_factory, app.chat_catalog, text, SALES, NOW)
    assert [v.line.sku for v in first.lines] == ["F001"]  # 肥宅水 is unknown, so not even a line
    text = "王姐 3栋502 可口可了2瓶 蓝莓1盒"  # a typo the parser only half trusts
    wrong = ci.parse_message(app.uow_factory, app.chat_catalog, text, SALES, NOW)
    typo = next(v for v in wrong.lines if v.line.evidence["product_text"] == "可口可了")
    draft = ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput(
        text, shop.w.wh, corrections=((typo.index, shop.cola),)), SALES, NOW)
    order = trade.get_order(app.uow_factory, draft.order_id)
    assert sorted((ln["product_id"], ln["qty"]) for ln in order["lines"]) == sorted(
        [(shop.cola, D(2)), (shop.blueberry, D(1))])
    assert [a["alias"] for a in ci.list_aliases(app.uow_factory, SALES)] == ["可口可了"]
    with pytest.raises(ValidationFailed):
        ci.draft_order(app.uow_factory, app.chat_catalog, ci.ChatOrderInput(
            text, shop.w.wh, corrections=((9, shop.cola),)), SALES, NOW)
