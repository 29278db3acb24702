"""Fixtures (a pytest plugin, registered by the root conftest): a real PostgreSQL database and
a real Redis, the app on them with a frozen clock, its client, CLI runner and API.

The database is created fresh for the test session, migrated once with Alembic, and emptied
after each test; Redis is flushed around each test that uses it. Which database and Redis db:
see ``tests.support.database``. A missing service fails the tests; it never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from redis import Redis

from app import create_app
from app.clock import FrozenClock
from app.db import db
from tests.support.api import Api, issue_test_key
from tests.support.app import make_app
from tests.support.database import (
    claim_redis_db,
    create_database,
    drop_database,
    release_redis_db,
)
from tests.support.routing import compile_url_builders_once
from tests.support.settings import PG_ADMIN_URL, REDIS_BASE, T0, TEST_SETTINGS

compile_url_builders_once()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    try:
        url = create_database()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {PG_ADMIN_URL}: {exc}", pytrace=False)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url
    drop_database()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        number = claim_redis_db()
    except Exception as exc:
        pytest.fail(f"Redis is not answering at {REDIS_BASE}: {exc}", pytrace=False)
    url = f"{REDIS_BASE}/{number}"
    try:
        Redis.from_url(url).ping()
    except Exception as exc:
        pytest.fail(f"Redis is not answering at {url}: {exc}", pytrace=False)
    yield url
    release_redis_db(number)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Iterator[Flask]:
    """The app on PostgreSQL, jobs run in-process after each commit."""
    yield from make_app(database_url, clock)


@pytest.fixture
def rq_app(database_url: str, redis_url: str, clock: FrozenClock) -> Iterator[Flask]:
    """The app on PostgreSQL with real RQ queues on Redis; run them with ``run_worker``."""
    yield from make_app(database_url, clock, redis_url)


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
