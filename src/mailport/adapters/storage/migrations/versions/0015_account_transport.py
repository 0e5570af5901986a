"""account transport: smtp_imap (SMTP + IMAP), gmail_api (Gmail API) or graph (Microsoft Graph);
per-account cursor of the provider-API inbox sync (Gmail history id, Graph delta link)

Revision ID: 0015_account_transport
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_account_transport'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transport', sa.String(length=16), nullable=False,
                                      server_default='smtp_imap'))
    op.create_table('api_sync_cursors',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('full_syncs', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_sync_cursors_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_sync_cursors_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_api_sync_cursors'))
    )


def downgrade() -> None:
    op.drop_table('api_sync_cursors')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('transport')
