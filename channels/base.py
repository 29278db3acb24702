"""The delivery-channel interface.

A channel moves already-decided messages to a provider and reports, per message, what the
provider said. It knows nothing about surveys, cadence or the database: the application
claims each step before calling ``send`` and records the results afterwards (docs/architecture.md,
"Decisions", 2). Channels are plain Python objects built from configuration values, so they can
be tested against a local stand-in for the provider's API without a Flask app.

Email content is shared by many recipients and personalised by substitutions, the way the
SendGrid v3 API batches up to 1,000 personalizations into one request. A channel that cannot
batch renders each message with :func:`render_email`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class Step(enum.StrEnum):
    """One outgoing step of an invitation."""

    INITIAL = "initial"
    REMINDER_1 = "reminder_1"
    REMINDER_2 = "reminder_2"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EmailContent:
    """Subject and bodies shared by a batch; substitution keys appear literally in them."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class EmailMessage:
    message_id: int
    """Our own message id: stable across retries, echoed back in results and custom args."""
    invitation_id: int
    step: Step
    to: Address
    sender: Address
    reply_to: Address | None
    content: EmailContent
    substitutions: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    custom_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    message_id: int
    invitation_id: int | None
    step: Step
    to: str
    """E.164, e.g. ``+14155550100``."""
    body: str
    status_callback: str | None = None


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    """The provider took the message; ``provider_id`` is set when the provider gave one."""
    TRANSIENT = "transient"
    """Certainly not sent (rate limited, provider 5xx, connection refused): retry later."""
    PERMANENT = "permanent"
    """Will never succeed (invalid address, unverified sender, opted-out number): fail the step."""
    UNKNOWN = "unknown"
    """May or may not have gone out (e.g. a timeout after the request was written)."""


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: int
    outcome: Outcome
    provider_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    retry_after: float | None = None
    """Seconds the provider asked us to wait (rate-limit headers), for TRANSIENT results."""
    suppress: str | None = None
    """A suppression reason the application must record for the recipient (e.g. ``sms_stop``)."""


@runtime_checkable
class EmailChannel(Protocol):
    name: str
    max_batch: int

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        """Send a batch; return exactly one result per message, in any order."""
        ...


@runtime_checkable
class SmsChannel(Protocol):
    name: str
    max_batch: int

    def send(self, messages: Sequence[SmsMessage]) -> list[SendResult]:
        """Send a batch; return exactly one result per message, in any order."""
        ...


def substitute(template: str, substitutions: Mapping[str, str]) -> str:
    """Replace every substitution key in ``template`` with its value, in one pass.

    One pass, longest key first: a value that happens to contain another key is not replaced
    again, and a key that is a prefix of another cannot be replaced half-way. Values are
    inserted as they are: the application supplies HTML-escaped values under the keys it uses
    in HTML.
    """
    if not substitutions:
        return template
    keys = sorted(substitutions, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(k) for k in keys))
    return pattern.sub(lambda m: substitutions[m.group(0)], template)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(message: EmailMessage) -> RenderedEmail:
    subs = message.substitutions
    return RenderedEmail(
        subject=substitute(message.content.subject, subs),
        text=substitute(message.content.text, subs),
        html=substitute(message.content.html, subs),
    )
