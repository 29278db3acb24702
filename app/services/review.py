"""Settling an invitation in review (``needs_review``): a person checked the provider.

An invitation goes to review when a worker claimed a step and nobody heard the provider's
answer (the worker died, the request timed out). Sounding never guesses: it does not send
again. Someone looks the message up at the provider (SendGrid's activity feed and Twilio's
message log carry ``sounding_message_id``; in development, the outbox) and tells Sounding:

- it **went out**: the step counts as sent at its claim time and the invitation carries on
  (its next reminder, its deadline);
- it **did not go out**: the claim is released and the step goes out again (quiet hours and
  the deadline still apply).

Or they cancel the invitation (``POST /invitations/<id>/cancel``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.db import db
from app.errors import Conflict
from app.jobs import step_timing
from app.models import Invitation, Message
from app.vocabulary import STEP_FROM, STEP_TO, InvitationStatus, MessageStatus, Step

_SENT_COLUMN = {
    Step.INITIAL: "sent_at",
    Step.REMINDER_1: "reminded_1_at",
    Step.REMINDER_2: "reminded_2_at",
}


def message_in_doubt(invitation: Invitation) -> Message | None:
    return db.session.scalar(
        select(Message)
        .where(
            Message.invitation_id == invitation.id,
            Message.status.in_(
                (MessageStatus.UNKNOWN, MessageStatus.SENDING, MessageStatus.CLAIMED)
            ),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def settle_review(invitation: Invitation, went_out: bool, now: datetime, who: str) -> Message:
    """Settle ``invitation``'s review; returns the message that was in doubt. The caller
    commits."""
    if invitation.status != InvitationStatus.NEEDS_REVIEW:
        raise Conflict(
            f"Invitation {invitation.id} is {invitation.status.value}, not in review.",
            code="not_in_review",
        )
    message = message_in_doubt(invitation)
    if message is None:
        raise Conflict(
            f"Invitation {invitation.id} has no message in doubt to settle.", code="not_in_review"
        )
    step = Step(message.step)
    invitation.sending_step = None
    invitation.claimed_at = None
    invitation.end_reason = None
    invitation.ended_at = None
    invitation.updated_at = now
    if went_out:
        message.status = MessageStatus.ACCEPTED
        message.sent_at = message.created_at
        message.error = f"{message.error or 'in review'}; went out, as checked by {who}"
        message.updated_at = now
        status = STEP_TO[step]
        invitation.status = status
        setattr(invitation, _SENT_COLUMN[step], message.created_at)
        quiet = step_timing.quiet_of_invitations([invitation])[invitation.id]
        invitation.next_action_at = step_timing.next_look(
            invitation, status, message.created_at, quiet
        )
    else:
        db.session.delete(message)
        invitation.status = STEP_FROM[step]
        invitation.next_action_at = now
    db.session.flush()
    return message
