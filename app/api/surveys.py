"""Surveys: create and change (admins), read (everyone with a key)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.schemas import ESCALATION_NEEDS_SMS, SurveyIn, SurveyPatch
from app.api.serialize import survey_json
from app.api.survey_email import check_templates, survey_out
from app.api.transaction import write
from app.audit.services import record
from app.db import db
from app.errors import AppError, NotFound
from app.models import Survey
from app.policy.lifecycle import PlanError, ReminderPlan
from app.services.survey_dates import hold_until_open, pull_in_deadlines
from app.vocabulary import Channel


def default_question() -> str:
    company = current_app.config["COMPANY_NAME"]
    return f"How likely are you to recommend {company} to a friend or colleague?"


def get_survey_or_404(survey_id: int, field: str = "survey_id") -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"No survey with id {survey_id}.", field=field)
    return survey


def audited_survey(survey: Survey) -> dict[str, Any]:
    """What the audit log keeps of a survey: its fields, and its email templates."""
    return {
        **survey_json(survey),
        "email_subject": survey.email_subject,
        "email_html": survey.email_html,
        "email_text": survey.email_text,
    }


@bp.post("/surveys")
@requires(Permission.MANAGE)
@write
def create_survey() -> Any:
    data = parse_body(SurveyIn)
    now = clock.now()
    survey = Survey(
        name=data.name,
        question=data.question or default_question(),
        follow_up_question=data.follow_up_question or "What is the main reason for your score?",
        follow_up_promoter=data.follow_up_promoter,
        follow_up_passive=data.follow_up_passive,
        follow_up_detractor=data.follow_up_detractor,
        channels={"enabled": [c.value for c in dict.fromkeys(data.channels)]},
        reminder_1_days=data.reminder_1_days,
        reminder_2_days=data.reminder_2_days,
        deadline_days=data.deadline_days,
        escalate_to_sms=data.escalate_to_sms,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        email_subject=data.email_subject,
        email_html=data.email_html,
        email_text=data.email_text,
        created_at=now,
        updated_at=now,
    )
    check_templates(survey, data.model_fields_set)
    db.session.add(survey)
    db.session.flush()
    record("survey.created", "survey", survey.id, after=audited_survey(survey))
    return jsonify(survey_out(survey)), 201


@bp.patch("/surveys/<int:survey_id>")
@requires(Permission.MANAGE)
@write
def change_survey(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    data = parse_body(SurveyPatch)
    before = audited_survey(survey)
    for name in data.model_fields_set:
        value = getattr(data, name)
        if name == "channels":
            value = {"enabled": [c.value for c in dict.fromkeys(value or [])]}
        if value is None and name not in (
            "opens_at",
            "closes_at",
            "follow_up_promoter",
            "follow_up_passive",
            "follow_up_detractor",
            "email_subject",
            "email_html",
            "email_text",
        ):
            raise AppError(f"{name} cannot be null", field=name)
        setattr(survey, name, value)
    check_templates(survey, data.model_fields_set)
    try:
        ReminderPlan(survey.reminder_1_days, survey.reminder_2_days, survey.deadline_days)
    except PlanError as exc:
        raise _plan_error(exc, survey, data.model_fields_set) from exc
    if survey.opens_at and survey.closes_at and survey.closes_at <= survey.opens_at:
        raise AppError("closes_at must be after opens_at", field="closes_at")
    if survey.escalate_to_sms and Channel.SMS.value not in survey.enabled_channels:
        field, message = ESCALATION_NEEDS_SMS.split(": ", 1)
        raise AppError(
            message, field=field if "escalate_to_sms" in data.model_fields_set else "channels"
        )
    now = clock.now()
    if "closes_at" in data.model_fields_set and survey.closes_at is not None:
        pull_in_deadlines(survey.id, survey.closes_at, now)
    if "opens_at" in data.model_fields_set and survey.opens_at is not None:
        hold_until_open(survey.id, survey.opens_at, now)
    survey.updated_at = now
    record("survey.updated", "survey", survey.id, before=before, after=audited_survey(survey))
    return jsonify(survey_out(survey))


#: The fields each plan check compares: a PATCH is told about the one it sent.
_PLAN_PAIRS = {
    "reminder_1_days": ("reminder_1_days",),
    "reminder_2_days": ("reminder_2_days", "reminder_1_days"),
    "deadline_days": ("deadline_days", "reminder_2_days"),
}


def _plan_error(exc: PlanError, survey: Survey, sent: set[str]) -> AppError:
    """A broken plan after a PATCH, naming a field the client sent (changing
    ``reminder_1_days`` to 7 when reminder 2 is on day 7 is a problem with
    ``reminder_1_days``), with the plan it would have made."""
    field = next((f for f in _PLAN_PAIRS[exc.field] if f in sent), exc.field)
    plan = (
        f"reminder_1_days={survey.reminder_1_days}, reminder_2_days={survey.reminder_2_days}, "
        f"deadline_days={survey.deadline_days}"
    )
    return AppError(f"{exc} (the plan would be {plan})", field=field)


@bp.get("/surveys")
@requires(Permission.READ)
def list_surveys() -> Any:
    surveys = db.session.scalars(select(Survey).order_by(Survey.id))
    return jsonify({"data": [survey_out(s) for s in surveys], "next_cursor": None})


@bp.get("/surveys/<int:survey_id>")
@requires(Permission.READ)
def get_survey(survey_id: int) -> Any:
    return jsonify(survey_out(get_survey_or_404(survey_id)))
