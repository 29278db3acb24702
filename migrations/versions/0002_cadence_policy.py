"""cadence policy: workspace rules and per-survey overrides

Revision ID: 0002_cadence_policy
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql

revision = '0002_cadence_policy'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cadence_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=True),
    sa.Column('rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_cadence_policy_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadence_policy')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_cadence_policy_survey_id'))
    )


def downgrade():
    op.drop_table('cadence_policy')
