"""The product's words as plain enums, shared by policy (pure) and models (mechanism).

:class:`Step` (one outgoing step of an invitation) is defined by the delivery-channel
interface, :mod:`channels.base`, because its values travel through the providers and come
back in their events, and channels import nothing from ``app``; it is re-exported here so
the rest of the application reads every lifecycle word from this module.
"""

from __future__ import annotations

import enum

from channels.base import Step

__all__ = [
    "ANSWERABLE",
    "CLOSE_AFFECTED",
    "MAY_GO_OUT",
    "NOT_ANSWERED",
    "OPEN_SQL",
    "OPEN_STATUSES",
    "STEP_DUE_STATUSES",
    "STEP_FROM",
    "STEP_TO",
    "WAITING_STATUSES",
    "Category",
    "Channel",
    "ClickState",
    "InvitationStatus",
    "MessageStatus",
    "Role",
    "StaffRole",
    "Step",
    "SuppressionKind",
    "SuppressionReason",
    "SurveyStatus",
    "Trigger",
    "contact_at_sql",
    "contact_sql",
    "status_sql",
]


class Role(enum.StrEnum):
    """The respondent's role at the customer."""

    END_USER = "end_user"
    INFLUENCER = "influencer"
    DECISION_MAKER = "decision_maker"
    EXECUTIVE = "executive"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LINK = "link"
    WIDGET = "widget"


class Category(enum.StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


class InvitationStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    REMINDED_1 = "reminded_1"
    REMINDED_2 = "reminded_2"
    EXPIRED = "expired"
    RESPONDED = "responded"
    SUPPRESSED = "suppressed"
    CANCELED = "canceled"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"


S = InvitationStatus

# -- The invitation lifecycle's status sets: each defined once, here; ``status_sql`` writes
# -- the SQL form of a set from the same tuple (the order of each tuple is its SQL order).

#: Open: an invitation that may still send a step and waits for an answer. At most one per
#: person, survey and channel (a partial unique index over :data:`OPEN_SQL`).
OPEN_STATUSES: tuple[InvitationStatus, ...] = (
    S.SCHEDULED,
    S.SENDING,
    S.SENT,
    S.REMINDED_1,
    S.REMINDED_2,
)
#: Waiting for the sweep: the only statuses with a ``next_action_at`` (the next step, or the
#: deadline).
WAITING_STATUSES: tuple[InvitationStatus, ...] = (S.SCHEDULED, S.SENT, S.REMINDED_1, S.REMINDED_2)
#: The status an invitation must be in for a step to be claimed, and the one it moves to.
STEP_FROM: dict[Step, InvitationStatus] = {
    Step.INITIAL: S.SCHEDULED,
    Step.REMINDER_1: S.SENT,
    Step.REMINDER_2: S.REMINDED_1,
}
STEP_TO: dict[Step, InvitationStatus] = {
    Step.INITIAL: S.SENT,
    Step.REMINDER_1: S.REMINDED_1,
    Step.REMINDER_2: S.REMINDED_2,
}
#: Statuses with a step still to send (the sweep enqueues them when due).
STEP_DUE_STATUSES: tuple[InvitationStatus, ...] = tuple(STEP_FROM.values())
#: An invitation is a survey contact once it went out (``sent_at`` set), or while it may still
#: go out or may have gone out: these statuses count before ``sent_at`` is set. See
#: :func:`contact_sql`.
MAY_GO_OUT: tuple[InvitationStatus, ...] = (S.SCHEDULED, S.SENDING, S.NEEDS_REVIEW)
#: An answer is accepted (or, when already responded, updated) in these statuses.
ANSWERABLE: tuple[InvitationStatus, ...] = (*OPEN_STATUSES, S.RESPONDED, S.NEEDS_REVIEW)
#: Asked and not answered (the non-responders report).
NOT_ANSWERED: tuple[InvitationStatus, ...] = (
    S.EXPIRED,
    S.SENT,
    S.SENDING,
    S.REMINDED_1,
    S.REMINDED_2,
    S.NEEDS_REVIEW,
)
#: Invitations whose deadline a survey's close pulls in: the open ones, and those in review
#: (a reviewer who finds a step did not go out must not send it after the close).
CLOSE_AFFECTED: tuple[InvitationStatus, ...] = (*OPEN_STATUSES, S.NEEDS_REVIEW)


def status_sql(statuses: tuple[InvitationStatus, ...], column: str = "status") -> str:
    """``column IN ('a','b',...)``: the SQL form of a status set (fixed values, no input)."""
    values = ",".join(f"'{status.value}'" for status in statuses)
    return f"{column} IN ({values})"


OPEN_SQL = status_sql(OPEN_STATUSES)


def contact_sql(alias: str) -> str:
    """Whether the invitation row ``alias`` is a survey contact: the one definition, used by
    the engine's history (:func:`app.services.cadence.contact_rows`), the fan-out's SQL and
    recurring planning. It counts at :func:`contact_at_sql`."""
    return f"({alias}.sent_at IS NOT NULL OR {status_sql(MAY_GO_OUT, f'{alias}.status')})"


def contact_at_sql(alias: str) -> str:
    """When the invitation row ``alias`` counts as a contact: when it went out, else when it
    is scheduled to (so a later ask cannot slip in before it). Never ``created_at``."""
    return f"COALESCE({alias}.sent_at, {alias}.scheduled_at)"


class Trigger(enum.StrEnum):
    """What made an invitation."""

    API = "api"
    CSM = "csm"
    CAMPAIGN = "campaign"
    RECURRING = "recurring"
    EVENT = "event"
    DEMO = "demo"


class MessageStatus(enum.StrEnum):
    CLAIMED = "claimed"
    """Claimed by a worker, not handed to the provider yet: certainly not sent."""
    SENDING = "sending"
    """Handed to the provider; its answer not recorded yet (in doubt if the worker died)."""
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    """Not sent on purpose (e.g. no send window before the deadline); ``error`` says why."""


class ClickState(enum.StrEnum):
    """What became of a score-link click (see app/policy/clicks.py)."""

    PENDING = "pending"
    ANSWERED = "answered"
    SCANNER = "scanner"
    SUPERSEDED = "superseded"


class SuppressionKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    SPAM_REPORT = "spam_report"
    DROPPED = "dropped"
    SMS_STOP = "sms_stop"
    SMS_UNDELIVERABLE = "sms_undeliverable"
    SMS_INVALID = "sms_invalid"
    """The number does not exist, is not a mobile number or cannot take texts (Twilio)."""
    SMS_BLOCKED = "sms_blocked"
    """The carrier or the recipient blocks our texts (Twilio)."""
    MANUAL = "manual"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    CSM = "csm"
    ANALYST = "analyst"


class SurveyStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"
