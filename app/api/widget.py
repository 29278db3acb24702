"""The widget's keys and a survey's widget look, for admins.

``POST /widget/keys`` makes a key (public key, secret shown once, allowed origins);
``PUT /widget/keys/<id>/origins`` replaces its origins; ``POST .../rotate`` gives it a new
secret (the old one works for ``grace_hours``, default 24); ``POST .../revoke`` stops it.
``GET``/``PUT /surveys/<id>/widget`` read and set the survey's colours and position.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from flask import current_app, jsonify, request
from pydantic import Field, StringConstraints

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.schemas import Strict, Text255
from app.api.surveys import get_survey_or_404
from app.api.transaction import write
from app.audit.services import record
from app.errors import AppError
from app.policy.widget import DEFAULT_POSITION, MAX_ORIGINS, LookError, normalize_look
from app.services.widget_keys import (
    create_key,
    get_key,
    key_json,
    list_keys,
    revoke_key,
    rotate_secret,
    set_origins,
)

Origin = Annotated[str, StringConstraints(max_length=300)]


class WidgetKeyIn(Strict):
    name: Text255 | None = None
    allowed_origins: list[Origin] = Field(min_length=1, max_length=MAX_ORIGINS)


class OriginsIn(Strict):
    allowed_origins: list[Origin] = Field(min_length=1, max_length=MAX_ORIGINS)


class RotateIn(Strict):
    grace_hours: int = Field(24, ge=0, le=720)


class WidgetLookIn(Strict):
    theme: dict[str, Any] | None = None
    position: str | None = None


def _base() -> str:
    return str(current_app.config["BASE_URL"])


@bp.post("/widget/keys")
@requires(Permission.MANAGE)
@write
def create_widget_key() -> Any:
    data = parse_body(WidgetKeyIn)
    key = create_key(data.name, data.allowed_origins, clock.now())
    return jsonify(key_json(key, _base(), with_secret=True)), 201


@bp.get("/widget/keys")
@requires(Permission.MANAGE)
def list_widget_keys() -> Any:
    return jsonify({"data": [key_json(k, _base()) for k in list_keys()], "next_cursor": None})


@bp.get("/widget/keys/<int:key_id>")
@requires(Permission.MANAGE)
def get_widget_key(key_id: int) -> Any:
    return jsonify(key_json(get_key(key_id), _base()))


@bp.put("/widget/keys/<int:key_id>/origins")
@requires(Permission.MANAGE)
@write
def set_widget_key_origins(key_id: int) -> Any:
    key = get_key(key_id)
    data = parse_body(OriginsIn)
    return jsonify(key_json(set_origins(key, data.allowed_origins), _base()))


@bp.post("/widget/keys/<int:key_id>/rotate")
@requires(Permission.MANAGE)
@write
def rotate_widget_key(key_id: int) -> Any:
    key = get_key(key_id)
    data = parse_body(RotateIn) if request.content_length else RotateIn()
    rotate_secret(key, clock.now(), timedelta(hours=data.grace_hours))
    return jsonify(key_json(key, _base(), with_secret=True))


@bp.post("/widget/keys/<int:key_id>/revoke")
@requires(Permission.MANAGE)
@write
def revoke_widget_key(key_id: int) -> Any:
    return jsonify(key_json(revoke_key(get_key(key_id), clock.now()), _base()))


def _look_json(survey_id: int, look: dict[str, Any] | None) -> dict[str, Any]:
    look = look or {}
    return {
        "survey_id": survey_id,
        "theme": dict(look.get("theme") or {}),
        "position": look.get("position") or DEFAULT_POSITION,
    }


@bp.get("/surveys/<int:survey_id>/widget")
@requires(Permission.READ)
def get_survey_widget(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    return jsonify(_look_json(survey.id, survey.widget))


@bp.put("/surveys/<int:survey_id>/widget")
@requires(Permission.MANAGE)
@write
def set_survey_widget(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    data = parse_body(WidgetLookIn)
    before = _look_json(survey.id, survey.widget)
    try:
        survey.widget = normalize_look(data.theme, data.position)
    except LookError as exc:
        raise AppError(str(exc), field=exc.field) from exc
    survey.updated_at = clock.now()
    after = _look_json(survey.id, survey.widget)
    record("survey.widget_changed", "survey", survey.id, before=before, after=after)
    return jsonify(after)
