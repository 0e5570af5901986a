"""index for retention: finished jobs by age

Pruning deletes ``jobs`` in a final state older than the retention age; the index keeps that a
range scan instead of a scan of the whole queue.

Revision ID: 0014_retention
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

revision = '0014_retention'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_jobs_finished', 'jobs', ['state', 'updated_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_finished', table_name='jobs')
