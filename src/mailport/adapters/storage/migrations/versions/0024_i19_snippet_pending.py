"""inbox_messages.snippet_pending: messages first listed without a snippet

A first sync asks a server that makes previews (IMAP PREVIEW, RFC 8970) only for the previews it
has at hand (``PREVIEW (LAZY)``), so that it need not open every message file; the rest are
listed at once and their snippets filled in afterwards. The partial index holds only the rows
still waiting: finding them is cheap, and it empties as they are filled.

Revision ID: 0024_i19_snippet_pending
Revises: 0023_i19_inbox_lean_indexes
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0024_i19_snippet_pending'
down_revision = '0023_i19_inbox_lean_indexes'
branch_labels = None
depends_on = None

# SQLite uses a partial index only for queries that repeat its WHERE term as written; SQLAlchemy
# writes a bare boolean column as "snippet_pending = 1" there, and as "snippet_pending" on PostgreSQL.
_PENDING_SQLITE = sa.text('snippet_pending = 1')
_PENDING_PG = sa.text('snippet_pending')


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite): the table and its indexes stay as they are, and
    # so does SQLite's choice among them (which depends on their order when it has no statistics).
    op.add_column('inbox_messages', sa.Column('snippet_pending', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    op.create_index('ix_inbox_messages_snippet_pending', 'inbox_messages', ['folder_id', 'uidvalidity', 'uid'],
                    unique=False,
                    sqlite_where=_PENDING_SQLITE, postgresql_where=_PENDING_PG)


def downgrade() -> None:
    op.drop_index('ix_inbox_messages_snippet_pending', table_name='inbox_messages')
    with op.batch_alter_table('inbox_messages') as batch:
        batch.drop_column('snippet_pending')
