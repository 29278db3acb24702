"""What every workspace form shares: the rules' errors (pydantic's, an :class:`AppError`'s,
a cadence rule's) shown beside the field they name, and a save that changes nothing when
something is refused."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError

from app.db import db
from app.errors import AppError, problem_error

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

FORM_ERROR = "_form"


def blank_to_none(value: Any) -> Any:
    """WTForms filter: an empty text field means "not set"."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def sentence(message: str, field: str | None = None) -> str:
    """A rule's message as shown beside its field: without the ``field: `` prefix the API
    puts first, capitalized unless it starts with a field's name (``reminder_2_days ...``)."""
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    first = message.split(" ", 1)[0]
    return message if "_" in first else message[:1].upper() + message[1:]


def show_error(form: FlaskForm, field: str | None, message: str) -> None:
    """Attach ``message`` to the form field named (its last dotted part), else the form."""
    name = (field or "").split(".")[-1]
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        errors = target.errors if isinstance(target.errors, list) else []
        target.errors = [*errors, message]
    else:
        form.form_errors.append(message)


def validate_with(form: FlaskForm, model: type[M], data: Mapping[str, Any]) -> M | None:
    """``data`` validated by the API's ``model``; None with every problem shown on ``form``."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        for problem in exc.errors(include_url=False):
            error = problem_error(problem)
            show_error(form, error.field, sentence(error.message, error.field))
        return None


def save(form: FlaskForm, change: Callable[[], T]) -> T | None:
    """Run ``change`` and commit; on a refusal roll back (nothing changed), show the error on
    ``form`` and return None."""
    try:
        result = change()
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        show_error(form, exc.field, sentence(exc.message, exc.field))
        return None
    return result
