"""Cadence jobs: a campaign's fan-out, and the periodic cadence sweep (recurring surveys'
daily plan, then every due deferred ask: event rules, recurring slots, account-cap waits)."""

from __future__ import annotations

import logging

from app import clock
from app.db import db
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


@job("default")
def cadence_sweep() -> dict[str, int]:
    from app.services.campaigns import run_deferred
    from app.services.recurring import plan_recurring

    now = clock.now()
    stats = {"recurring_planned": plan_recurring(now), "deferred_decided": run_deferred(now)}
    if any(stats.values()):
        log.info("cadence sweep: %s", stats)
    return stats
