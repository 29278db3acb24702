"""What every test shares: the checkout's root, the test clock's start, the app's settings, and
where PostgreSQL and Redis are."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The checkout these tests belong to (its path names its own test database and Redis db).
ROOT = Path(__file__).resolve().parents[2]

PG_ADMIN_URL = os.environ.get(
    "SOUNDING_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("SOUNDING_TEST_REDIS_URL", "redis://127.0.0.1:6379")

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
