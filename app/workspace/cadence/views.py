"""Cadence rules in the workspace, workspace-wide and per survey: each rule with its meaning
and default, and before saving a dry run of the change over the survey's audience (the
fan-out's set-based decision, rolled back: nothing is sent or stored)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.db import db
from app.models import Survey
from app.policy.rules import CadenceOverrides, CadenceRules, InvalidRuleError
from app.services import cadence_rules
from app.services.cadence_dry_run import DryRun, dry_run
from app.vocabulary import Channel, SurveyStatus
from app.workspace.cadence.forms import RULES, CadenceForm, initial
from app.workspace.forms import save, sentence, show_error
from app.workspace.surveys.views import get_survey

bp = Blueprint(
    "workspace_cadence", __name__, url_prefix="/dashboard/cadence", template_folder="templates"
)
DRY_RUN_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WIDGET)


def _surveys() -> list[Survey]:
    return list(
        db.session.scalars(
            select(Survey).where(Survey.status != SurveyStatus.ARCHIVED).order_by(Survey.id)
        )
    )


def _channel() -> Channel:
    try:
        channel = Channel(request.values.get("channel", Channel.EMAIL.value))
    except ValueError:
        return Channel.EMAIL
    return channel if channel in DRY_RUN_CHANNELS else Channel.EMAIL


def _run(form: CadenceForm, survey: Survey | None, proposed_of: Any) -> DryRun | None:
    """The dry run of the form's rules (None, with the error on its field, if one is bad)."""
    try:
        proposed = proposed_of(form.rules_data())
    except InvalidRuleError as exc:
        show_error(form, exc.field, sentence(exc.message))
        return None
    if survey is None:
        return None
    result = dry_run(
        survey.id, _channel(), cadence_rules.rules_for(survey.id), proposed, clock.now()
    )
    db.session.rollback()  # nothing of the dry run stays (it ran in a rolled-back savepoint)
    return result


def _page(
    form: CadenceForm,
    survey: Survey | None,
    scope: Survey | None,
    effective: CadenceRules,
    result: DryRun | None,
    status: int,
) -> Any:
    return (
        render_template(
            "workspace/cadence/rules.html",
            form=form,
            rules=RULES,
            defaults=CadenceRules().to_dict(),
            workspace=cadence_rules.workspace_rules().to_dict(),
            effective=effective.to_dict(),
            scope=scope,
            survey=survey,
            surveys=_surveys(),
            channel=_channel(),
            channels=DRY_RUN_CHANNELS,
            result=result,
        ),
        status,
    )


def _chosen_survey() -> Survey | None:
    surveys = _surveys()
    wanted = request.values.get("survey", type=int)
    return next((s for s in surveys if s.id == wanted), surveys[0] if surveys else None)


@bp.route("", methods=["GET", "POST"])
@requires(Permission.MANAGE)
def workspace() -> Any:
    current = cadence_rules.workspace_rules()
    form = CadenceForm(data=initial(current.to_dict()))
    survey = _chosen_survey()
    result, status = None, 200
    if form.validate_on_submit():
        if request.form.get("action") == "save":
            saved = save(form, lambda: _saved(cadence_rules.set_workspace_rules, form))
            if saved is not None:
                flash("Workspace cadence rules saved.")
                return redirect(url_for(".workspace"))
        else:
            result = _run(form, survey, CadenceRules.from_mapping)
    if request.method == "POST" and (form.errors or form.form_errors):
        status = 400
    return _page(form, survey, None, current, result, status)


@bp.route("/surveys/<int:survey_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE)
def survey(survey_id: int) -> Any:
    chosen = get_survey(survey_id)
    overrides = cadence_rules.survey_overrides(survey_id)
    form = CadenceForm(data=initial(overrides.to_dict()))
    result, status = None, 200

    def proposed_of(data: dict[str, Any]) -> CadenceRules:
        return cadence_rules.workspace_rules().merged(CadenceOverrides.from_mapping(data))

    if form.validate_on_submit():
        if request.form.get("action") == "save":
            saved = save(
                form,
                lambda: _saved(
                    lambda data, now: cadence_rules.set_survey_overrides(survey_id, data, now), form
                ),
            )
            if saved is not None:
                flash(f"Cadence rules of “{chosen.name}” saved.")
                return redirect(url_for(".survey", survey_id=survey_id))
        else:
            result = _run(form, chosen, proposed_of)
    if request.method == "POST" and (form.errors or form.form_errors):
        status = 400
    return _page(form, chosen, chosen, cadence_rules.rules_for(survey_id), result, status)


def _saved(setter: Any, form: CadenceForm) -> CadenceRules:
    """Save through the cadence service; a bad rule becomes the field's error."""
    from app.errors import AppError

    try:
        return setter(form.rules_data(), clock.now())
    except InvalidRuleError as exc:
        raise AppError(exc.message, field=exc.field) from exc
