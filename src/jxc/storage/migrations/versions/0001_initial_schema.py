"""initial schema: master data, ledger, balances, periods, audit, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 04:05:45.018637
"""
import sqlalchemy as sa
from alembic import op

import jxc.storage.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('device', sa.String(length=200), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_records')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_records_seq'))
    )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index('ix_audit_records_object', ['object_type', 'object_id'], unique=False)

    op.create_table('balances',
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('value', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.PrimaryKeyConstraint('location_id', 'product_id', 'lot_id', 'status', name=op.f('pk_balances'))
    )
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.create_index('ix_balances_product', ['product_id'], unique=False)

    op.create_table('books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('closed_until', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_books'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('aggregate', sa.String(length=32), nullable=False),
    sa.Column('aggregate_id', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_undelivered', ['delivered_at', 'id'], unique=False)

    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('credit_limit', jxc.storage.types.ScaledDecimal(4), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role in ('supplier', 'customer', 'both')", name=op.f('ck_partners_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('code', name=op.f('uq_partners_code'))
    )
    op.create_table('periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closed_until', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periods')),
    sa.UniqueConstraint('closed_until', name=op.f('uq_periods_closed_until'))
    )
    op.create_table('postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('effective_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('posted_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('allow_negative', sa.Boolean(), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['reverses_id'], ['postings.id'], name=op.f('fk_postings_reverses_id_postings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postings')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_postings_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_postings_reverses_id'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('spec', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('base_unit', sa.String(length=16), nullable=False),
    sa.Column('tracking', sa.String(length=16), nullable=False),
    sa.Column('shelf_life_days', sa.Integer(), nullable=True),
    sa.Column('safety_stock', jxc.storage.types.ScaledDecimal(4), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("tracking in ('none', 'lot', 'serial')", name=op.f('ck_products_tracking')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('warehouses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('warehouse', 'store')", name=op.f('ck_warehouses_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouses_code'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('posting_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('unit_cost', jxc.storage.types.ScaledDecimal(6), nullable=False),
    sa.Column('value', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('effective_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['posting_id'], ['postings.id'], name=op.f('fk_ledger_entries_posting_id_postings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_posting', ['posting_id'], unique=False)
        batch_op.create_index('ix_ledger_entries_product_time', ['product_id', 'effective_at'], unique=False)
        batch_op.create_index('ix_ledger_entries_time', ['effective_at'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'physical' or warehouse_id is not null", name=op.f('ck_locations_physical_in_warehouse')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_locations_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_locations_code'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_number', sa.String(length=64), nullable=False),
    sa.Column('produced_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_lots_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('product_id', 'lot_number', name='uq_lots_product_lot_number')
    )
    op.create_table('period_balances',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('value', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_period_balances_period_id_periods')),
    sa.PrimaryKeyConstraint('period_id', 'location_id', 'product_id', 'lot_id', 'status', name=op.f('pk_period_balances'))
    )
    with op.batch_alter_table('period_balances', schema=None) as batch_op:
        batch_op.create_index('ix_period_balances_product', ['period_id', 'product_id'], unique=False)

    op.create_table('product_barcodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_barcodes_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_barcodes')),
    sa.UniqueConstraint('barcode', name=op.f('uq_product_barcodes_barcode'))
    )
    with op.batch_alter_table('product_barcodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_barcodes_product_id'), ['product_id'], unique=False)

    op.create_table('unit_conversions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('factor', jxc.storage.types.ScaledDecimal(6), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_unit_conversions_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_conversions')),
    sa.UniqueConstraint('product_id', 'unit', name='uq_unit_conversions_product_unit')
    )
    # Rows every book starts with: the book head and the virtual locations.
    from jxc.storage.schema import seed_book

    seed_book(op.get_bind())


def downgrade() -> None:
    op.drop_table('unit_conversions')
    with op.batch_alter_table('product_barcodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_barcodes_product_id'))

    op.drop_table('product_barcodes')
    with op.batch_alter_table('period_balances', schema=None) as batch_op:
        batch_op.drop_index('ix_period_balances_product')

    op.drop_table('period_balances')
    op.drop_table('lots')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_warehouse_id'))

    op.drop_table('locations')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_time')
        batch_op.drop_index('ix_ledger_entries_product_time')
        batch_op.drop_index('ix_ledger_entries_posting')

    op.drop_table('ledger_entries')
    op.drop_table('warehouses')
    op.drop_table('users')
    op.drop_table('products')
    op.drop_table('postings')
    op.drop_table('periods')
    op.drop_table('partners')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_undelivered')

    op.drop_table('outbox_events')
    op.drop_table('books')
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.drop_index('ix_balances_product')

    op.drop_table('balances')
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_records_object')

    op.drop_table('audit_records')
