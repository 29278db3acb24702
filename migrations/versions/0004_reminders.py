"""reminders: SMS escalation of reminder 2 as a survey setting

Revision ID: 0004_reminders
Revises: 0003_sms
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_reminders'
down_revision = '0003_sms'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('escalate_to_sms', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('escalate_to_sms')
