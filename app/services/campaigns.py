"""Campaigns (one survey to an audience, fanned out in the worker), events and survey
triggers (recurring surveys, "N days after event X"). The deciding is
:mod:`app.services.fanout`'s; this module keeps the books."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.db import db
from app.errors import AppError, Conflict
from app.models import Campaign, DeferredAsk, Person, PersonEvent, Survey, SurveyTrigger
from app.services.audience import audience_filter, validate_audience
from app.services.fanout import CHUNK, FanOutSpec, fan_out_chunk
from app.vocabulary import Channel, SurveyStatus, Trigger

SENDABLE = (Channel.EMAIL, Channel.SMS, Channel.LINK)
WAITING = "account_cap"


def check_survey_channel(survey: Survey, channel: Channel, *, widget_rule: bool = False) -> None:
    """May ``survey`` be sent on ``channel`` (by a campaign or a trigger)? A widget event rule
    (``widget_rule``) shows the survey in the widget when the widget reports the event."""
    if survey.status != SurveyStatus.ACTIVE:
        raise Conflict(
            f"Survey {survey.id} is {survey.status.value}; it sends nothing.",
            field="survey_id",
            code="survey_inactive",
        )
    if channel not in SENDABLE and not (widget_rule and channel == Channel.WIDGET):
        raise AppError(
            "Widget surveys are shown by the widget; use email, sms or link.", field="channel"
        )
    if survey.enabled_channels and channel.value not in survey.enabled_channels:
        raise AppError(
            f"Survey {survey.id} is not set up for {channel.value}; its channels are "
            f"{', '.join(survey.enabled_channels)}.",
            field="channel",
        )


def create_campaign(survey: Survey, channel: Channel, audience: Any, now: datetime) -> Campaign:
    """A queued campaign; its fan-out job is enqueued after the commit."""
    from app.jobs.campaigns import run_campaign
    from app.jobs.queue import enqueue_after_commit

    check_survey_channel(survey, channel)
    campaign = Campaign(
        survey_id=survey.id,
        channel=channel,
        audience=validate_audience(audience),
        status="queued",
        counts=empty_counts(),
        cursor=0,
        created_at=now,
    )
    db.session.add(campaign)
    db.session.flush()
    enqueue_after_commit(run_campaign, campaign.id)
    return campaign


def empty_counts() -> dict[str, Any]:
    return {"decided": 0, "invited": 0, "waiting": 0, "skipped": {}}


def add_counts(counts: dict[str, Any], chunk: dict[str, int], retried: int = 0) -> dict[str, Any]:
    """Fold one chunk's per-reason counts in. ``retried``: how many of them were waiting."""
    out = {**empty_counts(), **counts, "skipped": dict(counts.get("skipped") or {})}
    if not retried:
        out["decided"] += sum(chunk.values())
    out["waiting"] -= retried
    for reason, n in chunk.items():
        if reason == "ok":
            out["invited"] += n
        elif reason == WAITING:
            out["waiting"] += n
        else:
            out["skipped"][reason] = out["skipped"].get(reason, 0) + n
    return out


def chunk_size() -> int:
    return int(current_app.config.get("FANOUT_CHUNK") or CHUNK)


def run_campaign_chunk(campaign: Campaign, now: datetime, chunk: int | None = None) -> bool:
    """Decide for the next chunk of the campaign's audience; True when all are decided. The
    cursor moves in the same transaction as the invitations, so a retried job goes on."""
    spec = FanOutSpec(
        survey_id=campaign.survey_id,
        channel=campaign.channel,
        trigger=Trigger.CAMPAIGN,
        campaign_id=campaign.id,
        audience_clause=audience_filter(campaign.audience),
    )
    result = fan_out_chunk(spec, now, after=campaign.cursor, chunk=chunk or chunk_size())
    campaign.counts = add_counts(campaign.counts, result.counts)
    campaign.cursor = result.last_person_id
    if result.done:
        campaign.status = "done"
        campaign.finished_at = now
    return result.done


def run_deferred(now: datetime, chunk: int | None = None, max_chunks: int = 50) -> int:
    """Decide for every due deferred ask (event rules, recurring slots, account-cap waits),
    group by group; commits after each chunk. Returns how many people were decided."""
    active = select(Survey.id).where(Survey.status == SurveyStatus.ACTIVE)
    groups = db.session.execute(
        select(
            DeferredAsk.survey_id, DeferredAsk.channel, DeferredAsk.trigger, DeferredAsk.campaign_id
        )
        .where(DeferredAsk.due_at <= now, DeferredAsk.survey_id.in_(active.scalar_subquery()))
        .distinct()
    ).all()
    decided = 0
    for survey_id, channel, trigger, campaign_id in groups:
        spec = FanOutSpec(
            survey_id,
            channel,
            trigger,
            campaign_id,
            deferred=True,
            wait_refused=(trigger == Trigger.RECURRING),
        )
        after = 0
        for _ in range(max_chunks):
            result = fan_out_chunk(spec, now, after=after, chunk=chunk or chunk_size())
            total = sum(result.counts.values())
            if campaign_id is not None and total:
                campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
                if campaign is not None:
                    campaign.counts = add_counts(campaign.counts, result.counts, retried=total)
            decided += total
            after = result.last_person_id
            db.session.commit()
            if result.done:
                break
    return decided


def record_event(
    person: Person, name: str, occurred_at: datetime, properties: dict[str, Any], now: datetime
) -> tuple[PersonEvent, int]:
    """Store the event; every active survey rule for it asks the person ``delay_days`` later
    (a deferred ask the sweep decides for). Returns the event and how many asks it planned."""
    event = PersonEvent(
        person_id=person.id,
        name=name,
        occurred_at=occurred_at,
        properties=properties,
        created_at=now,
    )
    db.session.add(event)
    rules = db.session.scalars(
        select(SurveyTrigger)
        .join(Survey, Survey.id == SurveyTrigger.survey_id)
        .where(
            SurveyTrigger.kind == "event",
            SurveyTrigger.event_name == name,
            # widget rules are the widget's: it shows the survey as the event happens
            SurveyTrigger.channel != Channel.WIDGET,
            Survey.status == SurveyStatus.ACTIVE,
        )
    ).all()
    for rule in rules:
        db.session.add(
            DeferredAsk(
                survey_id=rule.survey_id,
                person_id=person.id,
                channel=rule.channel,
                trigger=Trigger.EVENT,
                due_at=max(occurred_at + timedelta(days=rule.delay_days or 0), now),
                created_at=now,
            )
        )
    db.session.flush()
    return event, len(rules)


def waiting_count(campaign_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(DeferredAsk)
            .where(DeferredAsk.campaign_id == campaign_id)
        )
        or 0
    )
