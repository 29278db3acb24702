"""Surveys in the workspace: list, create, edit, archive, with the plan preview beside the
reminder plan. The rules are the API's: the form's values go through ``SurveyIn`` /
``SurveyPatch`` and :mod:`app.services.surveys`."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.api.schemas import SurveyIn, SurveyPatch
from app.db import db
from app.models import Survey
from app.services import surveys as survey_service
from app.services.cadence_rules import rules_for
from app.services.plan_preview import Preview, preview
from app.vocabulary import Channel, SurveyStatus
from app.workspace.access import found
from app.workspace.forms import save, validate_with
from app.workspace.surveys.forms import CHANNEL_LABELS, PreviewForm, SurveyForm

bp = Blueprint(
    "workspace_surveys", __name__, url_prefix="/dashboard/surveys", template_folder="templates"
)


def get_survey(survey_id: int) -> Survey:
    return found(Survey, survey_id)


@bp.get("")
@requires(Permission.READ)
def index() -> Any:
    rows = db.session.scalars(select(Survey).order_by(Survey.status, Survey.id.desc())).all()
    return render_template(
        "workspace/surveys/index.html",
        surveys=rows,
        labels=CHANNEL_LABELS,
    )


def _sample(form: PreviewForm, rules_zone: str) -> tuple[str, datetime, Channel]:
    """The preview's sample person: their zone, when they are asked (UTC), the channel."""
    zone_name = form.timezone.data or rules_zone
    zone = ZoneInfo(zone_name)
    now_local = clock.now().astimezone(zone)
    day = form.day.data or (now_local + timedelta(days=1)).date()
    at = form.time.data or time(10, 0)
    asked = datetime.combine(day, at, tzinfo=zone)
    return zone_name, asked, Channel(form.channel.data or Channel.EMAIL.value)


def _preview(survey: Survey, form: PreviewForm) -> Preview:
    rules = rules_for(survey.id if survey.id else None)
    zone, asked, channel = _sample(form, rules.default_timezone)
    return preview(survey, rules, channel, zone, asked)


def _preview_form() -> PreviewForm:
    form = PreviewForm(formdata=request.values, prefix="sample")
    if not form.timezone.data or not form.validate():
        form = PreviewForm(
            formdata=None, prefix="sample", timezone="America/New_York", channel="email"
        )
    return form


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE)
def new() -> Any:
    form = SurveyForm()
    if request.method == "GET":
        form.channels.data = [c.value for c in CHANNEL_LABELS]
        form.reminder_1_days.data, form.reminder_2_days.data, form.deadline_days.data = 3, 7, 10
    plan: Preview | None = None
    status = 200
    if form.validate_on_submit():
        data = validate_with(form, SurveyIn, form.survey_data())
        if data is not None and request.form.get("action") == "preview":
            draft = Survey(**{k: v for k, v in data.model_dump().items() if k != "channels"})
            plan = _preview(draft, _preview_form())
        elif data is not None:
            survey = save(
                form, lambda: survey_service.create_survey(data.model_dump(), clock.now())
            )
            if survey is not None:
                flash(f"Survey “{survey.name}” created. Check its plan preview below.")
                return redirect(url_for(".edit", survey_id=survey.id))
    if request.method == "POST" and (form.errors or form.form_errors):
        status = 400
    return (
        render_template(
            "workspace/surveys/edit.html",
            form=form,
            survey=None,
            plan=plan,
            preview_form=_preview_form(),
        ),
        status,
    )


@bp.route("/<int:survey_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE)
def edit(survey_id: int) -> Any:
    survey = get_survey(survey_id)
    form = SurveyForm(obj=survey)
    if request.method == "GET":
        form.channels.data = survey.enabled_channels
    status = 200
    if form.validate_on_submit():
        data = validate_with(form, SurveyPatch, form.survey_data(change=True))
        if data is not None:
            changes = data.model_dump(include=data.model_fields_set)
            # A follow-up emptied on the form goes back to the general question.
            for name in ("follow_up_promoter", "follow_up_passive", "follow_up_detractor"):
                changes.setdefault(name, None)
            if save(form, lambda: survey_service.change_survey(survey, changes, clock.now())):
                flash("Survey saved.")
                return redirect(url_for(".edit", survey_id=survey.id))
            survey = get_survey(survey_id)
    if request.method == "POST":
        status = 400
    preview_form = _preview_form()
    return (
        render_template(
            "workspace/surveys/edit.html",
            form=form,
            survey=survey,
            plan=_preview(survey, preview_form),
            preview_form=preview_form,
        ),
        status,
    )


@bp.post("/<int:survey_id>/status")
@requires(Permission.MANAGE)
def set_status(survey_id: int) -> Any:
    survey = get_survey(survey_id)
    try:
        status = SurveyStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    survey_service.change_survey(survey, {"status": status}, clock.now())
    db.session.commit()
    flash(f"Survey “{survey.name}” is now {status.value}.")
    return redirect(url_for(".index"))
