"""purchase and sales orders; document lines link to order lines and reservations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:09:52.164042
"""
from alembic import op
import sqlalchemy as sa
import jxc.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('needed_on', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('purchase', 'sales')", name=op.f('ck_orders_kind')),
    sa.CheckConstraint("state in ('draft', 'confirmed', 'partial', 'done', 'closed', 'cancelled')", name=op.f('ck_orders_state')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_orders_partner_id_partners')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_kind_state', ['kind', 'state'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('qty_base', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('qty_done', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('unit_price', jxc.storage.types.ScaledDecimal(6), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('shortage', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_line_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reservation_id', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.drop_column('reservation_id')
        batch_op.drop_column('order_line_id')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_kind_state')

    op.drop_table('orders')
