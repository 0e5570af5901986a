"""jobs: ix_jobs_ready_tenant, the ready jobs of each tenant in the order they run

A worker's claim keeps each tenant to its share of the worker. When one tenant's month-end backlog
fills the front of the queue, the claim used to walk through all of it on every claim to find
another tenant's job behind it (200 ms at 300,000 queued on SQLite, holding the write lock). With
this partial index it asks each tenant for its own oldest jobs instead, one probe per tenant.

Revision ID: 0027_jobs_ready_by_tenant
Revises: 0021_job_heartbeat
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0027_jobs_ready_by_tenant'
down_revision = '0021_job_heartbeat'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_ready_tenant', ['tenant_id', 'run_at'], unique=False,
                              postgresql_where=sa.text("state = 'ready'"), sqlite_where=sa.text("state = 'ready'"))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_ready_tenant')
