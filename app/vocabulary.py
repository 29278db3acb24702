"""The product's words as plain enums, shared by policy (pure) and models (mechanism)."""

from __future__ import annotations

import enum


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
