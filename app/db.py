"""The database: SQLAlchemy 2.x typed models through Flask-SQLAlchemy, Alembic migrations.

Times are stored as UTC (docs/architecture.md, "Decisions", 7). SQLite has no time-zone-aware
type, so :class:`UTCDateTime` stores naive UTC and always hands back aware UTC datetimes;
PostgreSQL uses ``timestamptz``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, CursorResult, DateTime, Engine, MetaData, Result, Table, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSONType},
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()

if TYPE_CHECKING:
    #: The models' base class: Flask-SQLAlchemy's ``db.Model`` (which mypy sees as the
    #: declarative :class:`Base` it is made from).
    Model = Base
else:
    Model = db.Model


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys on, WAL so the dev server's threads can read while one writes."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def affected(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE changed."""
    return cast("CursorResult[Any]", result).rowcount or 0


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements (executemany with bound parameters)."""
    return cast(Table, model.__table__)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def init_app(app: Flask) -> None:
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True
    )
    # Import the models so their tables are on the metadata (for Alembic and the tests).
    from app import models  # noqa: F401


def _migrations_dir() -> Any:
    import migrations

    return Path(migrations.__file__).resolve().parent
