"""收货批次录入 — a lot number typed (or scanned) on a receiving form becomes the lot the receipt names.

Used by the order page's receive form (/orders/{id}), the phone's receiving page (/m/receive/{id}) and
the document form's new-lot fields, so the three agree on what a typed lot means.

Guarantees:
- A number the product already has is that lot (its dates are not changed); a new number creates the lot
  through `masterdata.create_lot` (its permission check, its expiry rule: entered, else production date
  + shelf life).
- Every problem names the field it is about and all are raised together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from jxc.domain.errors import DomainError, Problems
from jxc.interfaces.web import doc_views as dv
from jxc.services import masterdata, trade


def day(text: str | None) -> date | None:
    """A form's YYYY-MM-DD, or None (empty or not a date)."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def lot_for(app: Any, actor: Any, product_id: int, number: str, now: datetime, produced_on: date | None = None,
            expires_on: date | None = None) -> int:
    """The product's lot with this number, or a new one with these dates."""
    found = app.queries.page_records("lots", None, 1, product_id=product_id, lot_number=number)
    if found:
        return int(found[0]["id"])
    return masterdata.create_lot(app.uow_factory, product_id, number, actor, now, produced_on=produced_on,
                                 expires_on=expires_on)


def receipt_lots(app: Any, actor: Any, order_id: int, quantities: Mapping[int, Any], data: Mapping[str, str],
                 now: datetime, today: date) -> dict[int, int]:
    """{order line no: lot id} for the lot-tracked lines being received, from the fields `lot-<no>`
    (number), `produced-<no>` and `expires-<no>` (dates; production defaults to ``today``)."""
    order = trade.get_order(app.uow_factory, order_id)
    p = Problems()
    out: dict[int, int] = {}
    for ln in order["lines"]:
        no = ln["line_no"]
        if no not in quantities:
            continue
        product = dv.product(app, ln["product_id"]) or {}
        if product.get("tracking", "none") == "none":
            continue
        number = data.get(f"lot-{no}", "").strip()[:64]
        if not number:
            p.add("LOT_REQUIRED", f"lot-{no}", f"第{no}行商品 {product.get('code')} 需要批次，请填写或扫描批次号",
                  f"line {no}: {product.get('code')} is lot-tracked; enter or scan its lot")
            continue
        expires = data.get(f"expires-{no}", "").strip()
        if expires and day(expires) is None:
            p.add("VALUE_INVALID", f"expires-{no}", f"第{no}行到期日无效", f"line {no}: bad expiry date")
            continue
        try:
            out[no] = lot_for(app, actor, ln["product_id"], number, now,
                              day(data.get(f"produced-{no}")) or today, day(expires))
        except DomainError as exc:
            where = f"expires-{no}" if exc.field == "expires_on" else f"lot-{no}"
            p.add(exc.code, where, f"第{no}行：{exc.message_zh}", f"line {no}: {exc.message_en}")
    p.raise_if_any()
    return out
