"""inbox_messages: three index b-trees fewer to maintain on every synced message

An initial sync inserts thousands of rows a second and every index is one more b-tree to update
(a third of the sync's storing time on SQLite, bench/bench_imap.py). Of the seven:

* ``ix_inbox_messages_thread`` (tenant_id, thread_id): no query reads by thread id — dropped;
* ``ix_inbox_messages_folder_msgid`` (folder_id, header_message_id): only the rare resync after a
  UIDVALIDITY change looks stale rows up by folder, which ``uq_inbox_messages_folder_uid``
  (folder_id, …) serves — dropped;
* ``ix_inbox_messages_sent_message_id``: only ``sent_message_id = …`` lookups, and the column is
  NULL on nearly every row (mail that answers nothing we sent) — now partial, NOT NULL rows only.

Revision ID: 0023_i19_inbox_lean_indexes
Revises: 0019_inbox_fleet
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0023_i19_inbox_lean_indexes'
down_revision = '0019_inbox_fleet'
branch_labels = None
depends_on = None

_LINKED = sa.text('sent_message_id IS NOT NULL')


def upgrade() -> None:
    op.drop_index('ix_inbox_messages_thread', table_name='inbox_messages')
    op.drop_index('ix_inbox_messages_folder_msgid', table_name='inbox_messages')
    op.drop_index('ix_inbox_messages_sent_message_id', table_name='inbox_messages')
    op.create_index('ix_inbox_messages_sent_message_id', 'inbox_messages', ['sent_message_id'], unique=False,
                    sqlite_where=_LINKED, postgresql_where=_LINKED)


def downgrade() -> None:
    op.drop_index('ix_inbox_messages_sent_message_id', table_name='inbox_messages')
    op.create_index('ix_inbox_messages_sent_message_id', 'inbox_messages', ['sent_message_id'], unique=False)
    op.create_index('ix_inbox_messages_folder_msgid', 'inbox_messages', ['folder_id', 'header_message_id'],
                    unique=False)
    op.create_index('ix_inbox_messages_thread', 'inbox_messages', ['tenant_id', 'thread_id'], unique=False)
