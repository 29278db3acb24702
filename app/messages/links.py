"""Signed tokens for links people follow (docs/architecture.md, "Decisions", 6).

itsdangerous with a salt per purpose, so a token made for one purpose never verifies for
another, and the list of ``SECRET_KEYS`` for rotation: the newest key signs, every key
verifies. Survey links carry their own expiry (the invitation's deadline), checked here
against the application's clock; the database's deadline is checked again by the page, since
a survey that closes early shortens it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app import clock


class Purpose(enum.StrEnum):
    SURVEY = "sounding.survey-link.v1"
    UNSUBSCRIBE = "sounding.unsubscribe.v1"
    WIDGET_DISPLAY = "sounding.widget-display.v1"


class BadToken(Exception):
    """Tampered, malformed, signed by an unknown key, or made for another purpose."""


class ExpiredToken(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("token expired")
        self.payload = payload


def _serializer(purpose: Purpose) -> URLSafeSerializer:
    keys: list[str] = current_app.config["SECRET_KEYS"]
    # itsdangerous signs with the last key and verifies with all; ours are newest first.
    return URLSafeSerializer(list(reversed(keys)), salt=purpose.value)


def sign(purpose: Purpose, payload: dict[str, Any], expires_at: datetime | None = None) -> str:
    data = dict(payload)
    if expires_at is not None:
        data["exp"] = int(expires_at.timestamp())
    return _serializer(purpose).dumps(data)


def verify(purpose: Purpose, token: str) -> dict[str, Any]:
    """The payload of a valid token; raises BadToken or ExpiredToken."""
    try:
        data = _serializer(purpose).loads(token)
    except BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if not isinstance(data, dict):
        raise BadToken("unexpected payload")
    exp = data.get("exp")
    if exp is not None and clock.now() >= datetime.fromtimestamp(exp, UTC):
        raise ExpiredToken(data)
    return data


@dataclass(frozen=True, slots=True)
class SurveyLink:
    invitation_id: int


def survey_token(invitation_id: int, deadline_at: datetime) -> str:
    return sign(Purpose.SURVEY, {"i": invitation_id}, expires_at=deadline_at)


def survey_url(invitation_id: int, deadline_at: datetime, score: int | None = None) -> str:
    base = current_app.config["BASE_URL"]
    url = f"{base}/s/{survey_token(invitation_id, deadline_at)}"
    return url if score is None else f"{url}?score={score}"


def read_survey_token(token: str) -> SurveyLink:
    """Raises BadToken, or ExpiredToken (whose payload still names the invitation)."""
    data = verify(Purpose.SURVEY, token)
    return SurveyLink(invitation_id=_invitation_id(data))


def _invitation_id(data: dict[str, Any]) -> int:
    value = data.get("i")
    if not isinstance(value, int):
        raise BadToken("no invitation in token")
    return value
