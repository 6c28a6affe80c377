"""reservations, their totals (the lock row), channels, per-product expiry thresholds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:03:05.242194
"""
from alembic import op
import sqlalchemy as sa
import jxc.storage.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_published',
    sa.Column('channel_code', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel_code', 'product_id', name=op.f('pk_channel_published'))
    )
    op.create_table('channels',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('warehouse_ids', sa.Text(), nullable=False),
    sa.Column('buffer_qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('quota_pct', sa.Integer(), nullable=False),
    sa.Column('ttl_s', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('quota_pct between 0 and 100', name=op.f('ck_channels_quota')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_channels'))
    )
    op.create_table('reservation_totals',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.PrimaryKeyConstraint('product_id', 'warehouse_id', name=op.f('pk_reservation_totals'))
    )
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('qty_consumed', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('channel_code', sa.String(length=32), nullable=True),
    sa.Column('expires_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state in ('pending', 'consumed', 'released', 'expired')", name=op.f('ck_reservations_state')),
    sa.CheckConstraint('qty > 0', name=op.f('ck_reservations_qty_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_reservations_product_id_products')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_reservations_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_reservations_idempotency_key'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index('ix_reservations_expiry', ['state', 'expires_at'], unique=False)
        batch_op.create_index('ix_reservations_holder', ['holder'], unique=False)
        batch_op.create_index('ix_reservations_open', ['product_id', 'warehouse_id', 'state'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_warn_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expiry_block_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('expiry_block_days')
        batch_op.drop_column('expiry_warn_days')

    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_open')
        batch_op.drop_index('ix_reservations_holder')
        batch_op.drop_index('ix_reservations_expiry')

    op.drop_table('reservations')
    op.drop_table('reservation_totals')
    op.drop_table('channels')
    op.drop_table('channel_published')
