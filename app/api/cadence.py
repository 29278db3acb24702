"""Cadence over the API: the workspace's rules and a survey's overrides (admins change them,
CSM keys read them), and "may we ask this person now, and if not, why and when"."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app import clock
from app.access import Permission, requires, scope
from app.api import bp
from app.api.surveys import get_survey_or_404
from app.api.transaction import write
from app.errors import AppError, json_object
from app.policy.rules import InvalidRuleError
from app.services import cadence_rules
from app.services.cadence import explain
from app.vocabulary import Channel


def _json_object() -> dict[str, Any]:
    return json_object()


def _invalid(exc: InvalidRuleError) -> AppError:
    return AppError(str(exc), field=exc.field)


@bp.get("/cadence")
@requires(Permission.READ)
def get_cadence() -> Any:
    return jsonify(cadence_rules.workspace_rules().to_dict())


@bp.put("/cadence")
@requires(Permission.MANAGE)
@write
def put_cadence() -> Any:
    """Replace the workspace's rules; rules left out take their defaults."""
    try:
        rules = cadence_rules.set_workspace_rules(_json_object(), clock.now())
    except InvalidRuleError as exc:
        raise _invalid(exc) from exc
    return jsonify(rules.to_dict())


def _survey_cadence(survey_id: int) -> dict[str, Any]:
    return {
        "survey_id": survey_id,
        "overrides": cadence_rules.survey_overrides(survey_id).to_dict(),
        "effective": cadence_rules.rules_for(survey_id).to_dict(),
    }


@bp.get("/surveys/<int:survey_id>/cadence")
@requires(Permission.READ)
def get_survey_cadence(survey_id: int) -> Any:
    get_survey_or_404(survey_id)
    return jsonify(_survey_cadence(survey_id))


@bp.put("/surveys/<int:survey_id>/cadence")
@requires(Permission.MANAGE)
@write
def put_survey_cadence(survey_id: int) -> Any:
    """Replace the survey's overrides (absent or null: inherit the workspace's value)."""
    get_survey_or_404(survey_id)
    try:
        cadence_rules.set_survey_overrides(survey_id, _json_object(), clock.now())
    except InvalidRuleError as exc:
        raise _invalid(exc) from exc
    return jsonify(_survey_cadence(survey_id))


def _channel_arg(default: Channel) -> Channel:
    raw = request.args.get("channel")
    if raw is None or raw == "":
        return default
    try:
        return Channel(raw.strip().lower())
    except ValueError:
        raise AppError(
            f"channel must be one of {', '.join(c.value for c in Channel)}", field="channel"
        ) from None


def _survey_arg() -> Any:
    raw = request.args.get("survey_id")
    if raw is None or raw == "":
        return None
    try:
        survey_id = int(raw)
    except ValueError:
        raise AppError("survey_id must be a whole number", field="survey_id") from None
    return get_survey_or_404(survey_id)


@bp.get("/people/<int:person_id>/eligibility")
@requires(Permission.READ)
def person_eligibility(person_id: int) -> Any:
    """May we ask this person now (this survey, this channel), and if not, why and when."""
    person = scope.person_or_404(person_id)
    survey = _survey_arg()
    return jsonify(explain(person, survey, _channel_arg(Channel.EMAIL), clock.now()))
