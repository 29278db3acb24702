"""sms replies: every incoming text, what it was read as, and the answer sent

Revision ID: 0003_sms
Revises: 0002_cadence_policy
"""
from alembic import op
import sqlalchemy as sa
import app.db

revision = '0003_sms'
down_revision = '0002_cadence_policy'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('score', 'comment', 'opt_out', 'opt_in', 'help', 'hint', 'ignored', 'closed', 'unknown', name='replyoutcome', native_enum=False, length=32), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_sms_reply_invitation_id_invitation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_reply')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_sms_reply_provider_id'))
    )
    with op.batch_alter_table('sms_reply', schema=None) as batch_op:
        batch_op.create_index('ix_sms_reply_from_created', ['from_number', 'created_at'], unique=False)
        batch_op.create_index('ix_sms_reply_invitation_outcome', ['invitation_id', 'outcome', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_reply', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_reply_invitation_outcome')
        batch_op.drop_index('ix_sms_reply_from_created')
    op.drop_table('sms_reply')
