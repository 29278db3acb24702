"""What a provider's delivery event does to a message's status: pure, plain values.

Events arrive late, twice, or out of order, so a status only ever moves forward along
:data:`RANK`: an ``open`` after ``delivered`` moves it on, a late ``delivered`` after an
``open`` changes nothing. Failures rank below ``delivered`` (a message that was delivered
stays delivered whatever else is said about it); the address may still be suppressed.
"""

from __future__ import annotations

from app.vocabulary import MessageStatus, SuppressionReason

M = MessageStatus

RANK: dict[MessageStatus, int] = {
    M.CLAIMED: 0,
    M.UNKNOWN: 0,
    M.FAILED: 0,
    M.ACCEPTED: 1,
    M.DEFERRED: 2,
    M.BOUNCED: 3,
    M.DROPPED: 3,
    M.UNDELIVERED: 3,
    M.DELIVERED: 4,
    M.OPENED: 5,
    M.CLICKED: 6,
}

#: channels.sendgrid_events' status words -> our message status.
EVENT_STATUS: dict[str, MessageStatus] = {
    "processed": M.ACCEPTED,
    "deferred": M.DEFERRED,
    "delivered": M.DELIVERED,
    "opened": M.OPENED,
    "clicked": M.CLICKED,
    "bounced": M.BOUNCED,
    "blocked": M.UNDELIVERED,
    "dropped": M.DROPPED,
    # A spam report or an unsubscribe means the message reached the person.
    "spam_report": M.DELIVERED,
    "unsubscribed": M.DELIVERED,
}

#: channels.sendgrid_events' suppression codes -> our suppression reasons.
SUPPRESSION_REASON: dict[str, SuppressionReason] = {
    "email_bounced": SuppressionReason.BOUNCED,
    "email_invalid": SuppressionReason.BOUNCED,
    "email_dropped": SuppressionReason.DROPPED,
    "email_spam_report": SuppressionReason.SPAM_REPORT,
    "email_unsubscribed": SuppressionReason.UNSUBSCRIBED,
}


def advance(current: MessageStatus, event_status: str | None) -> MessageStatus:
    """The status after an event: the event's if it is further along, else ``current``."""
    new = EVENT_STATUS.get(event_status or "")
    if new is None or RANK[new] <= RANK[current]:
        return current
    return new


def suppression_reason(code: str | None) -> SuppressionReason | None:
    """Our reason for a provider's suppression code; unknown codes suppress as dropped
    (when in doubt, do not ask again)."""
    if code is None:
        return None
    return SUPPRESSION_REASON.get(code, SuppressionReason.DROPPED)
