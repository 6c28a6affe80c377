"""社群订单仓储 — the catalog as the chat parser needs it, learned aliases, and the customer memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError

from jxc.storage.tables import partners, product_barcodes, products, unit_conversions
from jxc.storage.tables_chat import chat_aliases, chat_customer_hints, chat_intakes
from jxc.storage.tables_trade import orders

_REVISION = text(
    "SELECT (SELECT count(*) FROM products), (SELECT coalesce(sum(version), 0) FROM products),"
    " (SELECT max(id) FROM products), (SELECT count(*) FROM unit_conversions),"
    " (SELECT max(id) FROM unit_conversions), (SELECT coalesce(sum(factor), 0) FROM unit_conversions),"
    " (SELECT count(*) FROM product_barcodes), (SELECT max(id) FROM product_barcodes),"
    " (SELECT count(*) FROM chat_aliases), (SELECT coalesce(sum(version), 0) FROM chat_aliases)"
)  # plain SQL, compiled once: it runs before every parse
# Orders whose customer is known for sure: a draft may still be for someone else.
CONFIRMED_STATES = ("confirmed", "partial", "done", "closed")


class SqlChatRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def catalog_revision(self) -> tuple[Any, ...]:
        """A cheap fingerprint that changes whenever a product, conversion, barcode or alias does:
        counts, max ids and sums of versions/factors (updates bump `version`), in one statement."""
        return tuple(self.conn.execute(_REVISION).one())

    def catalog_rows(self) -> list[dict[str, Any]]:
        """Active products with their conversions, barcodes and active learned aliases (3 + 1 queries)."""
        rows = {r["id"]: {**r, "units": [], "barcodes": [], "aliases": []} for r in self.conn.execute(
            select(products.c.id, products.c.code, products.c.name, products.c.spec, products.c.base_unit)
            .where(products.c.active.is_(True)).order_by(products.c.id)).mappings()}
        for r in self.conn.execute(select(unit_conversions.c.product_id, unit_conversions.c.unit,
                                          unit_conversions.c.factor).order_by(unit_conversions.c.id)):
            if r.product_id in rows:
                rows[r.product_id]["units"].append((r.unit, r.factor))
        for r in self.conn.execute(select(product_barcodes.c.product_id, product_barcodes.c.barcode)
                                   .order_by(product_barcodes.c.id)):
            if r.product_id in rows:
                rows[r.product_id]["barcodes"].append(r.barcode)
        for r in self.conn.execute(select(chat_aliases.c.product_id, chat_aliases.c.alias)
                                   .where(chat_aliases.c.active.is_(True)).order_by(chat_aliases.c.updated_at,
                                                                                    chat_aliases.c.id)):
            if r.product_id in rows:
                rows[r.product_id]["aliases"].append(r.alias)
        return list(rows.values())

    def _alias_query(self) -> Any:
        return (select(chat_aliases, products.c.code.label("product_code"), products.c.name.label("product_name"))
                .join_from(chat_aliases, products, products.c.id == chat_aliases.c.product_id))

    def aliases(self, product_id: int | None, include_inactive: bool, limit: int) -> list[dict[str, Any]]:
        q = self._alias_query().order_by(chat_aliases.c.id).limit(limit)
        if product_id is not None:
            q = q.where(chat_aliases.c.product_id == product_id)
        if not include_inactive:
            q = q.where(chat_aliases.c.active.is_(True))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def alias(self, alias_id: int | None = None, alias_key: str | None = None) -> dict[str, Any] | None:
        q = self._alias_query()
        q = q.where(chat_aliases.c.id == alias_id) if alias_id is not None else q.where(
            chat_aliases.c.alias_key == alias_key)
        row = self.conn.execute(q).mappings().first()
        return None if row is None else dict(row)

    def insert_alias(self, values: Mapping[str, Any]) -> int | None:
        """Insert; None when a concurrent clerk took the same phrasing a moment ago (then update it)."""
        try:
            with self.conn.begin_nested():
                return self.conn.execute(chat_aliases.insert().returning(chat_aliases.c.id),
                                         dict(values)).scalar_one()
        except IntegrityError:
            return None

    def update_alias(self, alias_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(chat_aliases).where(chat_aliases.c.id == alias_id)
                          .values(**values, version=chat_aliases.c.version + 1))

    def add_intake(self, values: Mapping[str, Any], hints: Sequence[Mapping[str, Any]]) -> int:
        iid = self.conn.execute(chat_intakes.insert().returning(chat_intakes.c.id), dict(values)).scalar_one()
        if hints:
            self.conn.execute(chat_customer_hints.insert(), [
                {**h, "intake_id": iid, "order_id": values["order_id"], "partner_id": values["partner_id"],
                 "created_at": values["created_at"]} for h in hints])
        return iid

    def hints(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """Hints with these (kind, value_key) from chat orders that were confirmed: per partner and
        key, how often and when last."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return []
        h = chat_customer_hints.c
        q = (select(h.partner_id, h.kind, h.value_key, func.max(h.value).label("value"),
                    func.count().label("seen"), func.max(h.created_at).label("last_seen"))
             .join_from(chat_customer_hints, orders, orders.c.id == h.order_id)
             .where(orders.c.state.in_(CONFIRMED_STATES), tuple_(h.kind, h.value_key).in_(keys))
             .group_by(h.partner_id, h.kind, h.value_key))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def customers(self, phones_like: Iterable[str], names: Iterable[str],
                  address_terms: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Active customers whose phone ends like one of ``phones_like`` (last 4 digits), whose name
        contains one of ``names`` or whose address contains one of ``address_terms``; none asked, none read."""
        pc = partners.c
        conds = [pc.phone.like(f"%{tail}") for tail in phones_like]
        conds += [pc.name.contains(n, autoescape=True) for n in names]
        conds += [pc.address.contains(a, autoescape=True) for a in address_terms]
        if not conds:
            return []
        q = (select(pc.id, pc.code, pc.name, pc.phone, pc.address)
             .where(and_(pc.active.is_(True), pc.role.in_(("customer", "both")), or_(*conds))).limit(500))
        return [dict(r) for r in self.conn.execute(q).mappings()]
