"""Cadence jobs: a campaign's fan-out, and the periodic cadence sweep (recurring surveys'
daily plan, then every due deferred ask: event rules, recurring slots, account-cap waits)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from sqlalchemy import text

from app import clock
from app.db import db, is_postgres
from app.jobs.runtime import job
from app.models import Campaign, Survey
from app.vocabulary import SurveyStatus

log = logging.getLogger(__name__)


@job("default")
def run_campaign(campaign_id: int) -> dict[str, object]:
    """Fan the campaign out, a chunk per transaction, from its cursor (so a retried job goes
    on where the last one stopped)."""
    from app.services.campaigns import run_campaign_chunk

    campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status == "done":
        db.session.rollback()
        return {}
    survey = db.session.get(Survey, campaign.survey_id)
    if survey is None or survey.status != SurveyStatus.ACTIVE:
        campaign.status = "done"
        campaign.finished_at = clock.now()
        campaign.counts = {**campaign.counts, "note": "the survey was not active"}
        db.session.commit()
        return dict(campaign.counts)
    if campaign.started_at is None:
        campaign.started_at = clock.now()
        campaign.status = "running"
    while True:
        done = run_campaign_chunk(campaign, clock.now())
        db.session.commit()
        if done:
            break
        campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
        assert campaign is not None
    log.info("campaign %s done: %s", campaign_id, campaign.counts)
    return dict(campaign.counts)


#: A PostgreSQL advisory lock key: one cadence sweep at a time across all workers.
_SWEEP_LOCK = 0x5C0D3


@contextlib.contextmanager
def _only_one_sweep() -> Iterator[bool]:
    """Several workers run the sweep; the cadence part runs in one of them at a time (the
    person locks would keep it correct anyway; this keeps it from deciding twice)."""
    if not is_postgres():
        yield True
        return
    # A connection of its own: a session-level lock belongs to the connection that took it,
    # and the sweep's own session commits (and hands its connection back) many times.
    with db.engine.connect() as connection:
        lock = text("SELECT pg_try_advisory_lock(:k)")
        mine = bool(connection.execute(lock, {"k": _SWEEP_LOCK}).scalar())
        connection.commit()
        try:
            yield mine
        finally:
            if mine:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SWEEP_LOCK})
                connection.commit()


@job("default")
def cadence_sweep() -> dict[str, int]:
    from app.services.campaigns import run_deferred
    from app.services.recurring import plan_recurring

    now = clock.now()
    with _only_one_sweep() as mine:
        if not mine:  # another worker is running it right now
            return {"recurring_planned": 0, "deferred_decided": 0}
        stats = {"recurring_planned": plan_recurring(now), "deferred_decided": run_deferred(now)}
    if any(stats.values()):
        log.info("cadence sweep: %s", stats)
    return stats
