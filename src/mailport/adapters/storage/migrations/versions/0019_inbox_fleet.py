"""inbox at fleet scale: attachments known at sync time, the registry of sync workers

Revision ID: 0019_inbox_fleet
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0019_inbox_fleet'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_messages') as batch:
        batch.add_column(sa.Column('attachments', sa.JSON(), nullable=True))
    op.create_table('inbox_workers',
    sa.Column('worker_id', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_inbox_workers')),
    )
    op.create_index(op.f('ix_inbox_workers_seen_at'), 'inbox_workers', ['seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbox_workers_seen_at'), table_name='inbox_workers')
    op.drop_table('inbox_workers')
    with op.batch_alter_table('inbox_messages') as batch:
        batch.drop_column('attachments')
