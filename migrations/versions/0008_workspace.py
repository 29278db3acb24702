"""workspace: an index to list people newest first, a page at a time (GET /api/v1/people)

Revision ID: 0008_workspace
Revises: 0007_widget

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_workspace'
down_revision = '0007_widget'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_person_created', 'person', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_person_created', table_name='person')
