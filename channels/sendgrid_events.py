"""SendGrid's signed Event Webhook: verify a request, then parse its batch of events.

Pure functions and plain values, no Flask: the web layer hands over the raw body bytes and
the two headers, and gets back frozen :class:`SendGridEvent` values or a
:class:`WebhookRejected` with a reason code.

Verification (SendGrid, "Getting Started with the Event Webhook Security Features"):
SendGrid signs ``timestamp + raw body`` with ECDSA P-256 / SHA-256 and sends the base64 DER
signature in ``X-Twilio-Email-Event-Webhook-Signature`` and the timestamp (epoch seconds) in
``X-Twilio-Email-Event-Webhook-Timestamp``. The key shown in SendGrid's settings is the
base64 DER public key without PEM armour. The check itself is the SDK's
:class:`sendgrid.helpers.eventwebhook.EventWebhook`; on top of it a request must be fresh,
so a captured batch cannot be replayed later.

Parsing: each event is a JSON object; our custom args come back as top-level keys
(:mod:`channels.sendgrid_email` sets them), which SendGrid's own keys override.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from channels.base import Step
from channels.sendgrid_email import ARG_INVITATION_ID, ARG_MESSAGE_ID, ARG_STEP

SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP
DEFAULT_MAX_AGE = 600.0
DEFAULT_MAX_SKEW = 60.0


class WebhookRejected(ValueError):
    """The request is not a fresh, correctly signed SendGrid batch (``code`` says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EventAction(enum.StrEnum):
    UPDATE = "update"
    """Delivery news about the message: record ``status`` on it."""
    SUPPRESS = "suppress"
    """Record ``status`` and suppress the address for ``suppress`` (ends its invitations)."""
    IGNORE = "ignore"
    """Nothing for us to do (``group_resubscribe``, unknown event types)."""


@dataclass(frozen=True, slots=True)
class SendGridEvent:
    event: str
    """SendGrid's event type as sent: ``delivered``, ``bounce``, ``group_unsubscribe``..."""
    action: EventAction
    status: str | None
    """What the message's delivery status becomes: ``delivered``, ``bounced``, ``blocked``..."""
    suppress: str | None
    """Suppression reason code when the address must not be contacted again, else None."""
    dedupe_key: str
    """``sg_event_id``, or a digest of the whole event when SendGrid sent none."""
    sg_event_id: str | None
    sg_message_id: str | None
    provider_id: str | None
    """The ``X-Message-Id`` of the send request: ``sg_message_id`` up to its first dot."""
    email: str | None
    timestamp: datetime | None
    reason: str | None
    """The receiving server's words (``reason``, or ``response`` for delivered/deferred)."""
    smtp_status: str | None
    """SMTP status code of a bounce or drop, e.g. ``5.1.1``."""
    bounce_type: str | None
    """``bounce`` or ``blocked`` for bounce events."""
    message_id: int | None
    invitation_id: int | None
    step: Step | None


# event type -> (action, delivery status, suppression reason)
_EVENTS: dict[str, tuple[EventAction, str, str | None]] = {
    "processed": (EventAction.UPDATE, "processed", None),
    "deferred": (EventAction.UPDATE, "deferred", None),
    "delivered": (EventAction.UPDATE, "delivered", None),
    "open": (EventAction.UPDATE, "opened", None),
    "click": (EventAction.UPDATE, "clicked", None),
    "bounce": (EventAction.SUPPRESS, "bounced", "email_bounced"),
    "dropped": (EventAction.SUPPRESS, "dropped", "email_dropped"),
    "spamreport": (EventAction.SUPPRESS, "spam_report", "email_spam_report"),
    "unsubscribe": (EventAction.SUPPRESS, "unsubscribed", "email_unsubscribed"),
    "group_unsubscribe": (EventAction.SUPPRESS, "unsubscribed", "email_unsubscribed"),
}
# SendGrid's documented drop reasons (Event Webhook reference, "dropped"): those about the
# address keep their meaning in the suppression reason; those about our message or account
# fail the message without suppressing the person.
_DROP_REASONS: dict[str, str | None] = {
    "bounced address": "email_bounced",
    "unsubscribed address": "email_unsubscribed",
    "spam reporting address": "email_spam_report",
    "invalid": "email_invalid",
    "spam content": None,
    "invalid smtpapi header": None,
    "recipient list over package quota": None,
}


class SendGridWebhookVerifier:
    """Checks that a webhook request is SendGrid's, signed with our key, and fresh."""

    def __init__(
        self,
        public_key: str,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_skew: float = DEFAULT_MAX_SKEW,
    ) -> None:
        """``public_key``: the verification key from SendGrid (base64 DER; PEM accepted).

        ``max_age``: oldest accepted timestamp, in seconds; ``max_skew``: how far in the
        future a timestamp may be (clock differences).
        """
        key = "".join(
            line
            for line in public_key.strip().splitlines()
            if not line.startswith("-----")  # tolerate a pasted PEM block
        )
        key = "".join(key.split())
        if not key:
            raise ValueError("SendGrid webhook verification key is empty")
        self._webhook = EventWebhook(key)  # raises ValueError on a malformed key
        if not isinstance(self._webhook.public_key, ec.EllipticCurvePublicKey):
            raise ValueError("SendGrid webhook verification key is not an EC public key")
        self.max_age = max_age
        self.max_skew = max_skew

    def verify(self, body: bytes, signature: str | None, timestamp: str | None, now: float) -> None:
        """Return if the request is genuine and fresh; raise :class:`WebhookRejected` if not.

        ``body`` must be the raw request bytes: the signature covers them exactly.
        ``now`` is the current time in epoch seconds.
        """
        if not signature or not timestamp:
            raise WebhookRejected("unsigned", "missing SendGrid signature or timestamp header")
        try:
            sent_at = int(timestamp.strip())
        except ValueError:
            raise WebhookRejected("bad_timestamp", "timestamp header is not a number") from None
        if now - sent_at > self.max_age:
            raise WebhookRejected("stale", f"signed {now - sent_at:.0f}s ago")
        if sent_at - now > self.max_skew:
            raise WebhookRejected("stale", f"timestamp {sent_at - now:.0f}s in the future")
        try:
            payload = body.decode("utf-8")
            valid = self._webhook.verify_signature(payload, signature, timestamp)
        except Exception:  # undecodable body, non-base64 or malformed DER signature
            valid = False
        if not valid:
            raise WebhookRejected("bad_signature", "signature does not match")

    def verify_headers(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """:meth:`verify` with the two values looked up in ``headers`` (any letter case)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        self.verify(
            body,
            lowered.get(SIGNATURE_HEADER.lower()),
            lowered.get(TIMESTAMP_HEADER.lower()),
            now,
        )


def parse_events(body: bytes) -> list[SendGridEvent]:
    """Parse a (verified) webhook body into events; entries that are not objects are skipped.

    Raises :class:`WebhookRejected` (``bad_payload``) when the body is not a JSON array or
    object.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("bad_payload", "body is not JSON") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise WebhookRejected("bad_payload", "body is not a JSON array of events")
    return [parse_event(item) for item in data if isinstance(item, dict)]


def parse_event(raw: Mapping[str, Any]) -> SendGridEvent:
    """One event object as SendGrid posts it, tolerant of missing or oddly typed fields."""
    event = _text(raw.get("event")) or ""
    kind = event.lower()
    action, status, suppress = _EVENTS.get(kind, (EventAction.IGNORE, None, None))
    bounce_type = _text(raw.get("type")) if kind == "bounce" else None
    reason = _text(raw.get("reason")) or _text(raw.get("response"))
    if kind == "bounce" and bounce_type == "blocked":
        # A block is about the message or our sending IP, not the address; SendGrid itself
        # does not suppress blocked addresses. The message failed; the person stays askable.
        action, status, suppress = EventAction.UPDATE, "blocked", None
    elif kind == "dropped" and reason is not None:
        # Unknown reasons keep the default: when in doubt, do not ask again.
        suppress = _DROP_REASONS.get(reason.strip().lower(), suppress)
        if suppress is None:
            action = EventAction.UPDATE
    sg_event_id = _text(raw.get("sg_event_id"))
    sg_message_id = _text(raw.get("sg_message_id"))
    args = _custom_args(raw)
    try:
        step: Step | None = Step(_text(args.get(ARG_STEP)) or "")
    except ValueError:
        step = None
    return SendGridEvent(
        event=event,
        action=action,
        status=status,
        suppress=suppress,
        dedupe_key=sg_event_id or _digest(raw),
        sg_event_id=sg_event_id,
        sg_message_id=sg_message_id,
        provider_id=sg_message_id.split(".", 1)[0] if sg_message_id else None,
        email=_text(raw.get("email")),
        timestamp=_time(raw.get("timestamp")),
        reason=reason,
        smtp_status=_text(raw.get("status")),
        bounce_type=bounce_type,
        message_id=_id(args.get(ARG_MESSAGE_ID)),
        invitation_id=_id(args.get(ARG_INVITATION_ID)),
        step=step,
    )


def _custom_args(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Top-level keys (v3 Mail Send); older payloads nest them under unique/custom args."""
    merged: dict[str, Any] = {}
    for nested in ("unique_args", "custom_args"):
        value = raw.get(nested)
        if isinstance(value, dict):
            merged.update(value)
    merged.update(raw)
    return merged


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
        return n if n > 0 else None
    return None


def _time(value: Any) -> datetime | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool) or not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _digest(raw: Mapping[str, Any]) -> str:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
