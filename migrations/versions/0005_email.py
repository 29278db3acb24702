"""email: survey email templates, score-link clicks, processed provider events

Revision ID: 0005_email
Revises: 0004_reminders
Create Date: 2026-11-22 09:02:15.185408

"""
from alembic import op
import sqlalchemy as sa
import app.db


# revision identifiers, used by Alembic.
revision = '0005_email'
down_revision = '0004_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_event',
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('received_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'event_id', name=op.f('pk_provider_event'))
    )
    with op.batch_alter_table('provider_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_event_received_at'), ['received_at'], unique=False)

    op.create_table('score_click',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'answered', 'scanner', 'superseded', name='clickstate', native_enum=False, length=32), nullable=False),
    sa.Column('clicked_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_score_click_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_click'))
    )
    with op.batch_alter_table('score_click', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_click_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index('ix_score_click_pending', ['clicked_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_subject', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('email_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('email_text', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('email_text')
        batch_op.drop_column('email_html')
        batch_op.drop_column('email_subject')

    with op.batch_alter_table('score_click', schema=None) as batch_op:
        batch_op.drop_index('ix_score_click_pending', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_score_click_invitation_id'))

    op.drop_table('score_click')
    with op.batch_alter_table('provider_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_event_received_at'))

    op.drop_table('provider_event')
