"""The app under test: made on the test database with the frozen clock, emptied afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from redis import Redis

from app import create_app
from app.clock import FrozenClock, install
from app.db import db
from tests.support.database import empty_database, renew_redis_claim
from tests.support.settings import TEST_SETTINGS


def make_app(
    database_url: str, clock: FrozenClock, redis_url: str | None = None, **overrides: Any
) -> Iterator[Flask]:
    """The app on ``database_url`` reading time from ``clock``; with ``redis_url`` its jobs go
    to real RQ queues there (flushed before and after). Every table is empty afterwards."""
    connection = Redis.from_url(redis_url) if redis_url else None
    if connection is not None:
        renew_redis_claim(connection)
        connection.flushdb()
        overrides = {"REDIS_URL": redis_url, **overrides}
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, **overrides})
    install(app, clock)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            empty_database()
            db.engine.dispose()
        if connection is not None:
            connection.flushdb()
            connection.close()
