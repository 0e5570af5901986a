"""inbox: synced messages, participants, folder cursors, sync state and leases, contacts

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_contacts_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('tenant_id', 'external_id', name='uq_contacts_tenant_external')
    )
    op.create_table('inbox_folders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uidnext', sa.BigInteger(), nullable=True),
    sa.Column('highestmodseq', sa.BigInteger(), nullable=True),
    sa.Column('window_start', sa.Date(), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inbox_folders_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_folders')),
    sa.UniqueConstraint('account_id', 'name', name='uq_inbox_folders_account_name')
    )
    with op.batch_alter_table('inbox_folders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_folders_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('inbox_sync',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inbox_sync_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_inbox_sync'))
    )
    with op.batch_alter_table('inbox_sync', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_sync_lease_until'), ['lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_sync_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('contact_addresses',
    sa.Column('contact_id', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_addresses_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'address', name=op.f('pk_contact_addresses'))
    )
    with op.batch_alter_table('contact_addresses', schema=None) as batch_op:
        batch_op.create_index('ix_contact_addresses_tenant_address', ['tenant_id', 'address'], unique=False)

    op.create_table('inbox_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('folder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('header_message_id', sa.String(length=300), nullable=True),
    sa.Column('in_reply_to', sa.String(length=300), nullable=True),
    sa.Column('reference_ids', sa.JSON(), nullable=False),
    sa.Column('thread_id', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('from_name', sa.String(length=300), nullable=True),
    sa.Column('from_email', sa.String(length=320), nullable=True),
    sa.Column('to', sa.JSON(), nullable=False),
    sa.Column('cc', sa.JSON(), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('internal_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('snippet', sa.Text(), nullable=False),
    sa.Column('sent_message_id', sa.String(length=32), nullable=True),
    sa.Column('bounce', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['folder_id'], ['inbox_folders.id'], name=op.f('fk_inbox_messages_folder_id_inbox_folders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inbox_messages_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_messages')),
    sa.UniqueConstraint('folder_id', 'uidvalidity', 'uid', name='uq_inbox_messages_folder_uid')
    )
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_messages_account_date', ['account_id', 'date'], unique=False)
        batch_op.create_index('ix_inbox_messages_folder_msgid', ['folder_id', 'header_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_messages_sent_message_id'), ['sent_message_id'], unique=False)
        batch_op.create_index('ix_inbox_messages_tenant_date', ['tenant_id', 'date'], unique=False)
        batch_op.create_index('ix_inbox_messages_thread', ['tenant_id', 'thread_id'], unique=False)

    op.create_table('inbox_bodies',
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['inbox_messages.id'],
                            name=op.f('fk_inbox_bodies_message_id_inbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_inbox_bodies'))
    )
    op.create_table('inbox_participants',
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['inbox_messages.id'],
                            name=op.f('fk_inbox_participants_message_id_inbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'address', 'role', name=op.f('pk_inbox_participants'))
    )
    with op.batch_alter_table('inbox_participants', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_participants_tenant_address', ['tenant_id', 'address'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inbox_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_participants_tenant_address')

    op.drop_table('inbox_participants')
    op.drop_table('inbox_bodies')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_messages_thread')
        batch_op.drop_index('ix_inbox_messages_tenant_date')
        batch_op.drop_index(batch_op.f('ix_inbox_messages_sent_message_id'))
        batch_op.drop_index('ix_inbox_messages_folder_msgid')
        batch_op.drop_index('ix_inbox_messages_account_date')

    op.drop_table('inbox_messages')
    with op.batch_alter_table('contact_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_addresses_tenant_address')

    op.drop_table('contact_addresses')
    with op.batch_alter_table('inbox_sync', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_sync_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_inbox_sync_lease_until'))

    op.drop_table('inbox_sync')
    with op.batch_alter_table('inbox_folders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_folders_tenant_id'))

    op.drop_table('inbox_folders')
    op.drop_table('contacts')
