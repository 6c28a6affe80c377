"""商品搜索索引 on a real book: an edit or a new product is found by the next search, in any process."""

from __future__ import annotations

from jxc.services import masterdata
from jxc.services.catalog_search import CatalogIndex
from jxc.services.posting import SYSTEM
from tests.conftest import NOW, make_world


def test_renamed_and_new_products_are_found_by_the_next_search(app):
    w = make_world(app)
    f = app.uow_factory
    index = CatalogIndex()
    assert index.current(app.web).initials_match("dbdm") == [w.rice]
    before = index.current(app.web)
    assert index.current(app.web) is before  # unchanged catalogue: the same index, no rebuild
    row = app.web.product(w.rice)
    masterdata.update(f, "products", w.rice, {"name": "五常大米"}, row["version"], SYSTEM, NOW)
    assert index.current(app.web).initials_match("dbdm") == [] and index.current(app.web).initials_match("wcdm") == [
        w.rice]
    new = masterdata.create(f, "products", {"code": "Q1", "name": "东北大豆", "base_unit": "斤"}, SYSTEM, NOW)
    assert index.current(app.web).find("dbd", 5) == [new]
    masterdata.deactivate(f, "products", new, SYSTEM, NOW)
    assert index.current(app.web).find("dbd", 5) == [] and index.current(app.web).initials_match("dbd") == [new]
    assert index.builds == 4  # first build, then one per change
    assert [p["code"] for p in app.web.products_by_ids([new, w.rice, 10**6])] == ["Q1", "P002"]
