"""``/widget/v1``: the script, and the four endpoints it calls (widget/README.md is the
contract). Every POST names the widget key and carries the user id with its signature, the
hex HMAC-SHA256 of the id under the key's secret: a missing signature is a 401, a wrong one a
403, and nothing is recorded. Each request is one transaction: a refusal changes nothing.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, make_response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.access import public
from app.api import parse_body
from app.db import db
from app.errors import AppError, Forbidden, NotFound, Unauthorized, json_object
from app.messages.i18n import CATALOGS
from app.models import Person, WidgetKey
from app.policy.widget import signature_matches
from app.services.campaigns import record_event
from app.services.people import AccountRef, upsert_person
from app.services.widget_surveys import (
    choose_and_show,
    record_answer,
    record_dismissal,
    survey_payload,
    widget_surveys,
)
from app.vocabulary import Role, Trigger
from app.widget_api import bp
from app.widget_api.guard import current_widget_key
from app.widget_api.schemas import CheckIn, DismissalIn, EventIn, ResponseIn, WidgetUser

#: The script: the file in widget/ of a checkout, or of the installed ``widget`` package.
SCRIPT = Path(__file__).resolve().parents[2] / "widget" / "sounding.js"
#: Short, so a new version reaches every page soon; the ETag makes the check cheap.
SCRIPT_MAX_AGE = 300


# --------------------------------------------------------------------------- the script


@dataclass(frozen=True, slots=True)
class _Script:
    stamp: tuple[int, int]
    raw: bytes
    gzipped: bytes
    etag: str


_cache: dict[str, _Script] = {}


def _script() -> _Script:
    """The script's bytes, gzipped copy and ETag; read again when the file changes."""
    if SCRIPT.is_file():
        stat = SCRIPT.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _cache.get("script")
        if cached is not None and cached.stamp == stamp:
            return cached
        raw = SCRIPT.read_bytes()
    else:
        cached = _cache.get("script")
        if cached is not None:
            return cached
        stamp = (0, 0)
        raw = resources.files("widget").joinpath("sounding.js").read_bytes()
    script = _Script(
        stamp=stamp,
        raw=raw,
        gzipped=gzip.compress(raw, compresslevel=9, mtime=0),
        etag=hashlib.sha256(raw).hexdigest()[:32],
    )
    _cache["script"] = script
    return script


@bp.get("/sounding.js")
@public
def script() -> Response:
    asset = _script()
    gzipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(asset.gzipped if gzipped else asset.raw)
    response.content_type = "application/javascript; charset=utf-8"
    response.set_etag(asset.etag + ("-gz" if gzipped else ""))
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.make_conditional(request)
    return response


# --------------------------------------------------------------------------- requests


def widget_write(view: Callable[..., Any]) -> Callable[..., Response]:
    """Commit the view's work, or roll it back when it answers an error (a refusal changes
    nothing). A request that lost a race to insert the same person is run once more."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        for attempt in (1, 2):
            try:
                response = make_response(view(*args, **kwargs))
                if response.status_code >= 400:
                    db.session.rollback()
                else:
                    db.session.commit()
                return response
            except IntegrityError:
                db.session.rollback()
                if attempt == 2:
                    raise
            except BaseException:
                db.session.rollback()
                raise
        raise AssertionError("unreachable")

    return wrapper


def _body() -> dict[str, Any]:
    return json_object()


def _key(body: dict[str, Any]) -> WidgetKey:
    if body.get("key") in (None, ""):
        raise AppError("key is required: the widget key from the script tag", field="key")
    key = current_widget_key()
    if key is None:
        raise Unauthorized("That widget key is not valid (unknown or revoked).", field="key")
    return key


def _user_id(value: object, field: str) -> str:
    if value is None or value == "":
        raise AppError(f"{field} is required", field=field, code="required")
    if not isinstance(value, str):
        raise AppError(f"{field}: must be a string", field=field)
    if len(value) > 255 or value != value.strip() or not value.isprintable():
        raise AppError(
            f"{field}: up to 255 printable characters, without spaces around", field=field
        )
    return value


def _verify(key: WidgetKey, user_id: str, signature: object) -> None:
    """The signature must be the HMAC of the user id under the key's secret."""
    if signature is None or signature == "":
        raise Unauthorized(
            "signature is required: the hex HMAC-SHA256 of the user id with the widget "
            "secret, computed by your backend",
            field="signature",
            code="signature_required",
        )
    if not signature_matches(key.secrets_at(clock.now()), user_id, signature):  # type: ignore[arg-type]
        raise Forbidden(
            "signature does not match this user id (or was made with another secret)",
            field="signature",
            code="bad_signature",
        )


def _authenticated(body: dict[str, Any], user_field: str) -> str:
    """Key, user id and signature checked, before anything else of the body is read."""
    key = _key(body)
    if user_field == "user.userId":
        user = body.get("user")
        value = user.get("userId") if isinstance(user, dict) else None
    else:
        value = body.get("userId")
    user_id = _user_id(value, user_field)
    _verify(key, user_id, body.get("signature"))
    return user_id


#: An upsert's field names as the widget spells them.
_FIELDS = {"external_id": "userId", "signed_up_at": "signedUpAt", "account": "account"}


def _upsert(user: WidgetUser, now: Any) -> Person:
    fields: dict[str, Any] = {"external_id": user.userId}
    for name in user.model_fields_set - {"userId"}:
        value = getattr(user, name)
        if name == "signedUpAt":
            fields["signed_up_at"] = value
        elif name == "account":
            fields["account"] = AccountRef(value.id, value.name) if value is not None else None
        elif name == "role":
            fields["role"] = Role(value) if value is not None else None
        else:
            fields[name] = value
    try:
        person, _ = upsert_person(fields, now)
    except AppError as exc:
        if exc.field:
            exc.field = "user." + _FIELDS.get(exc.field, exc.field)
        raise
    return person


def _person(user_id: str, now: Any) -> Person:
    """The identified person (made, with just the id, if the event beat the check)."""
    person, _ = upsert_person({"external_id": user_id}, now)
    return person


def _known_person(user_id: str, display_id: str) -> Person:
    """The person a display was shown to; nobody by that id has no display either."""
    person = db.session.scalar(select(Person).where(Person.external_id == user_id))
    if person is None:
        raise NotFound(f"No widget display {display_id!r} for this user.", field="display_id")
    return person


@functools.cache
def _languages() -> tuple[str, ...]:
    catalogs = sorted(p.name for p in CATALOGS.iterdir() if p.is_dir()) if CATALOGS.is_dir() else []
    return ("en", *catalogs)


def locale_for(person: Person) -> str:
    """The person's locale, else the browser's language we have words for, else English."""
    if person.locale:
        return person.locale
    return request.accept_languages.best_match(_languages()) or "en"


def _survey_answer(person: Person, chosen: Any) -> dict[str, Any]:
    if chosen is None:
        return {"survey": None}
    survey, display = chosen
    return {"survey": survey_payload(survey, display, locale_for(person))}


@bp.post("/check")
@public
@widget_write
def check() -> Any:
    """Identify the person (upsert) and answer with the survey to show now, or null."""
    body = _body()
    _authenticated(body, "user.userId")
    data = parse_body(CheckIn)
    now = clock.now()
    person = _upsert(data.user, now)
    chosen = choose_and_show(person, widget_surveys(now), now)
    return jsonify(_survey_answer(person, chosen))


@bp.post("/events")
@public
@widget_write
def event() -> Any:
    """Record the person's event (event rules of every channel see it) and answer with a
    survey that has a widget rule for it, when the cadence rules allow, or null."""
    body = _body()
    user_id = _authenticated(body, "userId")
    data = parse_body(EventIn)
    now = clock.now()
    person = _person(user_id, now)
    record_event(person, data.name, now, {}, now)
    chosen = choose_and_show(person, widget_surveys(now, event=data.name), now, Trigger.EVENT)
    return jsonify(_survey_answer(person, chosen)), 202


@bp.post("/dismissals")
@public
@widget_write
def dismissal() -> Any:
    body = _body()
    user_id = _authenticated(body, "userId")
    data = parse_body(DismissalIn)
    now = clock.now()
    record_dismissal(_known_person(user_id, data.display_id), data.display_id, now)
    return "", 204


@bp.post("/responses")
@public
@widget_write
def response() -> Any:
    body = _body()
    user_id = _authenticated(body, "userId")
    data = parse_body(ResponseIn)
    limit = current_app.config["MAX_COMMENT_LENGTH"]
    if data.comment is not None and len(data.comment) > limit:
        raise AppError(f"comment: at most {limit} characters", field="comment")
    now = clock.now()
    person = _known_person(user_id, data.display_id)
    answer, _ = record_answer(
        person, data.display_id, data.response_id, data.score, data.comment, now
    )
    return jsonify(
        {
            "response_id": data.response_id,
            "score": answer.score,
            "category": answer.category.value,
            "comment": answer.comment,
        }
    ), 201
