"""Fixtures: a real PostgreSQL database and a real Redis, the app, its client and runner.

The database is created fresh for the test session (named after
``SOUNDING_TEST_DB_SUFFIX`` so parallel checkouts do not collide), migrated once with
Alembic, and emptied after each test. Redis uses database ``SOUNDING_TEST_REDIS_DB``
(default 15), flushed around each test that uses it. A missing service fails the tests; it
never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from redis import Redis
from sqlalchemy import text

from app import create_app
from app.clock import FrozenClock, install
from app.db import db
from tests.helpers import Api, issue_test_key

PG_ADMIN_URL = os.environ.get(
    "SOUNDING_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("SOUNDING_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("SOUNDING_TEST_REDIS_DB", "15"))
#: A Monday, 10:00 UTC: inside default quiet-hours windows in Europe, outside in the Americas.
T0 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)

TEST_SETTINGS: dict[str, Any] = {
    "SOUNDING_ENV": "test",
    "SECRET_KEYS": ["test-secret-key-newest", "test-secret-key-older"],
    "BASE_URL": "http://sounding.test",
    "COMPANY_NAME": "Acme",
    "DEFAULT_SENDER_EMAIL": "surveys@acme.example",
    "SENDGRID_AUTHENTICATED_DOMAINS": "acme.example",
    "REDIS_URL": None,
    # A job that raises fails at once in tests instead of being retried later.
    "JOB_RETRIES": 0,
}


def _database_name() -> str:
    suffix = os.environ.get("SOUNDING_TEST_DB_SUFFIX", "main")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"sounding_test_{suffix}{('_' + worker) if worker else ''}".lower()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = _database_name()
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {PG_ADMIN_URL}: {exc}", pytrace=False)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = f"{REDIS_BASE}/{REDIS_DB}"
    try:
        Redis.from_url(url).ping()
    except Exception as exc:
        pytest.fail(f"Redis is not answering at {url}: {exc}", pytrace=False)
    return url


def _empty_database() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def make_app(database_url: str, clock: FrozenClock, **overrides: Any) -> Iterator[Flask]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, **overrides})
    install(app, clock)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_database()
        db.engine.dispose()


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Iterator[Flask]:
    """The app on PostgreSQL, jobs run in-process after each commit."""
    yield from make_app(database_url, clock)


@pytest.fixture
def rq_app(database_url: str, redis_url: str, clock: FrozenClock) -> Iterator[Flask]:
    """The app on PostgreSQL with real RQ queues on Redis; run them with ``run_worker``."""
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield from make_app(database_url, clock, REDIS_URL=redis_url)
    connection.flushdb()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def admin_key(app: Flask) -> str:
    return issue_test_key(app, "admin")


@pytest.fixture
def api(app: Flask, admin_key: str) -> Api:
    """The test client speaking JSON with an admin key."""
    return Api(app.test_client(), admin_key)
