"""Errors the application raises on purpose, and how they reach people and programs.

Every refusal is an :class:`AppError` with a code, a readable message and, when one input is to
blame, the field. API, widget and webhook paths answer JSON ``{"error": {"code", "message",
"field"}}`` (docs/architecture.md, "Decisions", 5); pages for people get a friendly page with
the same message.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/widget/", "/hooks/")


class AppError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {
            "error": {"code": self.code, "message": self.message, "field": self.field, **self.extra}
        }


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


def from_validation_error(exc: ValidationError) -> AppError:
    """The first problem pydantic found, as an AppError naming the field (dotted path)."""
    return problem_error(exc.errors(include_url=False)[0])


def problem_error(first: Any) -> AppError:
    """One of pydantic's problems (an item of ``ValidationError.errors()``) as an AppError."""
    field = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__") or None
    kind = first.get("type", "")
    if kind == "missing":
        return AppError(f"{field} is required", field=field, code="required")
    if kind == "extra_forbidden":
        return AppError(f"{field} is not a known field", field=field, code="unknown_field")
    message = first.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if field is None:
        # A whole-object check names its field as "field: message" (see api/schemas.py).
        named = re.match(r"^([a-z_][a-z0-9_.]*): ", message)
        if named:
            return AppError(message, field=named.group(1))
        return AppError(message)
    return AppError(f"{field}: {message}", field=field)


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object; a clear 4xx saying what is wrong
    (and, for text that is not JSON, where) otherwise."""
    if not request.is_json:
        raise AppError(
            "Send a JSON body with 'Content-Type: application/json'.",
            code="unsupported_media_type",
            status=415,
        )
    try:
        data = json.loads(request.get_data(cache=True))
    except json.JSONDecodeError as exc:
        raise AppError(
            f"The request body is not valid JSON: {exc.msg.lower()} at line {exc.lineno}, "
            f"column {exc.colno} (character {exc.pos + 1}).",
            code="bad_request",
        ) from None
    except UnicodeDecodeError:
        raise AppError(
            "The request body is not valid JSON: it is not UTF-8 text.", code="bad_request"
        ) from None
    except RecursionError:  # nested deeper than the JSON decoder can go: not a body we take
        raise AppError("The request body is nested too deeply.", code="bad_request") from None
    if not isinstance(data, dict):
        raise AppError("The request body must be a JSON object.", code="bad_request")
    return data


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _plain_http_message(error: HTTPException, status: int) -> str:
    if status == 404:
        return f"There is nothing at {request.path}."
    if status == 405:
        allowed = getattr(error, "valid_methods", None) or []
        if allowed:
            return f"{request.path} does not take {request.method}; it takes {', '.join(allowed)}."
        return f"{request.path} does not take {request.method}."
    return error.name


def _json(error: AppError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    return response


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> Any:
        if wants_json():
            return _json(error)
        return _page(error.status, "Something is not right", error.message)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Any:
        return handle_app_error(from_validation_error(error))

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError) -> Any:
        return _page(
            400,
            "This form has expired",
            "The form was open too long or was changed on the way, so nothing was saved. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Any:
        status = error.code or 500
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
            429: "rate_limited",
        }
        message = error.description or error.name
        if message == type(error).description:
            # Werkzeug's own sentence ("If you entered the URL manually...") is for browsers.
            message = _plain_http_message(error, status)
        if wants_json():
            return _json(AppError(message, code=codes.get(status, "http_error"), status=status))
        titles = {404: "Page not found", 413: "That was too large"}
        friendly = {
            404: "There is nothing at this address. Please check the link.",
            413: "That was more than we can take in one go. Please shorten it and try again.",
        }
        return _page(status, titles.get(status, error.name), friendly.get(status, message))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return _json(
                AppError(
                    "Something went wrong on our side; it has been logged.",
                    code="internal",
                    status=500,
                )
            )
        return _page(
            500,
            "Something went wrong",
            "Something went wrong on our side. Please try again in a moment.",
        )
