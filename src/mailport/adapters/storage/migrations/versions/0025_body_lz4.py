"""message_contents.raw: lz4 instead of pglz on PostgreSQL

A message body is ~20–30 KB, mostly base64 of documents that are compressed already (PDF). pglz,
PostgreSQL's default TOAST compression, spent 0.35 ms of the database's CPU per INSERT finding out
that such a body does not compress; lz4 finds out in 0.08 ms and still compresses bodies that do
(text, HTML). Measured with 1,000 invoice bodies (bench/bench_send.py, "session 6 PostgreSQL
pass"). Only rows written from now on use it; older rows stay readable as they are. Skipped on
SQLite, and on a PostgreSQL server built without lz4 (it keeps pglz).

Revision ID: 0025_body_lz4
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0025_body_lz4'
down_revision = '0002'
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    return bool(bind.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar())


def upgrade() -> None:
    if _lz4_available():
        op.execute('ALTER TABLE message_contents ALTER COLUMN raw SET COMPRESSION lz4')


def downgrade() -> None:
    if _lz4_available():
        op.execute('ALTER TABLE message_contents ALTER COLUMN raw SET COMPRESSION pglz')
