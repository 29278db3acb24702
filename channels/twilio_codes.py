"""What Twilio's error codes mean for Sounding: fail the step, retry, suppress the number.

Plain tables, no SDK: the send path (:mod:`channels.twilio_sms`) uses them for REST API errors,
the status-callback webhook (:mod:`channels.twilio_webhooks`) for delivery errors.

REST API (the ``POST .../Messages.json`` answer): 429 and 5xx are transient; every other 4xx
is permanent for that message (the same request can never succeed: bad number, opted-out
recipient, unverified or misconfigured sender, bad credentials). A few permanent codes also
say the *number* is no good and must be suppressed.

Delivery errors (``ErrorCode`` of a ``failed``/``undelivered`` status callback, 3xxxx): the
message was sent; nothing is retried. Numbers the carrier says do not exist, cannot take SMS
or block us are suppressed; handset-unreachable (30003, often a phone switched off), carrier
filtering (30007) and unknown errors (30008) are not, since they say nothing lasting about
the number.
"""

from __future__ import annotations

SUPPRESS_SMS_STOP = "sms_stop"
"""The recipient opted out (STOP), by keyword or as reported by Twilio (21610)."""
SUPPRESS_SMS_INVALID = "sms_invalid"
"""The number does not exist, is not a mobile number or cannot receive SMS."""
SUPPRESS_SMS_BLOCKED = "sms_blocked"
"""The carrier or the recipient blocks messages from us."""

SEND_SUPPRESSIONS: dict[int, str] = {
    21610: SUPPRESS_SMS_STOP,  # Attempt to send to unsubscribed recipient
    21211: SUPPRESS_SMS_INVALID,  # Invalid 'To' phone number
    21217: SUPPRESS_SMS_INVALID,  # Phone number does not appear to be valid
    21614: SUPPRESS_SMS_INVALID,  # 'To' number is not a valid mobile number
    21635: SUPPRESS_SMS_INVALID,  # 'To' number cannot be a landline
}
"""REST error codes (HTTP 400) that are permanent *and* suppress the number."""

DELIVERY_SUPPRESSIONS: dict[int, str] = {
    21610: SUPPRESS_SMS_STOP,  # Unsubscribed recipient
    30004: SUPPRESS_SMS_BLOCKED,  # Message blocked (by the recipient or their carrier)
    30005: SUPPRESS_SMS_INVALID,  # Unknown destination handset (number does not exist)
    30006: SUPPRESS_SMS_INVALID,  # Landline or unreachable carrier
}
"""Delivery error codes (status callbacks) that suppress the number."""

TRANSIENT_HTTP_STATUSES = frozenset({429})
"""HTTP statuses below 500 that still mean "not sent, try again later"."""


def is_transient_status(status: int) -> bool:
    """True for HTTP statuses that mean "certainly not sent, retry later" (429 and 5xx)."""
    return status in TRANSIENT_HTTP_STATUSES or status >= 500


def send_suppression(code: int | None) -> str | None:
    """Suppression reason for a REST error code returned when creating a message, if any."""
    return SEND_SUPPRESSIONS.get(code) if code is not None else None


def delivery_suppression(code: int | None) -> str | None:
    """Suppression reason for a delivery error code from a status callback, if any."""
    return DELIVERY_SUPPRESSIONS.get(code) if code is not None else None
