"""JSON API v1 under /api/v1, authenticated with API keys."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, Flask, request
from pydantic import BaseModel

from app.errors import AppError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The JSON body validated as ``model``; a clear 4xx otherwise."""
    if not request.is_json:
        raise AppError(
            "Send a JSON body with 'Content-Type: application/json'.",
            code="unsupported_media_type",
            status=415,
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise AppError("The request body must be a JSON object.", code="bad_request")
    return model.model_validate(data)


@bp.before_request
def _authenticate() -> None:
    from app.api.auth import authenticate

    authenticate()


def init_app(app: Flask) -> None:
    from app.api import cadence, campaigns, invitations, people, reports, responses, staff, surveys  # noqa: F401  # noqa: F401  (issue 3)

    app.register_blueprint(bp)
