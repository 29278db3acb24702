"""Creating and changing a survey: the one place its rules are applied, for the API and the
workspace pages alike. Input arrives validated by :class:`app.api.schemas.SurveyIn` or
``SurveyPatch`` (pydantic); what needs the stored survey (the plan after a partial change,
the templates, the dates) is checked here and refused with an :class:`AppError` naming the
field."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app

from app.audit.services import record
from app.db import db
from app.errors import AppError
from app.messages import email_templates
from app.models import Survey
from app.policy.lifecycle import PlanError, ReminderPlan
from app.services.survey_dates import hold_until_open, pull_in_deadlines
from app.vocabulary import Channel

#: The survey fields that may be set to None (the others always hold a value).
NULLABLE = frozenset(
    {
        "opens_at",
        "closes_at",
        "follow_up_promoter",
        "follow_up_passive",
        "follow_up_detractor",
        "email_subject",
        "email_html",
        "email_text",
    }
)
ESCALATION_NEEDS_SMS = "reminder 2 can only go by SMS when the survey's channels include sms"
TEMPLATE_FIELDS = {field: part for part, field in email_templates.FIELDS.items()}
#: The fields each plan check compares: a change is told about the one it made.
_PLAN_PAIRS = {
    "reminder_1_days": ("reminder_1_days",),
    "reminder_2_days": ("reminder_2_days", "reminder_1_days"),
    "deadline_days": ("deadline_days", "reminder_2_days"),
}


def default_question() -> str:
    company = current_app.config["COMPANY_NAME"]
    return f"How likely are you to recommend {company} to a friend or colleague?"


def check_templates(survey: Survey, fields: Iterable[str]) -> None:
    """Validate the survey's templates named in ``fields``; an error naming the first bad one."""
    given = {TEMPLATE_FIELDS[f]: getattr(survey, f) for f in fields if f in TEMPLATE_FIELDS}
    try:
        email_templates.validate_all(
            given,
            company=current_app.config["COMPANY_NAME"],
            question=survey.question,
            base_url=current_app.config["BASE_URL"],
        )
    except email_templates.TemplateProblem as exc:
        raise AppError(str(exc), field=exc.field, code="invalid_template") from exc


def _channels(values: Iterable[Channel] | None) -> dict[str, list[str]]:
    return {"enabled": [c.value for c in dict.fromkeys(values or [])]}


def audited(survey: Survey) -> dict[str, Any]:
    """What the audit log keeps of a survey: every field, email templates included."""
    return {
        column.key: getattr(survey, column.key)
        for column in Survey.__table__.columns
        if column.key not in ("created_at", "updated_at")
    }


def create_survey(fields: dict[str, object], now: datetime) -> Survey:
    """A new survey from validated ``SurveyIn`` fields (all of them, defaults included)."""
    values = dict(fields)
    values["question"] = values.get("question") or default_question()
    values["follow_up_question"] = (
        values.get("follow_up_question") or "What is the main reason for your score?"
    )
    values["channels"] = _channels(values.get("channels"))  # type: ignore[arg-type]
    survey = Survey(**values, created_at=now, updated_at=now)
    check_templates(survey, fields)
    db.session.add(survey)
    db.session.flush()
    record("survey.created", "survey", survey.id, after=audited(survey))
    return survey


def change_survey(survey: Survey, changes: dict[str, object], now: datetime) -> Survey:
    """Apply the validated ``SurveyPatch`` fields in ``changes``; refused as a whole (the
    caller's transaction rolls back) when the survey they make is not consistent."""
    before = audited(survey)
    for name, value in changes.items():
        if name == "channels":
            value = _channels(value)  # type: ignore[arg-type]
        if value is None and name not in NULLABLE:
            raise AppError(f"{name} cannot be null", field=name)
        setattr(survey, name, value)
    check_templates(survey, changes)
    try:
        ReminderPlan(survey.reminder_1_days, survey.reminder_2_days, survey.deadline_days)
    except PlanError as exc:
        raise _plan_error(exc, survey, set(changes)) from exc
    if survey.opens_at and survey.closes_at and survey.closes_at <= survey.opens_at:
        raise AppError("closes_at must be after opens_at", field="closes_at")
    if survey.escalate_to_sms and Channel.SMS.value not in survey.enabled_channels:
        raise AppError(
            ESCALATION_NEEDS_SMS,
            field="escalate_to_sms" if "escalate_to_sms" in changes else "channels",
        )
    if "closes_at" in changes and survey.closes_at is not None:
        pull_in_deadlines(survey.id, survey.closes_at, now)
    if "opens_at" in changes and survey.opens_at is not None:
        hold_until_open(survey.id, survey.opens_at, now)
    survey.updated_at = now
    record("survey.updated", "survey", survey.id, before=before, after=audited(survey))
    return survey


def _plan_error(exc: PlanError, survey: Survey, sent: set[str]) -> AppError:
    """A broken plan after a change, naming a field that was changed (changing
    ``reminder_1_days`` to 7 when reminder 2 is on day 7 is a problem with
    ``reminder_1_days``), with the plan it would have made."""
    field = next((f for f in _PLAN_PAIRS[exc.field] if f in sent), exc.field)
    plan = (
        f"reminder_1_days={survey.reminder_1_days}, reminder_2_days={survey.reminder_2_days}, "
        f"deadline_days={survey.deadline_days}"
    )
    return AppError(f"{exc} (the plan would be {plan})", field=field)
