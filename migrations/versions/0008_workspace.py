"""workspace: people listed newest first a page at a time (GET /api/v1/people), and found by
any part of their email, name or external id (trigram indexes on PostgreSQL)

Revision ID: 0008_workspace
Revises: 0008_staff_accounts

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_workspace'
down_revision = '0008_staff_accounts'
branch_labels = None
depends_on = None

SEARCHED = ('email', 'name', 'external_id')


def upgrade():
    op.create_index('ix_person_created', 'person', ['created_at', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in SEARCHED:
        op.create_index(
            f'ix_person_{column}_trgm', 'person', [column], unique=False,
            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
        )


def downgrade():
    for column in SEARCHED:
        op.drop_index(f'ix_person_{column}_trgm', table_name='person')
    op.drop_index('ix_person_created', table_name='person')
