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
#: How long a claim lives unless renewed (each test that uses Redis renews it): after a killed
#: run the same checkout takes its db back at once, another checkout after this long.
CLAIM_SECONDS = 3600


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
        # A test database need not survive a crash of the server: commits do not wait for
        # the disk (what a test reads back is the same; a machine under load answers sooner).
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database_name()}" WITH (FORCE)')


def _claimant() -> str:
    """Who holds a claim: the checkout, and the xdist worker within it."""
    return f"{ROOT}#{_worker() or 'main'}"


#: Where claims are kept in Redis db 0: ``<prefix><n>`` holds the claimant.
CLAIM_PREFIX = "sounding-test-redis:"


def _claim_key(number: int) -> str:
    return f"{CLAIM_PREFIX}{number}"


def _claim(claims: Redis, number: int) -> bool:
    """Claim Redis db ``number`` for this session unless another one holds it."""
    key, me = _claim_key(number), _claimant()
    if claims.set(key, me, nx=True, ex=CLAIM_SECONDS):
        return True
    holder = claims.get(key)
    if holder is not None and holder.decode() == me:  # ours, left by a killed run
        claims.expire(key, CLAIM_SECONDS)
        return True
    return False


def claim_redis_db() -> int:
    """A Redis db number no other checkout (or xdist worker) uses while this session runs:
    ``$SOUNDING_TEST_REDIS_DB`` if set, else the first free one from a number derived from
    the checkout's path."""
    with Redis.from_url(f"{REDIS_BASE}/0") as claims:
        chosen = os.environ.get("SOUNDING_TEST_REDIS_DB")
        if chosen:
            number = int(chosen)
            if not _claim(claims, number):
                raise RuntimeError(
                    f"Redis db {number} (SOUNDING_TEST_REDIS_DB) is in use by "
                    f"{claims.get(_claim_key(number))!r}; choose another"
                )
            return number
        start = int(checkout_hash(), 16) + sum(map(ord, _worker()))
        for i in range(len(REDIS_DBS)):
            number = REDIS_DBS[(start + i) % len(REDIS_DBS)]
            if _claim(claims, number):
                return number
    raise RuntimeError(
        f"every Redis db {REDIS_DBS.start}-{REDIS_DBS.stop - 1} is claimed by another checkout "
        "(keys sounding-test-redis:* in db 0); set SOUNDING_TEST_REDIS_DB to choose one"
    )


def renew_redis_claim(connection: Redis) -> None:
    """Keep this session's claim on the Redis db of ``connection`` alive."""
    number = connection.connection_pool.connection_kwargs.get("db", 0)
    with Redis.from_url(f"{REDIS_BASE}/0") as claims:
        claims.expire(_claim_key(number), CLAIM_SECONDS)


def release_redis_db(number: int) -> None:
    """Give the claim back, if it is still ours."""
    with Redis.from_url(f"{REDIS_BASE}/0") as claims:
        key = _claim_key(number)
        holder = claims.get(key)
        if holder is not None and holder.decode() == _claimant():
            claims.delete(key)


def _emptying_sql() -> str:
    """One round trip that deletes every row, children before parents, and restarts every
    sequence that was used (as TRUNCATE ... RESTART IDENTITY did, at a tenth of the cost)."""
    tables = ", ".join(f"'{table.name}'" for table in reversed(db.metadata.sorted_tables))
    return f"""
DO $$
DECLARE
    name text;
    used record;
BEGIN
    -- Row triggers stay silent while the tests empty the tables (the audit log's append-only
    -- guard refuses DELETE; a test session may remove what it wrote). Superusers only.
    PERFORM set_config('session_replication_role', 'replica', true);
    FOREACH name IN ARRAY ARRAY[{tables}]::text[] LOOP
        EXECUTE format('DELETE FROM %I', name);
    END LOOP;
    FOR used IN
        SELECT schemaname, sequencename, start_value FROM pg_sequences
        WHERE last_value IS NOT NULL
    LOOP
        PERFORM setval(
            format('%I.%I', used.schemaname, used.sequencename)::regclass,
            used.start_value,
            false
        );
    END LOOP;
END
$$"""  # noqa: S608 - the names are our own tables'


def empty_database() -> None:
    """Empty every table and restart the ids where a new database starts them (1).

    Deleting beats ``TRUNCATE``: a test leaves a few rows in a few tables, and truncating 22
    tables makes 22 new files each time (about 190 ms unloaded, up to a second under load).
    """
    db.session.execute(text(_emptying_sql()))
    db.session.commit()
