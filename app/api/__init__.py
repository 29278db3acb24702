"""JSON API v1 under /api/v1, authenticated with API keys (checked by ``app.access``)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Flask, request
from pydantic import BaseModel

from app.errors import AppError, json_object

bp = Blueprint("api", __name__, url_prefix="/api/v1")

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The JSON body validated as ``model``; a clear 4xx otherwise."""
    data = json_object()
    where = _nul_in(data)
    if where is not None:
        raise AppError(f"{where}: text cannot contain NUL characters (\\u0000)", field=where)
    return model.model_validate(data)


def _nul_in(data: Any) -> str | None:
    """The dotted path of a string (or key) in ``data`` holding a NUL character,
    which PostgreSQL cannot store; None when there is none. Iterative: bodies can be deep."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        for name, item in items:
            if isinstance(name, str) and "\x00" in name:
                return path or "body"
            stack.append((f"{path}.{name}" if path else str(name), item))
    return None


@bp.before_request
def _refuse_nul_in_query() -> None:
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "")
            raise AppError("Query parameters cannot contain NUL characters (%00).", field=field)


def init_app(app: Flask) -> None:
    from app.api import (  # noqa: F401
        api_keys,
        cadence,
        campaigns,
        invitations,
        non_responders,
        people,
        reports,
        responses,
        review,
        staff,
        survey_email,
        surveys,
        widget,
    )
    from app.audit import views as audit_views  # noqa: F401  (GET /api/v1/audit-log)

    app.register_blueprint(bp)
