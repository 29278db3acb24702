"""Sign-in attempts are limited per email and per client IP (``SIGN_IN_RATE_PER_EMAIL``,
``SIGN_IN_RATE_PER_IP``), on the shared limiter (Redis when configured)."""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse

from app.ratelimit import limiter


def over_limit(email: str, ip: str) -> int | None:
    """Count one attempt; the seconds to wait when either limit is passed, else None."""
    config = current_app.config
    counter = limiter()
    waits = []
    for setting, key in (
        ("SIGN_IN_RATE_PER_EMAIL", email.strip().lower()),
        ("SIGN_IN_RATE_PER_IP", ip),
    ):
        item = parse(config[setting])
        if not counter.hit(item, "sign-in", setting, key):
            reset = counter.get_window_stats(item, "sign-in", setting, key).reset_time
            waits.append(max(1, math.ceil(reset - time.time())))
    return max(waits) if waits else None
