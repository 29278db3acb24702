"""Housekeeping: forget processed provider event ids and old decided score clicks."""

from __future__ import annotations

from app import clock
from app.db import db
from app.jobs.runtime import job
from app.services.email_events import prune as prune_rows


@job("default")
def prune() -> dict[str, int]:
    stats = prune_rows(clock.now())
    db.session.commit()
    return stats
