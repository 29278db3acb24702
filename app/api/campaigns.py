"""Campaigns, events and survey triggers (recurring surveys and event rules)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from flask import jsonify
from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.invitations import person_of
from app.api.schemas import PersonIn, Strict
from app.api.surveys import get_survey_or_404
from app.api.transaction import write
from app.audit.services import record
from app.db import db
from app.errors import AppError, NotFound
from app.models import Campaign, SurveyTrigger
from app.policy.wording import iso
from app.services.audience import validate_audience
from app.services.campaigns import (
    check_survey_channel,
    create_campaign,
    record_event,
    waiting_count,
)
from app.vocabulary import Channel

EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
#: Events may be reported late, never from the future (a small clock skew aside).
SKEW = timedelta(minutes=5)


class CampaignIn(Strict):
    channel: Channel
    audience: dict[str, Any] | None = None


class EventIn(Strict):
    person_id: int | None = Field(None, gt=0)
    person: PersonIn | None = None
    name: EventName
    occurred_at: AwareDatetime | None = None
    properties: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _valid(self) -> EventIn:
        if (self.person_id is None) == (self.person is None):
            raise ValueError("person_id: give exactly one of person_id or person")
        if not EVENT_NAME.match(self.name):
            raise ValueError("name: letters, digits and _ . : - only, like 'trial_ended'")
        return self


class TriggerIn(Strict):
    kind: Literal["recurring", "event"]
    channel: Channel
    audience: dict[str, Any] | None = None
    every_days: int | None = Field(None, ge=1, le=3650)
    event: EventName | None = None
    delay_days: int | None = Field(None, ge=0, le=3650)

    @model_validator(mode="after")
    def _complete(self) -> TriggerIn:
        if self.kind == "recurring":
            if self.every_days is None:
                raise ValueError("every_days: a recurring trigger needs every_days")
            if self.event is not None or self.delay_days is not None:
                raise ValueError("event: only event triggers have event and delay_days")
        else:
            if self.event is None or not EVENT_NAME.match(self.event):
                raise ValueError("event: an event trigger needs the event's name")
            if self.delay_days is None:
                raise ValueError("delay_days: an event trigger needs delay_days")
            if self.every_days is not None or self.audience is not None:
                raise ValueError("every_days: only recurring triggers have every_days/audience")
        return self


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    counts = campaign.counts or {}
    return {
        "id": campaign.id,
        "survey_id": campaign.survey_id,
        "channel": campaign.channel.value,
        "audience": campaign.audience,
        "status": campaign.status,
        "decided": counts.get("decided", 0),
        "invited": counts.get("invited", 0),
        "waiting": waiting_count(campaign.id),
        "skipped": counts.get("skipped", {}),
        "created_at": iso(campaign.created_at),
        "started_at": iso(campaign.started_at),
        "finished_at": iso(campaign.finished_at),
    }


def trigger_json(trigger: SurveyTrigger) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": trigger.id,
        "survey_id": trigger.survey_id,
        "kind": trigger.kind,
        "channel": trigger.channel.value,
        "created_at": iso(trigger.created_at),
    }
    if trigger.kind == "recurring":
        out.update(
            every_days=trigger.every_days,
            audience=trigger.audience,
            last_planned_day=iso(trigger.last_run_at),
        )
    else:
        out.update(event=trigger.event_name, delay_days=trigger.delay_days)
    return out


@bp.post("/surveys/<int:survey_id>/campaigns")
@requires(Permission.MANAGE)
@write
def create_campaign_view(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    data = parse_body(CampaignIn)
    campaign = create_campaign(survey, data.channel, data.audience, clock.now())
    record("campaign.created", "campaign", campaign.id, after=campaign_json(campaign))
    return jsonify(campaign_json(campaign)), 202


@bp.get("/campaigns/<int:campaign_id>")
@requires(Permission.READ)
def get_campaign(campaign_id: int) -> Any:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}.", field="campaign_id")
    return jsonify(campaign_json(campaign))


@bp.post("/events")
@requires(Permission.SEND)
@write
def create_event() -> Any:
    """Something happened to a person; surveys with a rule for it ask them later."""
    data = parse_body(EventIn)
    now = clock.now()
    occurred = data.occurred_at or now
    if occurred > now + SKEW:
        raise AppError("occurred_at cannot be in the future", field="occurred_at")
    person = person_of(data)
    event, planned = record_event(person, data.name, occurred, data.properties or {}, now)
    return jsonify(
        {
            "id": event.id,
            "person_id": person.id,
            "name": event.name,
            "occurred_at": iso(event.occurred_at),
            "properties": event.properties,
            "planned_asks": planned,
        }
    ), 201


@bp.get("/surveys/<int:survey_id>/triggers")
@requires(Permission.READ)
def list_triggers(survey_id: int) -> Any:
    get_survey_or_404(survey_id)
    triggers = db.session.scalars(
        select(SurveyTrigger).where(SurveyTrigger.survey_id == survey_id).order_by(SurveyTrigger.id)
    )
    return jsonify({"data": [trigger_json(t) for t in triggers], "next_cursor": None})


@bp.post("/surveys/<int:survey_id>/triggers")
@requires(Permission.MANAGE)
@write
def create_trigger(survey_id: int) -> Any:
    """Attach a recurrence (``every_days`` + ``audience``) or an event rule (``event`` +
    ``delay_days``) to a survey."""
    survey = get_survey_or_404(survey_id)
    data = parse_body(TriggerIn)
    check_survey_channel(survey, data.channel, widget_rule=data.kind == "event")
    if data.channel == Channel.WIDGET and data.delay_days:
        raise AppError(
            "delay_days: a widget rule shows the survey when the widget reports the event; use 0",
            field="delay_days",
        )
    now = clock.now()
    trigger = SurveyTrigger(
        survey_id=survey.id,
        kind=data.kind,
        channel=data.channel,
        audience=validate_audience(data.audience) if data.kind == "recurring" else {},
        every_days=data.every_days,
        event_name=data.event,
        delay_days=data.delay_days,
        created_at=now,
        updated_at=now,
    )
    db.session.add(trigger)
    db.session.flush()
    record("trigger.created", "survey", survey.id, after=trigger_json(trigger))
    return jsonify(trigger_json(trigger)), 201


@bp.delete("/surveys/<int:survey_id>/triggers/<int:trigger_id>")
@requires(Permission.MANAGE)
@write
def delete_trigger(survey_id: int, trigger_id: int) -> Any:
    trigger = db.session.get(SurveyTrigger, trigger_id)
    if trigger is None or trigger.survey_id != survey_id:
        raise NotFound(f"No trigger {trigger_id} on survey {survey_id}.", field="trigger_id")
    record("trigger.deleted", "survey", survey_id, before=trigger_json(trigger))
    db.session.delete(trigger)
    return jsonify({"id": trigger_id, "deleted": True})
