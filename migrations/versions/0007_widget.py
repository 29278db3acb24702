"""widget: widget keys (public key, secret, allowed origins), the answer of a widget display,
a survey's widget look

Revision ID: 0007_widget
Revises: 0006_cadence

"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0007_widget'
down_revision = '0006_cadence'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('widget_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('previous_secret', sa.String(length=128), nullable=True),
    sa.Column('previous_secret_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('allowed_origins', JSON, nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_widget_key')),
    sa.UniqueConstraint('public_key', name=op.f('uq_widget_key_public_key'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('widget', JSON, nullable=True))

    with op.batch_alter_table('widget_display', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_widget_display_response_id'), ['response_id'])
        batch_op.create_foreign_key(batch_op.f('fk_widget_display_response_id_response'), 'response', ['response_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('widget_display', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_widget_display_response_id_response'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_widget_display_response_id'), type_='unique')
        batch_op.drop_column('response_id')

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('widget')

    op.drop_table('widget_key')
