"""Surveys: create and change (admins), read (everyone with a key)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.schemas import SurveyIn, SurveyPatch
from app.api.survey_email import survey_out
from app.api.transaction import write
from app.db import db
from app.errors import NotFound
from app.models import Survey
from app.services import surveys


def get_survey_or_404(survey_id: int, field: str = "survey_id") -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"No survey with id {survey_id}.", field=field)
    return survey


@bp.post("/surveys")
@requires(Permission.MANAGE)
@write
def create_survey() -> Any:
    data = parse_body(SurveyIn)
    survey = surveys.create_survey(data.model_dump(), clock.now())
    return jsonify(survey_out(survey)), 201


@bp.patch("/surveys/<int:survey_id>")
@requires(Permission.MANAGE)
@write
def change_survey(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    data = parse_body(SurveyPatch)
    surveys.change_survey(survey, data.model_dump(include=data.model_fields_set), clock.now())
    return jsonify(survey_out(survey))


@bp.get("/surveys")
@requires(Permission.READ)
def list_surveys() -> Any:
    rows = db.session.scalars(select(Survey).order_by(Survey.id))
    return jsonify({"data": [survey_out(s) for s in rows], "next_cursor": None})


@bp.get("/surveys/<int:survey_id>")
@requires(Permission.READ)
def get_survey(survey_id: int) -> Any:
    return jsonify(survey_out(get_survey_or_404(survey_id)))
