"""suppression list: suppressions and bounce_counters

Revision ID: 0018_suppression
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0018_suppression'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suppressions',
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('address_key', sa.String(length=320), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('diagnosis', sa.String(length=64), nullable=True),
    sa.Column('server_text', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suppressions_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'address_key', name=op.f('pk_suppressions'))
    )
    op.create_table('bounce_counters',
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('address_key', sa.String(length=320), nullable=False),
    sa.Column('soft_count', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bounce_counters_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'address_key', name=op.f('pk_bounce_counters'))
    )


def downgrade() -> None:
    op.drop_table('bounce_counters')
    op.drop_table('suppressions')
