"""设置与操作日志 — roles, scopes, rules configured without code; audit search by product, document, user."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.approvals import Rule
from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import admin, users
from jxc.services import documents as docs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import Actor
from tests.conftest import NOW

OWNER = Actor("laoban", frozenset({"*"}), role="owner", reauthenticated=True, ip="10.0.0.8", device="PDA-07")
KEEPER = Actor("zhang", BUILTIN_ROLES["keeper"][2], role="keeper")


def test_custom_role_then_user_scope_changes_what_a_user_may_do(app, world):
    admin.save_role(app.uow_factory, "cashier_plus", "收银加强", "cashier plus",
                    ["document.create.sales_delivery", "document.post.sales_delivery", "sales.negative_qty"], OWNER, NOW)
    users.create_user(app.uow_factory, "xiaoliu", "password1", "sales", OWNER, NOW)
    admin.set_user_access(app.uow_factory, "xiaoliu", OWNER, NOW, role="cashier_plus", warehouse_ids=[world.wh])
    a = users.actor_for(app.uow_factory, "xiaoliu")
    assert a.role == "cashier_plus" and a.warehouses == frozenset({world.wh}) and "sales.negative_qty" in a.permissions
    docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "-1"),)), a, NOW)
    record = app.queries.audit(action="user.access")[0]
    assert record["actor"] == "laoban" and record["ip"] == "10.0.0.8" and record["device"] == "PDA-07"
    assert '"role":"sales"' in record["before"] and '"role":"cashier_plus"' in record["after"]


def test_unknown_permission_and_missing_reauth_are_refused(app):
    with pytest.raises(ValidationFailed) as err:
        admin.save_role(app.uow_factory, "x", "x", "x", ["stock.teleport"], OWNER, NOW)
    assert err.value.field == "permissions" and "stock.teleport" in err.value.message_zh
    hurried = Actor("laoban", frozenset({"*"}), role="owner")
    with pytest.raises(DomainError) as err2:
        admin.save_role(app.uow_factory, "x", "x", "x", [], hurried, NOW)
    assert err2.value.code == "REAUTH_REQUIRED"


def test_rule_added_without_code_routes_big_receipts_to_the_owner(app, world):
    with pytest.raises(ValidationFailed):
        admin.add_rule(app.uow_factory, Rule("坏规则", ("ceo",)), OWNER, NOW)
    rid = admin.add_rule(app.uow_factory, Rule("大额采购需老板审批", ("owner",), kind=K.PURCHASE_RECEIPT,
                                               min_amount=D(1000)), OWNER, NOW)
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(world.rice, "100", unit_price="12"),)), KEEPER, NOW)
    assert docs.submit(app.uow_factory, doc, KEEPER, NOW).value == "pending_approval"
    plan = docs.get(app.uow_factory, doc)["approval_plan"]
    assert plan[0]["role"] == "owner" and "金额 1200" in plan[0]["reasons"][0]
    admin.set_rule_active(app.uow_factory, rid, False, OWNER, NOW)
    small = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(world.rice, "100", unit_price="12"),)), KEEPER, NOW)
    assert docs.submit(app.uow_factory, small, KEEPER, NOW).value == "posted"


def test_reason_must_come_from_the_list_or_be_written(app, world):
    with pytest.raises(ValidationFailed) as err:
        docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "1"),),
                                                      reason_code="bored"), KEEPER, NOW)
    assert err.value.field == "reason_code" and "expired" in err.value.message_zh
    admin.add_reason(app.uow_factory, "scrap", "bored", "无聊", "bored", OWNER, NOW)
    docs.create_draft(app.uow_factory, DraftInput(K.SCRAP, world.wh, (LineInput(world.rice, "1"),),
                                                  reason_code="bored"), KEEPER, NOW)


def test_audit_search_by_product_document_user_action_and_time(app, world):
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
        LineInput(world.rice, "3", unit_price="2"),)), KEEPER, NOW)
    docs.submit(app.uow_factory, doc, KEEPER, NOW + timedelta(minutes=5))
    users.create_user(app.uow_factory, "zhang", "password1", "keeper", OWNER, NOW)
    users.verify_password(app.uow_factory, "zhang", "wrong-one", NOW)
    with pytest.raises(DomainError):
        users.authenticate(app.uow_factory, "zhang", "nope-nope", NOW, ip="192.0.2.1", device="iPhone")
    rice = {r["action"] for r in app.queries.audit(product_id=world.rice)}
    assert {"product.create", "document.create", "document.post", "posting.post"} <= rice
    assert "posting.post" not in {r["action"] for r in app.queries.audit(product_id=world.eggs)}
    by_doc = [r["action"] for r in app.queries.audit(document_id=doc)]
    assert by_doc == ["document.post", "posting.post", "document.create"]
    failed = app.queries.audit(action="login.failed")[0]
    assert (failed["actor"], failed["ip"], failed["device"]) == ("zhang", "192.0.2.1", "iPhone")
    assert app.queries.audit(action="reauth.failed")[0]["actor"] == "zhang"
    late = app.queries.audit(username="zhang", since=NOW + timedelta(minutes=1))
    assert {r["action"] for r in late} == {"document.post", "posting.post"}
    assert app.queries.violations() == []


def test_settings_validate_audit_and_change_number_prefixes_and_reminder_limits(app, world):
    from datetime import timedelta

    from jxc.services import book
    from jxc.services.reminders import remind_overdue

    assert book.get_settings(app.uow_factory)["doc_prefix.purchase_receipt"] == "CGRK"
    with pytest.raises(DomainError) as err:
        book.set_setting(app.uow_factory, "doc_prefix.purchase_receipt", "入库", OWNER, NOW)
    assert err.value.field == "doc_prefix.purchase_receipt" and "A–Z" in err.value.message_en
    with pytest.raises(DomainError) as err:
        book.set_setting(app.uow_factory, "doc_prefix.purchase_receipt", "XSCK", OWNER, NOW)
    assert err.value.code == "CODE_TAKEN"
    book.set_setting(app.uow_factory, "doc_prefix.purchase_receipt", "rk", OWNER, NOW)
    book.set_setting(app.uow_factory, "overdue.first_minutes", "15", OWNER, NOW)
    doc = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (LineInput(world.rice, "1"),)),
                            KEEPER, NOW)
    assert docs.get(app.uow_factory, doc)["number"] == "RK-20261101-0001"
    assert [r["document_id"] for r in remind_overdue(app.uow_factory, NOW + timedelta(minutes=16))] == [doc]
    change = app.queries.audit(action="setting.change")[0]
    assert change["object_id"] == "overdue.first_minutes" and '"value":60' in change["before"]
