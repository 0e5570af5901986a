"""ui_test_runs: the mailbox page's live test runs, shared by every API process

With ``serve --processes N`` (or several servers behind a load balancer) the browser's polls of a
test run reach any process; the run's progress is kept here so each of them can answer, while the
test itself runs in the process that started it (which renews ``updated_at`` as its heartbeat).

Revision ID: 0026_ui_test_runs
Revises: 0017_hardening
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0026_ui_test_runs'
down_revision = '0017_hardening'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ui_test_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('stages', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ui_test_runs_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ui_test_runs'))
    )
    with op.batch_alter_table('ui_test_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ui_test_runs_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ui_test_runs_started_at'), ['started_at'], unique=False)
        batch_op.create_index('ix_ui_test_runs_session', ['session_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_table('ui_test_runs')
