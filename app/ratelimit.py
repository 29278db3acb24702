"""The one rate limiter every part shares (``limits``' moving window): on Redis when
``REDIS_URL`` is set, so every web and worker process counts together; in memory otherwise.
Callers namespace their counters by their first identifier ("widget", "sign-in", ...)."""

from __future__ import annotations

from flask import current_app
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_EXTENSION = "sounding.rate_limiter"


def limiter() -> MovingWindowRateLimiter:
    app = current_app
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = MovingWindowRateLimiter(
            storage_from_string(app.config.get("REDIS_URL") or "memory://")
        )
        app.extensions[_EXTENSION] = found
    return found
