"""The plain values the cadence engine reads and returns.

All datetimes must be timezone-aware; they are normalised to UTC on construction. A naive
datetime or one outside :data:`EARLIEST`..:data:`LATEST` raises :class:`PolicyInputError` (a
``ValueError`` naming the field) so that an API can answer 4xx instead of 500.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.policy.wording import iso
from app.vocabulary import Channel

__all__ = [
    "DISMISSAL_CHANNELS",
    "QUIET_HOURS_CHANNELS",
    "REFUSAL_ORDER",
    "Channel",
    "Contact",
    "ContactKind",
    "Decision",
    "History",
    "Person",
    "PolicyInputError",
    "Reason",
    "Refusal",
    "utc",
]

#: Inputs outside these bounds are refused: far from ``datetime`` overflow after adding rules.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


#: Quiet hours move sends on the channels where Sounding delivers a message to a phone or an
#: inbox. A widget shows while the person is using the product (so they are awake and
#: working), and a link is handed over by whoever made it: neither is moved.
QUIET_HOURS_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})

#: The dismissal backoff holds back widget surveys only: closing the widget says "not now in
#: the app", not "never email me".
DISMISSAL_CHANNELS = frozenset({Channel.WIDGET})


class ContactKind(enum.StrEnum):
    """What counts as a survey contact. Reminders of an open invitation are not contacts."""

    INVITATION = "invitation"
    """An invitation on any channel, at its send time (or scheduled time if not yet sent)."""
    WIDGET_DISPLAY = "widget_display"
    """The widget showing a survey to the person."""


class Reason(enum.StrEnum):
    """Decision codes. ``ok`` and ``quiet_hours`` are allowed; the others refuse."""

    OK = "ok"
    """Allowed now."""
    QUIET_HOURS = "quiet_hours"
    """Allowed, but outside the send window: send at ``send_at``."""
    SUPPRESSED = "suppressed"
    MIN_TENURE = "min_tenure"
    YEARLY_CAP = "yearly_cap"
    RECURRENCE = "recurrence"
    RECONTACT_PERIOD = "recontact_period"
    DISMISSAL_BACKOFF = "dismissal_backoff"
    ACCOUNT_CAP = "account_cap"


#: When several rules refuse, the decision's ``reason`` is the first of them in this order
#: (a SQL ``CASE`` in the same order gives the same per-reason counts).
REFUSAL_ORDER: tuple[Reason, ...] = (
    Reason.SUPPRESSED,
    Reason.MIN_TENURE,
    Reason.YEARLY_CAP,
    Reason.RECURRENCE,
    Reason.RECONTACT_PERIOD,
    Reason.DISMISSAL_BACKOFF,
    Reason.ACCOUNT_CAP,
)


class PolicyInputError(ValueError):
    """An input value the engine cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def utc(field: str, value: object) -> datetime:
    """``value`` as an aware UTC datetime, or :class:`PolicyInputError`."""
    if not isinstance(value, datetime):
        raise PolicyInputError(field, f"must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise PolicyInputError(field, "must be timezone-aware (UTC)")
    value = value.astimezone(UTC)
    if not EARLIEST <= value < LATEST:
        raise PolicyInputError(field, f"is out of range: {value.isoformat()}")
    return value


def _optional_utc(field: str, value: object) -> datetime | None:
    return None if value is None else utc(field, value)


@dataclass(frozen=True, slots=True)
class Contact:
    """One survey contact of the person: an invitation or a widget display.

    ``at`` is when it happened, or when it is scheduled to happen if it has not yet: scheduled
    invitations count from their scheduled time, so a later request cannot slip in before them.
    Canceled and failed invitations that never went out are not contacts.
    """

    at: datetime
    survey_id: int
    kind: ContactKind = ContactKind.INVITATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", utc("contact.at", self.at))
        try:
            object.__setattr__(self, "kind", ContactKind(self.kind))
        except ValueError:
            raise PolicyInputError("contact.kind", f"unknown kind {self.kind!r}") from None


@dataclass(frozen=True, slots=True)
class Person:
    """What the engine knows of the person.

    ``suppression`` is the reason (``unsubscribed``, ``bounced``, ``spam_report``,
    ``sms_stop``...) of a suppression that covers this person *on the channel being decided*
    (the caller maps address or number to channel), or ``None``.
    """

    timezone: str | None = None
    """IANA name; unknown or invalid names fall back to ``CadenceRules.default_timezone``."""
    signed_up_at: datetime | None = None
    suppression: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "signed_up_at", _optional_utc("signed_up_at", self.signed_up_at))


@dataclass(frozen=True, slots=True)
class History:
    """The facts about the past (and already scheduled future) the rules read."""

    contacts: tuple[Contact, ...] = ()
    """All survey contacts of the person, any survey, any channel, any order."""
    last_dismissed_at: datetime | None = None
    """The person's latest widget dismissal."""
    account_asked_at: tuple[datetime, ...] = ()
    """For each *other* person of the same account: the time of their latest contact.

    One entry per person (this person excluded, since asking them again adds nobody new);
    entries older than the account-cap window may be left out.
    """

    def __post_init__(self) -> None:
        contacts = _tuple("contacts", self.contacts)
        for contact in contacts:
            if not isinstance(contact, Contact):
                raise PolicyInputError("contacts", f"expected Contact, got {contact!r}")
        object.__setattr__(self, "contacts", contacts)
        object.__setattr__(
            self, "last_dismissed_at", _optional_utc("last_dismissed_at", self.last_dismissed_at)
        )
        asked = tuple(
            utc("account_asked_at", at) for at in _tuple("account_asked_at", self.account_asked_at)
        )
        object.__setattr__(self, "account_asked_at", asked)


def _tuple(field: str, value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise PolicyInputError(field, "must be a sequence")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One rule saying no at the instant checked."""

    reason: Reason
    message: str
    until: datetime | None
    """When this rule alone stops refusing (UTC); ``None``: not while the facts stay the same."""


@dataclass(frozen=True, slots=True)
class Decision:
    """May this person be asked now, and if not, why and when.

    - ``allowed``: ``True`` for reasons ``ok`` (send now) and ``quiet_hours`` (send later, at
      ``send_at``); ``False`` for every refusal.
    - ``reason``: the first refusing rule in :data:`REFUSAL_ORDER`, or ``ok``/``quiet_hours``.
    - ``message``: readable English for admins, for every decision.
    - ``send_at``: when allowed, the UTC instant to send (``>= now``, inside quiet hours for
      email and SMS); ``None`` when refused.
    - ``next_eligible_at``: the earliest UTC instant ``>= now`` at which *all* rules pass,
      quiet hours included (equals ``send_at`` when allowed); ``None`` when never (suppressed).
    - ``refusals``: every rule that refuses now, in :data:`REFUSAL_ORDER`.
    - ``notes``: what was assumed, e.g. an unknown sign-up date or time zone.
    """

    allowed: bool
    reason: Reason
    message: str
    send_at: datetime | None
    next_eligible_at: datetime | None
    refusals: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 UTC times) for storage and API bodies."""
        return {
            "allowed": self.allowed,
            "reason": str(self.reason),
            "message": self.message,
            "send_at": iso(self.send_at),
            "next_eligible_at": iso(self.next_eligible_at),
            "refusals": [
                {"reason": str(r.reason), "message": r.message, "until": iso(r.until)}
                for r in self.refusals
            ],
            "notes": list(self.notes),
        }
