"""订单完成汇总 — the order-fulfilment projection behind the purchase fulfilment and sales fill-rate reports.

`order_sums` holds additive sums of the orders that count (state confirmed / partial / done /
closed) per local day and per local month of their `created_at`, side (purchase / sales),
warehouse and one dimension:

- dim 'all' (key_id 0): every order once;
- dim 'partner' (key_id = partner): every order once, under its partner;
- dim 'product' (key_id = product): every order once *per product it contains*, with only that
  product's lines.

Written in the transaction that changes an order (storage/order_sums.py), rebuilt by
`order_sums.rebuild_order_sums`; `report_projections` records the time zone the day / month
buckets were cut in.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, String, Table

from jxc.storage.tables import metadata
from jxc.storage.tables_trade import order_lines, orders
from jxc.storage.types import Quantity, UtcDateTime

order_sums = Table(
    "order_sums", metadata,
    Column("side", String(16), primary_key=True),  # purchase / sales (orders.kind)
    Column("dim", String(8), primary_key=True),  # all / partner / product
    Column("grain", String(8), primary_key=True),  # day / month
    Column("period", Date, primary_key=True),  # the local day, or the 1st of the local month
    Column("key_id", Integer, primary_key=True),  # partner or product id; 0 for dim 'all'
    Column("warehouse_id", Integer, primary_key=True),
    Column("orders", Integer, nullable=False),
    Column("orders_done", Integer, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("lines_filled", Integer, nullable=False),  # qty_done ≥ qty_base
    Column("qty_ordered", Quantity(), nullable=False),
    Column("qty_filled", Quantity(), nullable=False),  # Σ min(qty_done, qty_base)
    Index("ix_order_sums_key", "side", "dim", "key_id", "grain", "period"),
    sqlite_with_rowid=False,  # clustered by the key: a report reads its rows, not rowid look-ups
)

report_projections = Table(
    "report_projections", metadata,  # 报表投影 — one row per projection: the zone its days were cut in
    Column("name", String(32), primary_key=True),
    Column("zone", String(64), nullable=False),  # IANA name, from the book setting reports.timezone
    Column("rebuilt_at", UtcDateTime, nullable=True),
)

# The live fulfilment query serves what the projection cannot (a partner filter with by=product, a
# product filter with by=partner, a time range not cut at local midnight): these keep it selective.
Index("ix_orders_partner_created", orders.c.partner_id, orders.c.kind, orders.c.created_at)
Index("ix_order_lines_product", order_lines.c.product_id, order_lines.c.order_id, order_lines.c.qty_base,
      order_lines.c.qty_done)
