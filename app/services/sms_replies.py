"""Incoming texts and delivery reports from Twilio, applied to the database.

:func:`handle_reply` reads one incoming text as the conversation policy says
(:mod:`app.policy.sms_conversation`), records what it means (a response, a comment, an
opt-out...) and returns what to text back. :func:`apply_delivery_update` moves a message to
the status a status callback reports. Both leave the commit to the caller, which commits
before answering Twilio (docs/architecture.md, "Decisions", 4).

Twilio may deliver a webhook more than once. An incoming text is kept under its MessageSid
(unique): a second delivery finds the first and gets its answer again, changing nothing. A
status callback can only move a message to a final status once, so a repeated or late
callback changes nothing either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, or_, select

from app.db import db
from app.messages.content import sender_of
from app.models import Invitation, Message, Person, Response, SmsReply
from app.policy import sms_grammar
from app.policy.nps import category
from app.policy.sms_conversation import (
    Answer,
    Conversation,
    Decision,
    ReplyOutcome,
    closed_text,
    decide,
    follow_up_text,
    thanks_text,
)
from app.services.responses import is_answerable, record_response
from app.services.suppressions import is_suppressed, lift, suppress
from app.vocabulary import (
    Channel,
    InvitationStatus,
    MessageStatus,
    SuppressionKind,
    SuppressionReason,
)
from channels.twilio_webhooks import DeliveryUpdate, InboundSms

log = logging.getLogger(__name__)

S = InvitationStatus

#: Statuses in which a text may have reached the person (a step went out or may have).
TEXTED = (S.SENDING, S.NEEDS_REVIEW)


@dataclass(frozen=True, slots=True)
class ReplyResult:
    outcome: ReplyOutcome
    answer: str | None
    """The text to send back in the TwiML answer, or None for an empty answer."""
    invitation_id: int | None = None
    replayed: bool = False
    """True when this MessageSid was handled before: nothing changed this time."""


def find_reply(provider_id: str) -> SmsReply | None:
    return db.session.scalar(select(SmsReply).where(SmsReply.provider_id == provider_id))


def replayed(reply: SmsReply) -> ReplyResult:
    return ReplyResult(reply.outcome, reply.answer, reply.invitation_id, replayed=True)


def handle_reply(inbound: InboundSms, now: datetime) -> ReplyResult:
    """Read and apply one incoming text; the caller commits (and, on an IntegrityError from a
    concurrent duplicate, rolls back and calls again: the second call replays the first)."""
    earlier = find_reply(inbound.provider_id)
    if earlier is not None:
        return replayed(earlier)
    invitation = last_texted_invitation(inbound.from_number)
    state = conversation(invitation, inbound.from_number, now)
    decision = decide(inbound.body, state, now, inbound.opt_out_type)
    answer = _apply(decision, invitation, inbound, now)
    db.session.add(
        SmsReply(
            provider_id=inbound.provider_id,
            from_number=inbound.from_number[:32],
            to_number=inbound.to_number[:32],
            body=inbound.body,
            invitation_id=invitation.id if invitation is not None else None,
            outcome=decision.outcome,
            answer=answer,
            created_at=now,
        )
    )
    db.session.flush()
    log.info(
        "sms reply %s from invitation %s: %s",
        inbound.provider_id,
        invitation.id if invitation is not None else None,
        decision.outcome.value,
    )
    return ReplyResult(decision.outcome, answer, invitation.id if invitation else None)


def last_texted_invitation(number: str) -> Invitation | None:
    """The SMS invitation last texted to ``number`` (what a reply answers), locked so that two
    texts from one person are read one after the other."""
    last_texted = func.coalesce(
        Invitation.reminded_2_at,
        Invitation.reminded_1_at,
        Invitation.sent_at,
        Invitation.claimed_at,
        Invitation.updated_at,
    )
    return db.session.scalar(
        select(Invitation)
        .join(Person, Person.id == Invitation.person_id)
        .where(
            Person.phone == number,
            Invitation.channel == Channel.SMS,
            or_(Invitation.sent_at.is_not(None), Invitation.status.in_(TEXTED)),
        )
        .order_by(last_texted.desc(), Invitation.id.desc())
        .limit(1)
        .with_for_update(of=Invitation)
    )


def conversation(invitation: Invitation | None, number: str, now: datetime) -> Conversation:
    last_closed = db.session.scalar(
        select(func.max(SmsReply.created_at)).where(
            SmsReply.from_number == number, SmsReply.outcome == ReplyOutcome.CLOSED
        )
    )
    if invitation is None:
        return Conversation(invited=False, last_closed_notice_at=last_closed)
    last_score = db.session.execute(
        select(SmsReply.id, SmsReply.created_at)
        .where(SmsReply.invitation_id == invitation.id, SmsReply.outcome == ReplyOutcome.SCORE)
        .order_by(SmsReply.id.desc())
        .limit(1)
    ).first()
    commented = last_score is not None and bool(
        db.session.scalar(
            select(func.count(SmsReply.id)).where(
                SmsReply.invitation_id == invitation.id,
                SmsReply.outcome == ReplyOutcome.COMMENT,
                SmsReply.id > last_score.id,
            )
        )
    )
    last_hint = db.session.scalar(
        select(func.max(SmsReply.created_at)).where(
            SmsReply.invitation_id == invitation.id, SmsReply.outcome == ReplyOutcome.HINT
        )
    )
    return Conversation(
        invited=True,
        answerable=is_answerable(invitation, now),
        answered=invitation.status == S.RESPONDED,
        score_at=last_score.created_at if last_score is not None else None,
        comment_since_score=commented,
        last_hint_at=last_hint,
        last_closed_notice_at=last_closed,
    )


def _company() -> str:
    return str(current_app.config["COMPANY_NAME"])


def _csm_name(invitation: Invitation | None) -> str | None:
    if invitation is None:
        return None
    csm = sender_of(invitation)
    return csm.from_name if csm is not None else None


def _apply(
    decision: Decision, invitation: Invitation | None, inbound: InboundSms, now: datetime
) -> str | None:
    """Make the decision true in the database; return the text to answer with."""
    number = inbound.from_number
    outcome = decision.outcome
    if outcome == ReplyOutcome.OPT_OUT:
        ended = suppress(
            SuppressionKind.PHONE,
            number,
            SuppressionReason.SMS_STOP,
            now,
            detail=f"replied {inbound.body.strip()[:20] or inbound.opt_out_type} by SMS",
        )
        log.info("sms opt-out from a number: %d open invitation(s) ended", ended)
    elif outcome == ReplyOutcome.OPT_IN:
        existing = is_suppressed(SuppressionKind.PHONE, number)
        if existing is not None and existing.reason == SuppressionReason.SMS_STOP:
            lift(SuppressionKind.PHONE, number)
    elif outcome == ReplyOutcome.SCORE:
        assert invitation is not None and decision.score is not None
        record_response(
            invitation,
            score=decision.score,
            comment=_limited(decision.comment),
            role=None,
            now=now,
            channel=Channel.SMS,
        )
    elif outcome == ReplyOutcome.COMMENT:
        assert invitation is not None and decision.comment is not None
        _comment(invitation, decision.comment, decision.append, now)
    return _answer_text(decision, invitation)


def _limited(comment: str | None) -> str | None:
    if comment is None:
        return None
    return comment[: current_app.config["MAX_COMMENT_LENGTH"]]


def _comment(invitation: Invitation, text: str, append: bool, now: datetime) -> None:
    """The follow-up comment, allowed within the comment window even when the deadline passed
    in between: it belongs to an answer given in time."""
    response = db.session.scalar(select(Response).where(Response.invitation_id == invitation.id))
    if response is None:  # the answer was withdrawn meanwhile; keep the text only in the log
        return
    if append and response.comment:
        text = f"{response.comment}\n{text}"
    response.comment = _limited(text)
    response.updated_at = now


def _answer_text(decision: Decision, invitation: Invitation | None) -> str | None:
    answer = decision.answer
    if answer is None:
        return None
    if answer == Answer.HELP:
        return sms_grammar.help_text(company=_company(), csm_name=_csm_name(invitation))
    if answer == Answer.HINT:
        assert decision.problem is not None
        return sms_grammar.hint_text(decision.problem)
    if answer == Answer.CLOSED:
        return closed_text(_company())
    if answer == Answer.THANKS:
        return thanks_text()
    assert invitation is not None and decision.score is not None
    return follow_up_text(invitation.survey.follow_up_for(category(decision.score)))


# --- delivery reports ----------------------------------------------------------------------------

_FINAL = {
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
FINAL_MESSAGE_STATUSES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.BOUNCED,
        MessageStatus.DROPPED,
    }
)


def _message_for(update: DeliveryUpdate, message_id: int | None) -> Message | None:
    """The message a status callback is about: by our id (in the callback URL, so a callback
    that overtakes the worker's own record is not lost), else by Twilio's MessageSid."""
    if message_id is not None:
        message = db.session.scalar(
            select(Message).where(Message.id == message_id).with_for_update()
        )
        if (
            message is not None
            and message.channel == Channel.SMS
            and message.provider_id in (None, update.provider_id)
        ):
            return message
    return db.session.scalar(
        select(Message)
        .where(Message.provider_id == update.provider_id, Message.channel == Channel.SMS)
        .order_by(Message.id)
        .limit(1)
        .with_for_update()
    )


def apply_delivery_update(
    update: DeliveryUpdate, message_id: int | None, now: datetime
) -> Message | None:
    """Record a status callback on its message; returns the message, or None if unknown.

    A final status (delivered, undelivered, failed) is written once and never replaced, so
    late or repeated callbacks (``sent`` after ``delivered``) change nothing. A failure whose
    code condemns the number (:mod:`channels.twilio_codes`) suppresses it at once, which ends
    its open SMS invitations.
    """
    message = _message_for(update, message_id)
    if message is None:
        log.info("status callback for unknown message %s (%s)", update.provider_id, update.status)
        return None
    if message.status in FINAL_MESSAGE_STATUSES:
        return message
    if message.provider_id is None:
        message.provider_id = update.provider_id
    message.last_event_at = now
    message.updated_at = now
    status = _FINAL.get(update.status)
    if status is None:  # queued, sending, sent...: still on its way, nothing to change
        return message
    message.status = status
    message.sent_at = message.sent_at or now
    if update.failed:
        code = str(update.error_code) if update.error_code is not None else None
        message.error_code = code
        message.error = f"Twilio reported the text {update.status}" + (
            f" (error {code})" if code else ""
        )
    if update.suppress:
        suppress(
            SuppressionKind.PHONE,
            message.recipient,
            SuppressionReason(update.suppress),
            now,
            detail=f"Twilio error {update.error_code} on message {update.provider_id}",
        )
    return message
