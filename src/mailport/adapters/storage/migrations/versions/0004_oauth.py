"""oauth: pending authorization states and OAuth grants of accounts

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_states',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('login_hint', sa.String(length=320), nullable=True),
    sa.Column('return_url', sa.Text(), nullable=True),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_oauth_states_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_states')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_oauth_states_state_hash'))
    )
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_states_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_states_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('oauth_grants',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('directory', sa.String(length=64), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oauth_grants_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_oauth_grants_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_oauth_grants'))
    )
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_grants_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_grants_tenant_id'))
    op.drop_table('oauth_grants')
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_states_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_states_expires_at'))
    op.drop_table('oauth_states')
