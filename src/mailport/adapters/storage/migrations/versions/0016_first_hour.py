"""first hour: one state per mailbox (what needs attention), a tenant's default sender and time zone

Revision ID: 0016_first_hour
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0016_first_hour'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attention', sa.JSON(), nullable=True))
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_method', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('default_account_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('default_account_id')
        batch_op.drop_column('default_method')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('attention')
