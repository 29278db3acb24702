"""Channel sending rates, shared by every worker through Redis (the ``limits`` library, a
moving window): per channel, and for SMS also per sender number.

A delivery job asks for as many sends as it has messages and gets what the window allows.
The rest is released to the sweep *before anything is claimed*, with ``next_action_at`` at
the moment the window frees up: no worker sleeps, no message is dropped. Without
``REDIS_URL`` (development) the window lives in the process's memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from limits import RateLimitItem, parse
from sqlalchemy import select, update

from app.db import db
from app.models import Invitation
from app.ratelimit import limiter
from app.vocabulary import STEP_FROM, Channel, Step

#: When nothing says when capacity returns, try again after this long.
_FALLBACK = timedelta(seconds=1)


def _limits(channel: Channel) -> list[tuple[RateLimitItem, str]]:
    config = current_app.config
    if channel == Channel.EMAIL:
        return [(parse(config["EMAIL_SEND_RATE"]), "email")]
    sender = (
        config.get("TWILIO_FROM_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID") or "outbox"
    )
    return [
        (parse(config["SMS_SEND_RATE"]), "sms"),
        (parse(config["SMS_SENDER_RATE"]), f"sms-sender:{sender}"),
    ]


def acquire(channel: Channel, wanted: int) -> tuple[int, float | None]:
    """Take up to ``wanted`` sends from every window of the channel. Returns how many were
    granted, and (when fewer) the epoch second at which more capacity returns."""
    if wanted <= 0:
        return 0, None
    counter = limiter()
    windows = _limits(channel)
    stats = [counter.get_window_stats(item, key) for item, key in windows]
    granted = min([wanted, *(s.remaining for s in stats)])
    if granted > 0:
        for item, key in windows:
            if not counter.hit(item, key, cost=granted):
                # Another worker took the room meanwhile; what this one took stays taken
                # (under-sending is safe, over-sending is not).
                granted = 0
                break
    if granted >= wanted:
        return granted, None
    after = [counter.get_window_stats(item, key) for item, key in windows]
    return granted, max(s.reset_time for s in after)


def within_rate(
    channel: Channel, ids: Sequence[int], step: Step, now: datetime
) -> tuple[list[int], int]:
    """The ids this job may send now; the others are handed back to the sweep with
    ``next_action_at`` when capacity returns. Returns (ids to claim, how many released)."""
    waiting = list(
        db.session.scalars(
            select(Invitation.id)
            .where(
                # ``ids`` go out on ``channel`` now (app.jobs.step_timing.hold_back): an
                # escalated reminder 2 of an email invitation goes out by SMS.
                Invitation.id.in_(ids),
                Invitation.status == STEP_FROM[step],
            )
            .order_by(Invitation.id)
        )
    )
    granted, reset_at = acquire(channel, len(waiting))
    rest = waiting[granted:]
    if rest:
        delay = timedelta(seconds=max(reset_at - time.time(), 0)) if reset_at else _FALLBACK
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_(rest), Invitation.status == STEP_FROM[step])
            .values(next_action_at=now + max(delay, _FALLBACK), updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return waiting[:granted], len(rest)
