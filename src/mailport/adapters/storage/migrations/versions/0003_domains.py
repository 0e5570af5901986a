"""domains, platform senders, captured platform mail

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domains',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=253), nullable=False),
    sa.Column('unicode_name', sa.String(length=253), nullable=False),
    sa.Column('selector', sa.String(length=63), nullable=False),
    sa.Column('return_path_prefix', sa.String(length=63), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('fallback', sa.String(length=16), nullable=False),
    sa.Column('state_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('degraded_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_manual_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_check', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_domains_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domains')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_domains_tenant_name')
    )
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.create_index('ix_domains_next_check', ['next_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_domains_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_senders',
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('alias', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('reply_to', sa.String(length=320), nullable=True),
    sa.Column('reply_to_pending', sa.String(length=320), nullable=True),
    sa.Column('reply_to_token_hash', sa.String(length=64), nullable=True),
    sa.Column('reply_to_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_to_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_platform_senders_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_platform_senders')),
    sa.UniqueConstraint('alias', name=op.f('uq_platform_senders_alias'))
    )

    op.create_table('captured_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=True),
    sa.Column('mail_from', sa.String(length=320), nullable=False),
    sa.Column('rcpt_to', sa.JSON(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_captured_messages_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_captured_messages'))
    )
    with op.batch_alter_table('captured_messages', schema=None) as batch_op:
        batch_op.create_index('ix_captured_tenant_created', ['tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('captured_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_captured_tenant_created')
    op.drop_table('captured_messages')
    op.drop_table('platform_senders')
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domains_tenant_id'))
        batch_op.drop_index('ix_domains_next_check')
    op.drop_table('domains')
