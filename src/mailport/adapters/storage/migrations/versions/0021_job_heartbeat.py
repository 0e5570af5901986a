"""jobs.renewed_at: when the holder last renewed its lease (its heartbeat)

A running job holds its account's concurrency slot only while its worker keeps renewing it
(mailport.core.leases.holds_slot), so a crashed worker stops blocking its mailbox in seconds.

Revision ID: 0021_job_heartbeat
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0021_job_heartbeat'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('renewed_at')
