"""The schema is created only by the Alembic migrations, and they create exactly what the
models describe, on SQLite (the embedded default) and on PostgreSQL (production)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.db import db
from tests.support.settings import TEST_SETTINGS


def _differences(url: str) -> list[object]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, db.metadata)
        db.engine.dispose()
    return diffs


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'schema.db'}") == []


def test_migrations_match_models_on_postgresql(database_url: str) -> None:
    # The session fixture already migrated this database; upgrading again is a no-op.
    assert _differences(database_url) == []


def test_downgrade_to_base_and_up_again_on_sqlite(tmp_path: Path) -> None:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'down.db'}"})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert db.engine.dialect.get_table_names(connection) == ["alembic_version"]
        upgrade()
        db.engine.dispose()
