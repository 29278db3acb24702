"""Twilio's webhooks: incoming texts (``POST /hooks/twilio/sms``) and delivery reports
(``POST /hooks/twilio/status``).

Both are signed by Twilio with the account's Auth Token (``X-Twilio-Signature``) over the URL
Twilio called and the form. That URL is the public one configured in the Twilio console and
in each message's status callback, so it is rebuilt from ``BASE_URL`` and the request's path
and query string, never from ``request.url`` (behind a proxy that is another host, or http).
An unsigned or tampered request is a 403 and changes nothing. CSRF does not apply: the
signature is the proof.

The answer to an incoming text is TwiML (``text/xml``): the reply Twilio texts back, or an
empty ``<Response/>``. A status callback gets a 204.

``sounding sms-reply`` (development, :mod:`app.commands.sms_reply`) feeds a text to the
same code without Twilio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app import clock
from app.access import public
from app.db import db
from app.errors import AppError, Forbidden
from app.services.sms_replies import ReplyResult, apply_delivery_update, handle_reply
from channels.twilio_webhooks import (
    SIGNATURE_HEADER,
    InboundSms,
    parse_inbound_sms,
    parse_status_callback,
    twiml_reply,
    verify_signature,
)

bp = Blueprint("twilio_hooks", __name__, url_prefix="/hooks/twilio")

T = TypeVar("T")


def public_url() -> str:
    """The URL Twilio signed: the public base URL, the path and the query string as sent."""
    query = request.query_string.decode("latin-1")
    return f"{current_app.config['BASE_URL']}{request.path}" + (f"?{query}" if query else "")


def signed_form() -> MultiDict[str, str]:
    """The POSTed form, once its signature is checked; a 403 otherwise."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN") or ""
    form = request.form
    if not verify_signature(
        url=public_url(),
        params=form,
        signature=request.headers.get(SIGNATURE_HEADER),
        auth_token=token,
    ):
        raise Forbidden(
            "The request is not signed by Twilio for this URL "
            f"({SIGNATURE_HEADER} missing or wrong).",
            field=SIGNATURE_HEADER,
            code="bad_signature",
        )
    return form


def _bad_form(exc: ValueError) -> AppError:
    return AppError(f"Not a Twilio webhook: {exc}.", code="bad_request")


def once_more_on_conflict(work: Callable[[], T]) -> T:
    """Run ``work`` and commit; after a unique-key conflict with a concurrent request (the
    same webhook delivered twice at once, two STOPs), roll back and run it once more: the
    second run sees what the first committed."""
    try:
        result = work()
        db.session.commit()
        return result
    except IntegrityError:
        db.session.rollback()
    result = work()
    db.session.commit()
    return result


def reply_to(inbound: InboundSms) -> ReplyResult:
    return once_more_on_conflict(lambda: handle_reply(inbound, clock.now()))


@bp.post("/sms")
@public
def incoming_text() -> Any:
    form = signed_form()
    try:
        inbound = parse_inbound_sms(form)
    except ValueError as exc:
        raise _bad_form(exc) from exc
    result = reply_to(inbound)
    return Response(twiml_reply(result.answer), mimetype="text/xml")


@bp.post("/status")
@public
def delivery_status() -> Any:
    form = signed_form()
    try:
        update = parse_status_callback(form)
    except ValueError as exc:
        raise _bad_form(exc) from exc
    raw_id = request.args.get("m", "")
    message_id = int(raw_id) if raw_id.isdigit() else None
    once_more_on_conflict(lambda: apply_delivery_update(update, message_id, clock.now()))
    return Response(status=204)


def init_app(app: Flask) -> None:
    from app import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
