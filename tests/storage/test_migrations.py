"""Alembic — one head, upgrade is rerunnable, down/up round-trips, and no drift from tables.py."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from jxc.bootstrap import build
from jxc.config import Settings
from jxc.storage.schema import alembic_config, migrate
from jxc.storage.tables import metadata
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def fresh(pg_url, worker_id, tmp_path):
    """An empty database of its own (never the shared test database): migrations start from zero."""
    if pg_url is None:
        a = build(Settings(data_dir=tmp_path))
        yield a
        a.dispose()
        return
    import psycopg

    name = f"jxc_migrations_{os.getpid()}_{worker_id}"
    admin = psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    a = build(Settings(database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
    yield a
    a.dispose()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_single_head(fresh):
    heads = ScriptDirectory.from_config(alembic_config(fresh.engine)).get_heads()
    assert len(heads) == 1


def test_upgrade_matches_tables_and_is_rerunnable(fresh):
    fresh.upgrade()
    fresh.upgrade()
    with fresh.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
    with fresh.engine.connect() as conn:
        assert conn.execute(text("select count(*) from locations where kind <> 'physical'")).scalar() == 7
        assert conn.execute(text("select count(*) from books")).scalar() == 1


def test_downgrade_then_upgrade_round_trips(fresh):
    from alembic import command

    fresh.upgrade()
    command.downgrade(alembic_config(fresh.engine), "base")
    assert set(inspect(fresh.engine).get_table_names()) <= {"alembic_version"}
    migrate(fresh.engine)
    assert "ledger_entries" in inspect(fresh.engine).get_table_names()


def test_upgrading_an_existing_book_brings_the_new_defaults(fresh):
    """A book made before the money/trade release gets them on upgrade, without losing its own edits:
    the built-in finance role gains the money permissions (its other grants kept) and the default
    over-receipt rule (超收需主管审批) is added once, beside the owner's own rules."""
    from jxc.storage.schema import seed_documents

    migrate(fresh.engine, "0007")
    with fresh.engine.begin() as conn:
        seed_documents(conn)
        conn.execute(text("delete from approval_rules where name = '超收需主管审批'"))
        conn.execute(text("update roles set permissions = '[\"report.view\"]' where code = 'finance'"))
        rules_before = conn.execute(text("select count(*) from approval_rules")).scalar()
    migrate(fresh.engine)
    migrate(fresh.engine)  # rerunnable: nothing added twice
    with fresh.engine.connect() as conn:
        import json

        perms = set(json.loads(conn.execute(text("select permissions from roles where code = 'finance'")).scalar()))
        names = [r[0] for r in conn.execute(text("select name from approval_rules"))]
    assert perms == {"report.view", "money.receive", "money.pay", "money.view", "sales.credit_override"}
    assert names.count("超收需主管审批") == 1 and len(names) == rules_before + 1


def test_check_constraints_follow_the_tables(fresh):
    """Autogenerate cannot see CHECK constraints: every one tables.py names exists in the migrated book,
    and a changed one (payments accept refunds, 退款) changed there too."""
    from sqlalchemy import CheckConstraint

    fresh.upgrade()
    insp = inspect(fresh.engine)
    for table in metadata.sorted_tables:
        want = {c.name for c in table.constraints if isinstance(c, CheckConstraint) and c.name}
        got = {c["name"] for c in insp.get_check_constraints(table.name)}
        assert want <= got, (table.name, want - got)
    checks = {c["name"]: c["sqltext"] for c in inspect(fresh.engine).get_check_constraints("payments")}
    assert "customer_refund" in checks["ck_payments_kind"] and "supplier_refund" in checks["ck_payments_kind"]
    from alembic import command

    command.downgrade(alembic_config(fresh.engine), "0009")
    checks = {c["name"]: c["sqltext"] for c in inspect(fresh.engine).get_check_constraints("payments")}
    assert "customer_refund" not in checks["ck_payments_kind"]


def test_upgrading_a_book_with_history_back_fills_both_report_projections(fresh):
    """A book that traded before the projections existed gets 汇总表 (report_sums) and 订单完成汇总
    (order_sums) filled by the upgrade itself: the same rows the postings wrote, and R1 / R2 hold.
    On SQLite the way down and up again copies tables other rows point at (payments, documents):
    nothing is refused and no row is lost."""
    from alembic import command

    from jxc.domain.money import PaymentKind
    from jxc.services import money, trade
    from tests.storage.test_order_sums import BOSS, NOW, make_shop

    fresh.upgrade()
    shop = make_shop(fresh)  # receipts into two warehouses
    f = fresh.uow_factory
    order = trade.create_order(f, "sales", shop.customers[0], shop.whs[0],
                               [trade.OrderLineInput(shop.products[0], "5", unit_price="3")], BOSS, NOW)
    trade.confirm_order(f, order, BOSS, NOW)
    trade.deliver(f, order, {1: "2"}, BOSS, NOW)
    bank = money.create_account(f, "YH", "银行", "bank", BOSS, NOW)  # a payment its items point at
    money.record_payment(f, money.PaymentInput(PaymentKind.RECEIPT, shop.customers[0], bank, "4", NOW), BOSS, NOW)

    def projected() -> dict[str, list]:
        with fresh.engine.connect() as conn:
            return {t: sorted(tuple(r) for r in conn.execute(text(f"select * from {t}")))
                    for t in ("report_sums", "order_sums")}

    written = projected()
    assert written["report_sums"] and written["order_sums"]
    with fresh.engine.connect() as conn:
        counts = [conn.execute(text(f"select count(*) from {t}")).scalar() for t in ("documents", "payments")]
    command.downgrade(alembic_config(fresh.engine), "0009")
    assert not {"report_sums", "order_sums"} & set(inspect(fresh.engine).get_table_names())
    migrate(fresh.engine)
    assert projected() == written
    with fresh.engine.connect() as conn:
        assert [conn.execute(text(f"select count(*) from {t}")).scalar() for t in ("documents", "payments")] == counts
        assert conn.execute(text("select freight_basis from documents")).scalars().all() == ["amount"] * counts[0]
    assert fresh.queries.violations() == []
