"""Surveys: create and change (admins), read (everyone with a key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, jsonify
from sqlalchemy import select, update

from app import clock
from app.api import bp, parse_body
from app.api.auth import require_admin
from app.api.schemas import SurveyIn, SurveyPatch
from app.api.survey_email import check_templates, survey_out
from app.api.transaction import write
from app.db import db
from app.errors import AppError, NotFound
from app.models import Invitation, Survey
from app.policy.lifecycle import PlanError, ReminderPlan
from app.services.responses import ANSWERABLE


def default_question() -> str:
    company = current_app.config["COMPANY_NAME"]
    return f"How likely are you to recommend {company} to a friend or colleague?"


def get_survey_or_404(survey_id: int, field: str = "survey_id") -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"No survey with id {survey_id}.", field=field)
    return survey


@bp.post("/surveys")
@require_admin
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
    return jsonify(survey_out(survey)), 201


@bp.patch("/surveys/<int:survey_id>")
@require_admin
@write
def change_survey(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    data = parse_body(SurveyPatch)
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
        raise AppError(str(exc), field=exc.field) from exc
    if survey.opens_at and survey.closes_at and survey.closes_at <= survey.opens_at:
        raise AppError("closes_at must be after opens_at", field="closes_at")
    survey.updated_at = clock.now()
    if "closes_at" in data.model_fields_set and survey.closes_at is not None:
        close_links_by(survey.id, survey.closes_at, survey.updated_at)
    return jsonify(survey_out(survey))


def close_links_by(survey_id: int, closes_at: datetime, now: datetime) -> None:
    """A survey that closes earlier shortens the deadline of its invitations still taking
    answers, so their links close, their reminders stop and the sweep expires them then."""
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.survey_id == survey_id,
            Invitation.status.in_(ANSWERABLE),
            Invitation.deadline_at > closes_at,
        )
        .values(deadline_at=closes_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )


@bp.get("/surveys")
def list_surveys() -> Any:
    surveys = db.session.scalars(select(Survey).order_by(Survey.id))
    return jsonify({"data": [survey_out(s) for s in surveys], "next_cursor": None})


@bp.get("/surveys/<int:survey_id>")
def get_survey(survey_id: int) -> Any:
    return jsonify(survey_out(get_survey_or_404(survey_id)))
