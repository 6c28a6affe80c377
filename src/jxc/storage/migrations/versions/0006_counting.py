"""stock counts: plans, tasks, entries, results, ABC classes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:29:15.162241
"""
from alembic import op
import sqlalchemy as sa
import jxc.storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('count_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('full', 'cycle')", name=op.f('ck_count_plans_kind')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_count_plans_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_plans'))
    )
    op.create_table('product_abc',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=False),
    sa.Column('usage_value', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('computed_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("abc_class in ('A', 'B', 'C')", name=op.f('ck_product_abc_abc_class')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_abc_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product_abc'))
    )
    op.create_table('count_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('close_seq', sa.Integer(), nullable=False),
    sa.Column('adjustment_document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("state in ('open', 'counting', 'closed', 'cancelled')", name=op.f('ck_count_tasks_state')),
    sa.ForeignKeyConstraint(['adjustment_document_id'], ['documents.id'], name=op.f('fk_count_tasks_adjustment_document_id_documents')),
    sa.ForeignKeyConstraint(['plan_id'], ['count_plans.id'], name=op.f('fk_count_tasks_plan_id_count_plans')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_count_tasks_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_tasks')),
    sa.UniqueConstraint('number', name=op.f('uq_count_tasks_number'))
    )
    with op.batch_alter_table('count_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_count_tasks_warehouse_state', ['warehouse_id', 'state'], unique=False)

    op.create_table('count_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('qty_base', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.Column('photo_ref', sa.String(length=300), nullable=True),
    sa.Column('counted_by', sa.String(length=64), nullable=False),
    sa.Column('counted_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('received_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('device', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.CheckConstraint("condition in ('good', 'damaged', 'near_expiry')", name=op.f('ck_count_entries_condition')),
    sa.CheckConstraint('qty_base >= 0', name=op.f('ck_count_entries_qty_base_not_negative')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_entries_location_id_locations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_count_entries_product_id_products')),
    sa.ForeignKeyConstraint(['task_id'], ['count_tasks.id'], name=op.f('fk_count_entries_task_id_count_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_entries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_count_entries_idempotency_key'))
    )
    with op.batch_alter_table('count_entries', schema=None) as batch_op:
        batch_op.create_index('ix_count_entries_task', ['task_id', 'product_id'], unique=False)

    op.create_table('count_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('close_seq', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('counted_qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('book_qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('variance', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('unit_cost', jxc.storage.types.ScaledDecimal(6), nullable=False),
    sa.Column('value', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('counted_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('counted_by', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('conditions', sa.String(length=64), nullable=False),
    sa.Column('within_tolerance', sa.Boolean(), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('closed_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_count_results_product_id_products')),
    sa.ForeignKeyConstraint(['task_id'], ['count_tasks.id'], name=op.f('fk_count_results_task_id_count_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_results'))
    )
    with op.batch_alter_table('count_results', schema=None) as batch_op:
        batch_op.create_index('ix_count_results_product', ['product_id', 'counted_at'], unique=False)
        batch_op.create_index('ix_count_results_task', ['task_id', 'close_seq'], unique=False)

    op.create_table('count_task_assignees',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['count_tasks.id'], name=op.f('fk_count_task_assignees_task_id_count_tasks')),
    sa.PrimaryKeyConstraint('task_id', 'username', name=op.f('pk_count_task_assignees'))
    )
    op.create_table('count_task_items',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_task_items_location_id_locations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_count_task_items_product_id_products')),
    sa.ForeignKeyConstraint(['task_id'], ['count_tasks.id'], name=op.f('fk_count_task_items_task_id_count_tasks')),
    sa.PrimaryKeyConstraint('task_id', 'location_id', 'product_id', 'lot_id', name=op.f('pk_count_task_items'))
    )


def downgrade() -> None:
    op.drop_table('count_task_items')
    op.drop_table('count_task_assignees')
    with op.batch_alter_table('count_results', schema=None) as batch_op:
        batch_op.drop_index('ix_count_results_task')
        batch_op.drop_index('ix_count_results_product')

    op.drop_table('count_results')
    with op.batch_alter_table('count_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_count_entries_task')

    op.drop_table('count_entries')
    with op.batch_alter_table('count_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_count_tasks_warehouse_state')

    op.drop_table('count_tasks')
    op.drop_table('product_abc')
    op.drop_table('count_plans')
