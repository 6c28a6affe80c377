"""主数据 — validation names every bad field in zh + en; codes unique; deactivate, never delete."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.errors import DomainError, ValidationFailed
from jxc.domain.ledger import Movement
from jxc.domain.quantities import UnitConversion, to_base
from jxc.services import masterdata
from jxc.services.posting import SYSTEM, PostingRequest, post
from tests.conftest import NOW


def test_product_create_reports_every_bad_field_at_once(app):
    with pytest.raises(ValidationFailed) as err:
        masterdata.create(app.uow_factory, "products",
                          {"code": " ", "name": "", "base_unit": "瓶", "tracking": "batch",
                           "shelf_life_days": "-3", "safety_stock": "abc", "colour": "red"},
                          SYSTEM, NOW)
    fields = {(p.code, p.field) for p in err.value.problems}
    assert fields == {("VALUE_INVALID", "colour"), ("VALUE_REQUIRED", "code"), ("VALUE_REQUIRED", "name"),
                      ("VALUE_INVALID", "tracking"), ("VALUE_INVALID", "shelf_life_days"),
                      ("VALUE_INVALID", "safety_stock")}
    assert all(p.message_zh and p.message_en for p in err.value.problems)


def test_codes_are_unique_and_the_message_names_the_holder(app, world):
    with pytest.raises(ValidationFailed) as err:
        masterdata.create(app.uow_factory, "products", {"code": "P002", "name": "x", "base_unit": "袋"},
                          SYSTEM, NOW)
    assert err.value.code == "CODE_TAKEN" and "东北大米" in err.value.message_zh


def test_warehouse_gets_a_default_location_and_physical_location_needs_a_warehouse(app):
    wid = masterdata.create(app.uow_factory, "warehouses", {"code": "W2", "name": "二号仓", "kind": "store"},
                            SYSTEM, NOW)
    with app.uow_factory() as uow:
        assert uow.records.find("locations", code="W2-01")["warehouse_id"] == wid
    with pytest.raises(ValidationFailed) as err:
        masterdata.create(app.uow_factory, "locations", {"code": "X", "name": "无仓库货架"}, SYSTEM, NOW)
    assert err.value.field == "warehouse_id"


def test_deactivated_product_cannot_be_posted(app, world):
    masterdata.deactivate(app.uow_factory, "products", world.rice, SYSTEM, NOW)
    req = PostingRequest("receipt", (Movement(world.rice, D(1), world.supplier, world.shelf_a,
                                              unit_cost=D(1)),), NOW)
    with pytest.raises(ValidationFailed) as err:
        post(app.uow_factory, req, SYSTEM, NOW)
    assert err.value.code == "INACTIVE" and "P002" in err.value.message_zh


def test_unit_conversion_converts_exactly_and_refuses_duplicates(app, world):
    masterdata.add_unit_conversion(app.uow_factory, world.eggs, "箱", "360", SYSTEM, NOW)
    with pytest.raises(ValidationFailed) as err:
        masterdata.add_unit_conversion(app.uow_factory, world.eggs, "箱", "30", SYSTEM, NOW)
    assert err.value.code == "CODE_TAKEN"
    with pytest.raises(ValidationFailed) as err:
        masterdata.add_unit_conversion(app.uow_factory, world.eggs, "盒", "0", SYSTEM, NOW)
    assert err.value.field == "factor"
    convs = (UnitConversion("箱", D(360)), UnitConversion("斤", D("0.3333")))
    assert to_base(D("2.5"), "箱", "个", convs) == D(900)
    with pytest.raises(DomainError) as e2:
        to_base(D("1.55555"), "斤", "个", convs)
    assert e2.value.code == "QTY_TOO_PRECISE"
    with pytest.raises(DomainError) as e3:
        to_base(D(1), "托", "个", convs)
    assert e3.value.code == "UNIT_UNKNOWN" and "箱" in e3.value.message_zh


def test_barcodes_several_per_product_but_each_on_one_product(app, world):
    masterdata.add_barcode(app.uow_factory, world.rice, "6901234567892", SYSTEM, NOW)
    masterdata.add_barcode(app.uow_factory, world.rice, "6901234567908", SYSTEM, NOW)
    with pytest.raises(ValidationFailed) as err:
        masterdata.add_barcode(app.uow_factory, world.eggs, "6901234567892", SYSTEM, NOW)
    assert err.value.code == "CODE_TAKEN" and "P002" in err.value.message_zh


def test_lot_expiry_is_computed_from_shelf_life(app, world):
    lot = masterdata.create_lot(app.uow_factory, world.milk, "L2", SYSTEM, NOW, produced_on=date(2026, 11, 1))
    with app.uow_factory() as uow:
        assert uow.records.get("lots", lot)["expires_on"] == date(2026, 11, 1) + timedelta(days=21)
    with pytest.raises(ValidationFailed) as err:
        masterdata.create_lot(app.uow_factory, world.rice, "L3", SYSTEM, NOW)
    assert err.value.code == "LOT_NOT_ALLOWED"


def test_base_unit_cannot_change_once_stock_moved(app, world):
    post(app.uow_factory, PostingRequest("receipt", (Movement(world.rice, D(1), world.supplier, world.shelf_a,
                                                              unit_cost=D(1)),), NOW), SYSTEM, NOW)
    with pytest.raises(ValidationFailed) as err:
        masterdata.update(app.uow_factory, "products", world.rice, {"base_unit": "斤"}, None, SYSTEM, NOW)
    assert err.value.field == "base_unit"
    masterdata.update(app.uow_factory, "products", world.eggs, {"base_unit": "枚"}, None, SYSTEM, NOW)


def test_location_with_stock_cannot_change_kind_or_warehouse(app, world):
    post(app.uow_factory, PostingRequest("receipt", (Movement(world.rice, D(1), world.supplier, world.shelf_a,
                                                              unit_cost=D(1)),), NOW), SYSTEM, NOW)
    with pytest.raises(ValidationFailed) as err:
        masterdata.update(app.uow_factory, "locations", world.shelf_a, {"kind": "scrap"}, None, SYSTEM, NOW)
    assert err.value.field == "kind" and "调拨" in err.value.message_zh
    masterdata.update(app.uow_factory, "locations", world.shelf_b, {"name": "B货架(冷藏)"}, None, SYSTEM, NOW)
    masterdata.update(app.uow_factory, "locations", world.shelf_b, {"kind": "scrap"}, None, SYSTEM, NOW)


def test_master_data_needs_masterdata_edit_but_a_receiving_keeper_may_create_lots(app, world):
    from jxc.domain.errors import Forbidden
    from jxc.domain.permissions import BUILTIN_ROLES
    from jxc.services.posting import Actor

    keeper = Actor("zhang", BUILTIN_ROLES["keeper"][2], role="keeper")
    with pytest.raises(Forbidden) as err:
        masterdata.create(app.uow_factory, "products", {"code": "X1", "name": "x", "base_unit": "个"}, keeper, NOW)
    assert err.value.code == "PERMISSION_DENIED" and "masterdata.edit" in err.value.message_en
    with pytest.raises(Forbidden):
        masterdata.update(app.uow_factory, "products", world.rice, {"name": "改名"}, None, keeper, NOW)
    assert masterdata.create_lot(app.uow_factory, world.milk, "L-PDA-1", keeper, NOW) > 0
