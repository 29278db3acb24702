"""Two checkouts on one machine never share a test database or a Redis db (the names come from
the checkout's path; Redis dbs are claimed in db 0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.support import database
from tests.support.settings import REDIS_BASE


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> Iterator[Redis]:
    """Claims under a prefix of this test's own, so the session's real claim is untouched."""
    monkeypatch.setattr(database, "CLAIM_PREFIX", "sounding-test-redis-selftest:")
    monkeypatch.delenv("SOUNDING_TEST_REDIS_DB", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    connection = Redis.from_url(f"{REDIS_BASE}/0")
    yield connection
    for key in connection.scan_iter("sounding-test-redis-selftest:*"):
        connection.delete(key)
    connection.close()


def _as_checkout(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setattr(database, "ROOT", Path(path))


def test_the_database_is_named_after_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDING_TEST_DB_SUFFIX", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    _as_checkout(monkeypatch, "/src/one/sounding")
    one = database.database_name()
    _as_checkout(monkeypatch, "/src/two/sounding")
    two = database.database_name()
    assert one != two and one.startswith("sounding_test_") and two.startswith("sounding_test_")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert database.database_name() == f"{two}_gw1"
    monkeypatch.setenv("SOUNDING_TEST_DB_SUFFIX", "Mine")
    assert database.database_name() == "sounding_test_mine_gw1"


def test_checkouts_claim_different_redis_dbs_and_give_them_back(
    claims: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_checkout(monkeypatch, "/src/one/sounding")
    first = database.claim_redis_db()
    assert database.claim_redis_db() == first  # the same checkout again (a killed run)
    _as_checkout(monkeypatch, "/src/two/sounding")
    monkeypatch.setattr(database, "checkout_hash", lambda: f"{first - 1:x}")
    second = database.claim_redis_db()  # starts at the first one's number, takes the next
    assert second != first and second in database.REDIS_DBS
    assert claims.get(f"sounding-test-redis-selftest:{second}") == b"/src/two/sounding#main"
    assert claims.ttl(f"sounding-test-redis-selftest:{second}") > 0  # a killed run's expires
    database.release_redis_db(second)
    assert claims.get(f"sounding-test-redis-selftest:{second}") is None
    _as_checkout(monkeypatch, "/src/one/sounding")
    database.release_redis_db(second)  # not its claim: nothing happens
    assert claims.get(f"sounding-test-redis-selftest:{first}") == b"/src/one/sounding#main"


def test_a_chosen_redis_db_held_by_another_checkout_fails_instead_of_sharing(
    claims: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_checkout(monkeypatch, "/src/one/sounding")
    held = database.claim_redis_db()
    _as_checkout(monkeypatch, "/src/two/sounding")
    monkeypatch.setenv("SOUNDING_TEST_REDIS_DB", str(held))
    with pytest.raises(RuntimeError, match="in use by"):
        database.claim_redis_db()
    other = held % 15 + 1
    monkeypatch.setenv("SOUNDING_TEST_REDIS_DB", str(other))
    assert database.claim_redis_db() == other


def test_every_redis_db_claimed_is_a_clear_error(
    claims: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in database.REDIS_DBS:
        claims.set(f"sounding-test-redis-selftest:{number}", "/elsewhere#main", ex=60)
    _as_checkout(monkeypatch, "/src/one/sounding")
    with pytest.raises(RuntimeError, match="every Redis db 1-15 is claimed"):
        database.claim_redis_db()
