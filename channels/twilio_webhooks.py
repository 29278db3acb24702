"""Twilio webhooks: signature checks, reading the form fields, and TwiML replies.

The Flask blueprint stays free of the SDK: it passes the request's public URL, form and
``X-Twilio-Signature`` header to :func:`verify_signature`, turns the form into plain values
with :func:`parse_inbound_sms` or :func:`parse_status_callback`, and answers an inbound text
with :func:`twiml_reply`.

The URL must be the one Twilio called, as configured in the Twilio console (scheme, host,
path and query string), not what a reverse proxy forwarded: build it from the configured public
base URL, not from ``request.url`` behind a proxy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.twilio_codes import delivery_suppression

SIGNATURE_HEADER = "X-Twilio-Signature"


def verify_signature(
    *,
    url: str,
    params: Mapping[str, Any] | None,
    signature: str | None,
    auth_token: str | Sequence[str],
) -> bool:
    """True if ``signature`` (the X-Twilio-Signature header) signs this URL and form.

    ``params`` is the POSTed form exactly as received (a Werkzeug ``MultiDict`` works, repeated
    fields included). ``auth_token`` may be a list, current token first, to accept both tokens
    while one is being rotated. A missing signature or an empty token never verifies.
    """
    if not signature:
        return False
    tokens = [auth_token] if isinstance(auth_token, str) else list(auth_token)
    return any(
        RequestValidator(token).validate(url, params if params is not None else {}, signature)
        for token in tokens
        if token
    )


@dataclass(frozen=True, slots=True)
class InboundSms:
    provider_id: str
    """Twilio's MessageSid of the inbound message."""
    from_number: str
    to_number: str
    body: str
    opt_out_type: str | None
    """``STOP``, ``START`` or ``HELP`` when Twilio itself classified the text (Messaging Service
    with Advanced Opt-Out only); None otherwise: classify the body yourself."""


def _field(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing form field {name}")
    return value


def parse_inbound_sms(params: Mapping[str, Any]) -> InboundSms:
    """Plain values from an incoming-message webhook; ValueError if a required field is missing."""
    opt_out_type = params.get("OptOutType")
    if not isinstance(opt_out_type, str) or not opt_out_type:
        opt_out_type = None
    return InboundSms(
        provider_id=_field(params, "MessageSid"),
        from_number=_field(params, "From"),
        to_number=_field(params, "To"),
        body=params.get("Body") or "",
        opt_out_type=opt_out_type.upper()
        if isinstance(opt_out_type, str) and opt_out_type
        else None,
    )


FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})
FAILED_STATUSES = frozenset({"undelivered", "failed"})


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    provider_id: str
    """The MessageSid our send returned."""
    status: str
    """Twilio's MessageStatus, lower case: queued, sent, delivered, undelivered, failed..."""
    error_code: int | None
    final: bool
    """No further status will follow (delivered, undelivered, failed, canceled, read)."""
    failed: bool
    suppress: str | None
    """Suppression reason to record for the recipient, for errors that condemn the number."""


def parse_status_callback(params: Mapping[str, Any]) -> DeliveryUpdate:
    """Plain values from a status callback; ValueError if MessageSid or MessageStatus is missing.

    Status callbacks can arrive out of order (``sent`` after ``delivered``): the application
    should not move a message from a final status back to a non-final one.
    """
    status = _field(params, "MessageStatus").lower()
    raw_code = params.get("ErrorCode")
    try:
        error_code = int(raw_code) if raw_code not in (None, "") else None
    except (TypeError, ValueError):
        error_code = None
    failed = status in FAILED_STATUSES
    return DeliveryUpdate(
        provider_id=_field(params, "MessageSid"),
        status=status,
        error_code=error_code,
        final=status in FINAL_STATUSES,
        failed=failed,
        suppress=delivery_suppression(error_code) if failed else None,
    )


def twiml_reply(text: str | None = None) -> str:
    """A TwiML ``<Response>`` that texts ``text`` back, or does nothing when ``text`` is None.

    Serve it with ``Content-Type: text/xml``.
    """
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
