"""staff accounts: passwords and deactivation, server-side sessions, single-use sign-in
links, the append-only audit log

Revision ID: 0008_staff_accounts
Revises: 0007_widget

"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008_staff_accounts'
down_revision = '0007_widget'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = app.db.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', UTC, nullable=True))

    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('last_seen_at', UTC, nullable=False),
    sa.Column('ended_at', UTC, nullable=True),
    sa.Column('ended_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_session_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_session_token_hash'))
    )
    op.create_index(op.f('ix_staff_session_staff_user_id'), 'staff_session', ['staff_user_id'], unique=False)

    op.create_table('staff_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('expires_at', UTC, nullable=False),
    sa.Column('used_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_token_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_token_token_hash'))
    )
    op.create_index(op.f('ix_staff_token_staff_user_id'), 'staff_token', ['staff_user_id'], unique=False)

    op.create_table('staff_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('claimed_at', UTC, nullable=True),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('provider_id', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_email_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_email'))
    )
    op.create_index(op.f('ix_staff_email_staff_user_id'), 'staff_email', ['staff_user_id'], unique=False)
    op.create_index(op.f('ix_staff_email_status'), 'staff_email', ['status'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after', JSON, nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_audit_entry_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index(op.f('ix_audit_entry_at'), 'audit_entry', ['at'], unique=False)
    op.create_index(op.f('ix_audit_entry_action'), 'audit_entry', ['action'], unique=False)
    op.create_index(op.f('ix_audit_entry_staff_user_id'), 'audit_entry', ['staff_user_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        # Append-only: rows may be added, never changed or removed (TRUNCATE stays possible
        # for an operator who really means it).
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    op.drop_index(op.f('ix_audit_entry_staff_user_id'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_action'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_at'), table_name='audit_entry')
    op.drop_table('audit_entry')
    op.drop_index(op.f('ix_staff_email_status'), table_name='staff_email')
    op.drop_index(op.f('ix_staff_email_staff_user_id'), table_name='staff_email')
    op.drop_table('staff_email')
    op.drop_index(op.f('ix_staff_token_staff_user_id'), table_name='staff_token')
    op.drop_table('staff_token')
    op.drop_index(op.f('ix_staff_session_staff_user_id'), table_name='staff_session')
    op.drop_table('staff_session')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('password_hash')
