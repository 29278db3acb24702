"""The test session's own PostgreSQL database and Redis db, and emptying them between tests.

Both are unique per checkout unless chosen explicitly: the database is named
``sounding_test_<hash of the checkout's path>`` (or ``sounding_test_$SOUNDING_TEST_DB_SUFFIX``),
and the Redis db is claimed in Redis db 0 (``SET sounding-test-redis:<n> <claimant> NX``),
starting from a number derived from the same path (or is ``$SOUNDING_TEST_REDIS_DB``). Under
pytest-xdist each worker gets its own of both.
"""

from __future__ import annotations

import hashlib
import os

import psycopg
from redis import Redis
from sqlalchemy import text

from app.db import db
from tests.support.settings import PG_ADMIN_URL, REDIS_BASE, ROOT

#: Redis databases a checkout may claim (0 holds the claims).
REDIS_DBS = range(1, 16)
#: How long a claim lives if the session never releases it (killed): a later session of the
#: same checkout takes it back at once; another checkout waits this long.
CLAIM_SECONDS = 3 * 3600


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def checkout_hash() -> str:
    return hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]


def database_name() -> str:
    suffix = os.environ.get("SOUNDING_TEST_DB_SUFFIX") or checkout_hash()
    worker = _worker()
    return f"sounding_test_{suffix}{('_' + worker) if worker else ''}".lower()


def create_database() -> str:
    """Drop and create this session's database; returns its URL."""
    name = database_name()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database_name()}" WITH (FORCE)')


def _claimant() -> str:
    return f"{ROOT}#{_worker() or 'main'}"


def _claim_key(number: int) -> str:
    return f"sounding-test-redis:{number}"


def claim_redis_db() -> int:
    """A Redis db number no other checkout (or xdist worker) uses while this session runs."""
    chosen = os.environ.get("SOUNDING_TEST_REDIS_DB")
    if chosen:
        return int(chosen)
    start = int(checkout_hash(), 16) + sum(map(ord, _worker()))
    numbers = [REDIS_DBS[(start + i) % len(REDIS_DBS)] for i in range(len(REDIS_DBS))]
    me = _claimant()
    with Redis.from_url(f"{REDIS_BASE}/0") as claims:
        for number in numbers:
            key = _claim_key(number)
            if claims.set(key, me, nx=True, ex=CLAIM_SECONDS):
                return number
            holder = claims.get(key)
            if holder is not None and holder.decode() == me:
                claims.expire(key, CLAIM_SECONDS)
                return number
    raise RuntimeError(
        f"every Redis db {REDIS_DBS.start}-{REDIS_DBS.stop - 1} is claimed by another checkout "
        "(keys sounding-test-redis:* in db 0); set SOUNDING_TEST_REDIS_DB to choose one"
    )


def release_redis_db(number: int) -> None:
    """Give the claim back, if it is still ours (an explicit SOUNDING_TEST_REDIS_DB has none)."""
    if os.environ.get("SOUNDING_TEST_REDIS_DB"):
        return
    with Redis.from_url(f"{REDIS_BASE}/0") as claims:
        key = _claim_key(number)
        holder = claims.get(key)
        if holder is not None and holder.decode() == _claimant():
            claims.delete(key)


def empty_database() -> None:
    """Empty every table and restart the ids at 1, as a new database would have them."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()
