"""documents, lines, number series, approvals and rules, roles, user scopes, reasons

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:18:37.522814
"""
from alembic import op
import sqlalchemy as sa
import jxc.storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rules'))
    )
    op.create_table('number_sequences',
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'day', name=op.f('pk_number_sequences'))
    )
    op.create_table('reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('label_zh', sa.String(length=64), nullable=False),
    sa.Column('label_en', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reasons')),
    sa.UniqueConstraint('kind', 'code', name='uq_reasons_kind_code')
    )
    op.create_table('roles',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('permissions', sa.Text(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_roles'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('to_warehouse_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('effective_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('source_document_id', sa.Integer(), nullable=True),
    sa.Column('posting_id', sa.Integer(), nullable=True),
    sa.Column('reversal_posting_id', sa.Integer(), nullable=True),
    sa.Column('allow_negative', sa.Boolean(), nullable=False),
    sa.Column('approval_level', sa.Integer(), nullable=False),
    sa.Column('approval_plan', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', jxc.storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reminder_level', sa.Integer(), nullable=False),
    sa.CheckConstraint("state in ('draft', 'pending_approval', 'posted', 'reversed', 'cancelled')", name=op.f('ck_documents_state')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_documents_partner_id_partners')),
    sa.ForeignKeyConstraint(['posting_id'], ['postings.id'], name=op.f('fk_documents_posting_id_postings')),
    sa.ForeignKeyConstraint(['reversal_posting_id'], ['postings.id'], name=op.f('fk_documents_reversal_posting_id_postings')),
    sa.ForeignKeyConstraint(['source_document_id'], ['documents.id'], name=op.f('fk_documents_source_document_id_documents')),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouses.id'], name=op.f('fk_documents_to_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_documents_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_documents_idempotency_key')),
    sa.UniqueConstraint('number', name=op.f('uq_documents_number')),
    sa.UniqueConstraint('posting_id', name=op.f('uq_documents_posting_id')),
    sa.UniqueConstraint('reversal_posting_id', name=op.f('uq_documents_reversal_posting_id'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_state_kind', ['state', 'kind'], unique=False)
        batch_op.create_index('ix_documents_warehouse_time', ['warehouse_id', 'effective_at'], unique=False)

    op.create_table('user_warehouses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_warehouses_user_id_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_user_warehouses_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('user_id', 'warehouse_id', name=op.f('pk_user_warehouses'))
    )
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', jxc.storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision in ('approved', 'rejected')", name=op.f('ck_approvals_decision')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_approvals_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_document_id'), ['document_id'], unique=False)

    op.create_table('document_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('qty', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('qty_base', jxc.storage.types.ScaledDecimal(4), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('unit_price', jxc.storage.types.ScaledDecimal(6), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('to_location_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('source_line_no', sa.Integer(), nullable=True),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_lines_document_id_documents')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_document_lines_location_id_locations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_document_lines_product_id_products')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_document_lines_to_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_lines')),
    sa.UniqueConstraint('document_id', 'line_no', name='uq_document_lines_document_line')
    )
    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.create_index('ix_document_lines_product', ['product_id'], unique=False)
    # Built-in roles, default approval rules and reasons.
    from jxc.storage.schema import seed_documents

    seed_documents(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_document_lines_product')

    op.drop_table('document_lines')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_document_id'))

    op.drop_table('approvals')
    op.drop_table('user_warehouses')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_warehouse_time')
        batch_op.drop_index('ix_documents_state_kind')

    op.drop_table('documents')
    op.drop_table('roles')
    op.drop_table('reasons')
    op.drop_table('number_sequences')
    op.drop_table('approval_rules')
