"""Recurring surveys: once a day, plan an ask for everyone in the audience whose last
contact with the survey is at least ``every_days`` old, each at their own moment of the 24
hours after planning (spread by person id, not all at 00:00). The asks are deferred asks,
decided in sets by the sweep; people a rule refuses wait until they may be asked (they are
not dropped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, exists, select, text

from app.db import UTCDateTime, affected, db, is_postgres
from app.models import Decision, DeferredAsk, Invitation, Person, Survey, SurveyTrigger
from app.models.widget import WidgetDisplay
from app.services.audience import audience_filter
from app.services.cadence import invitation_contact_at, invitation_is_contact
from app.vocabulary import SurveyStatus, Trigger

#: Multiplier that scatters consecutive person ids over the day's seconds.
_SPREAD = 7919


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def plan_recurring(now: datetime) -> int:
    """Plan today's asks of every recurring trigger not yet planned today. Returns how many."""
    today = day_start(now)
    triggers = db.session.scalars(
        select(SurveyTrigger)
        .join(Survey, Survey.id == SurveyTrigger.survey_id)
        .where(
            SurveyTrigger.kind == "recurring",
            Survey.status == SurveyStatus.ACTIVE,
            (SurveyTrigger.last_run_at.is_(None)) | (SurveyTrigger.last_run_at < today),
        )
        .with_for_update(skip_locked=True, of=SurveyTrigger)
    ).all()
    planned = 0
    for trigger in triggers:
        planned += _plan(trigger, today, now)
        trigger.last_run_at = today
    db.session.commit()
    return planned


def _plan(trigger: SurveyTrigger, today: datetime, now: datetime) -> int:
    since = now - timedelta(days=trigger.every_days or 1)
    asked = exists().where(
        Invitation.person_id == Person.id,
        Invitation.survey_id == trigger.survey_id,
        invitation_is_contact(),
        invitation_contact_at() > since,
    )
    shown = exists().where(
        WidgetDisplay.person_id == Person.id,
        WidgetDisplay.survey_id == trigger.survey_id,
        WidgetDisplay.shown_at > since,
    )
    waiting = exists().where(
        DeferredAsk.person_id == Person.id, DeferredAsk.survey_id == trigger.survey_id
    )
    refused = exists().where(
        Decision.person_id == Person.id,
        Decision.survey_id == trigger.survey_id,
        Decision.trigger == Trigger.RECURRING,
        Decision.created_at > since,
    )
    due = (
        select(Person.id)
        .where(audience_filter(trigger.audience), ~asked, ~shown, ~waiting, ~refused)
        .subquery()
    )
    if is_postgres():
        due_at = f":today + make_interval(secs => (d.id * {_SPREAD}) % 86400)"
    else:
        due_at = (
            "strftime('%Y-%m-%d %H:%M:%S', :today, "
            f"'+' || ((d.id * {_SPREAD}) % 86400) || ' seconds')"
            " || '.000000'"
        )
    ids = [row[0] for row in db.session.execute(select(due.c.id))]
    if not ids:
        return 0
    stmt = text(
        "INSERT INTO deferred_ask (survey_id, person_id, channel, trigger, due_at, created_at) "  # noqa: S608
        f"SELECT :survey_id, d.id, :channel, 'recurring', {due_at}, :now FROM person d "
        "WHERE d.id IN :ids"
    ).bindparams(
        bindparam("today", type_=UTCDateTime()),
        bindparam("now", type_=UTCDateTime()),
        bindparam("ids", expanding=True),
    )
    total = 0
    for start in range(0, len(ids), 10_000):
        total += affected(
            db.session.execute(
                stmt,
                {
                    "survey_id": trigger.survey_id,
                    "channel": trigger.channel.value,
                    "today": now,
                    "now": now,
                    "ids": ids[start : start + 10_000],
                },
            )
        )
    return total
