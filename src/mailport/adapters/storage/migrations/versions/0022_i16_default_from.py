"""i16: the own domain as a tenant's default sending method, with its From address

Revision ID: 0022_i16_default_from
Revises: 0016_first_hour
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0022_i16_default_from'
down_revision = '0016_first_hour'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_from', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('default_from')
