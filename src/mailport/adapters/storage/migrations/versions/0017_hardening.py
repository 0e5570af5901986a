"""hardening: API keys' last use, single-use sign-in links, revocable web-page sessions

Revision ID: 0017_hardening
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0017_hardening'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('ui_link_uses',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_ui_link_uses'))
    )
    with op.batch_alter_table('ui_link_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ui_link_uses_expires_at'), ['expires_at'], unique=False)

    op.create_table('ui_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ui_sessions_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ui_sessions'))
    )
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ui_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_ui_sessions_tenant_user', ['tenant_id', 'user_name'], unique=False)


def downgrade() -> None:
    op.drop_table('ui_sessions')
    op.drop_table('ui_link_uses')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
