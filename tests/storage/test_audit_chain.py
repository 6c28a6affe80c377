"""操作日志 — the hash chain verifies whatever time zone an action was recorded in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jxc.services import masterdata
from jxc.services.posting import SYSTEM


def test_chain_verifies_for_actions_recorded_in_local_time(app):
    shanghai = datetime(2026, 11, 1, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    masterdata.create(app.uow_factory, "warehouses", {"code": "MD01", "name": "门店"}, SYSTEM, shanghai)
    assert app.queries.violations() == []


def test_update_is_audited_with_before_and_after_and_stale_version_refused(app):
    import pytest

    from jxc.domain.errors import Conflict

    pid = masterdata.create(app.uow_factory, "products", {"code": "A1", "name": "菠菜", "base_unit": "斤"},
                            SYSTEM, datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC")))
    after = masterdata.update(app.uow_factory, "products", pid, {"name": "有机菠菜"}, 1, SYSTEM,
                              datetime(2026, 11, 2, tzinfo=ZoneInfo("UTC")))
    assert after["version"] == 2 and after["name"] == "有机菠菜"
    with pytest.raises(Conflict) as err:
        masterdata.update(app.uow_factory, "products", pid, {"name": "菠菜"}, 1, SYSTEM,
                          datetime(2026, 11, 3, tzinfo=ZoneInfo("UTC")))
    assert err.value.code == "VERSION_CONFLICT"
    assert app.queries.violations() == []
