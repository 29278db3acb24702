"""Sending one step (initial, reminder 1, reminder 2) of a batch of invitations.

The order of work is what makes "never send twice" hold (docs/architecture.md, "Decisions", 2):

1. **Claim** in one transaction: first hold back what may not go out now
   (:mod:`app.jobs.step_timing`: quiet hours, the survey's open date, the deadline, the
   step's channel), then move the invitations that are still waiting for this step to
   ``sending`` and insert one ``message`` row per step (unique per invitation and step).
   A retried or duplicated job finds nothing left to claim and does nothing.
2. **Send** the claimed ones through the channel, outside any transaction; those answered,
   canceled or suppressed since the claim are not sent. Right before each provider request
   its messages are marked ``sending`` ("handed to the provider"), committed on a connection
   of its own: a message still ``claimed`` has certainly not gone out.
3. **Record** what the provider said, in one transaction: accepted steps move on (the next
   step's time moved into the person's send window); a transient error releases the claim
   with a backoff (nothing went out); a permanent error fails the invitation with the
   provider's reason; an unknown outcome goes to review.

A worker that dies between 1 and 3 leaves invitations in ``sending``. After
``CLAIM_TIMEOUT_SECONDS`` the sweep releases those whose message was never handed to the
provider (certainly not sent: the step goes out again) and marks the others
``needs_review`` instead of sending again: they may or may not have gone out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import joinedload

from app import clock
from app.db import affected, db, table_of
from app.jobs import step_timing
from app.jobs.handover import drop_ended, hand_over
from app.jobs.outcomes import record
from app.jobs.queue import enqueue_after_commit
from app.jobs.runtime import job
from app.messages import content
from app.models import Invitation, Message, Person, Suppression, Survey
from app.vocabulary import (
    STEP_FROM,
    Channel,
    InvitationStatus,
    MessageStatus,
    Step,
    SuppressionKind,
    SurveyStatus,
)
from channels.base import EmailContent, EmailMessage, Outcome, SendResult, SmsMessage

log = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long an enqueued step is left alone before the sweep enqueues it again (a lost
    job): ``SWEEP_LEASE_SECONDS``, for a new invitation's first step and for the sweep alike."""
    return timedelta(seconds=current_app.config["SWEEP_LEASE_SECONDS"])


@job("email")
def deliver_email(invitation_ids: list[int], step: str) -> dict[str, int]:
    return deliver(Channel.EMAIL, invitation_ids, Step(step))


@job("sms")
def deliver_sms(invitation_ids: list[int], step: str) -> dict[str, int]:
    return deliver(Channel.SMS, invitation_ids, Step(step))


JOB_FOR_CHANNEL = {Channel.EMAIL: deliver_email, Channel.SMS: deliver_sms}


def enqueue_delivery(channel: Channel, step: Step, invitation_ids: Sequence[int]) -> None:
    """The one enqueuer of deliveries (a new invitation, a fan-out, the sweep): ``step`` of
    these invitations on ``channel``, after the commit, ``JOB_BATCH_SIZE`` ids per job.
    Channels without delivery (links, the widget) have nothing to enqueue."""
    if channel not in JOB_FOR_CHANNEL or not invitation_ids:
        return
    size = current_app.config["JOB_BATCH_SIZE"]
    for start in range(0, len(invitation_ids), size):
        batch = list(invitation_ids[start : start + size])
        enqueue_after_commit(JOB_FOR_CHANNEL[channel], batch, step.value)


def deliver(channel: Channel, invitation_ids: Sequence[int], step: Step) -> dict[str, int]:
    from app.transport import transport

    now = clock.now()
    suppressed = _end_suppressed(channel, invitation_ids, step, now)
    ready = step_timing.hold_back(channel, invitation_ids, step, now)
    # Shared sending rates: what the window does not allow now goes back to the sweep,
    # unclaimed, due when capacity returns.
    from app.jobs.rates import within_rate

    ready, rate_limited = within_rate(channel, ready, step, now)
    claimed = claim(channel, ready, step, now)
    db.session.commit()
    stats = {"claimed": len(claimed), "suppressed": suppressed, "rate_limited": rate_limited}
    if not claimed:
        return stats

    invitations = (
        db.session.scalars(
            select(Invitation)
            .where(Invitation.id.in_(claimed))
            .options(
                joinedload(Invitation.person).joinedload(Person.account),
                joinedload(Invitation.survey),
                joinedload(Invitation.sender),
            )
        )
        .unique()
        .all()
    )
    message_ids = dict(
        db.session.execute(
            select(Message.invitation_id, Message.id).where(
                Message.invitation_id.in_(claimed), Message.step == step.value
            )
        ).all()
    )
    invitations, message_ids = drop_ended(invitations, message_ids, step, now)
    stats["ended_before_send"] = len(claimed) - len(invitations)

    outgoing, results = _build(channel, invitations, message_ids, step)
    sender = transport().email if channel == Channel.EMAIL else transport().sms
    # A text is one provider request per message: handing them over one by one keeps a
    # crash from putting more than one in doubt. An email request carries a whole batch.
    size = 1 if channel == Channel.SMS else sender.max_batch
    handed = {r.message_id for r in results}  # could not be built: recorded as failed
    for start in range(0, len(outgoing), size):
        batch = outgoing[start : start + size]
        mine = hand_over([m.message_id for m in batch], clock.now())
        batch = [m for m in batch if m.message_id in mine]  # others released by the sweep
        handed |= mine
        if batch:
            results.extend(sender.send(batch))  # type: ignore[arg-type]  # one channel's kind

    invitation_of = {mid: inv_id for inv_id, mid in message_ids.items() if mid in handed}
    outcome_counts = record(results, invitations, invitation_of, step, clock.now(), channel)
    db.session.commit()
    stats.update(outcome_counts)
    log.info("delivered %s %s: %s", channel.value, step.value, stats)
    return stats


def _end_suppressed(channel: Channel, ids: Sequence[int], step: Step, now: datetime) -> int:
    """Suppressions always win, even over a step that was due before the suppression."""
    kind = SuppressionKind.EMAIL if channel == Channel.EMAIL else SuppressionKind.PHONE
    address = Person.email if channel == Channel.EMAIL else Person.phone
    blocked_people = (
        select(Person.id)
        .join(Suppression, (Suppression.kind == kind) & (Suppression.value == address))
        .scalar_subquery()
    )
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id.in_(ids),
            # An email invitation escalated to SMS is not ended by its number's suppression:
            # its reminder 2 goes by email instead (app.policy.reminders.step_channel).
            Invitation.channel == channel,
            Invitation.status == STEP_FROM[step],
            Invitation.person_id.in_(blocked_people),
        )
        .values(
            status=InvitationStatus.SUPPRESSED,
            ended_at=now,
            next_action_at=None,
            end_reason=f"{kind.value} suppressed",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def claim(channel: Channel, ids: Sequence[int], step: Step, now: datetime) -> list[int]:
    """Claim ``step`` for those of ``ids`` still waiting for it; returns the claimed ids.

    ``ids`` went through :func:`app.jobs.step_timing.hold_back` (the step goes out on
    ``channel`` now); the conditions here are the ones that must hold at the very moment of
    the claim: still waiting for this step, before the deadline, the survey active and open,
    and no message for this step yet (sent, skipped or in review)."""
    open_surveys = select(Survey.id).where(
        Survey.status == SurveyStatus.ACTIVE,
        or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
    )
    channels = [channel]
    if channel == Channel.SMS and step == Step.REMINDER_2:
        channels.append(Channel.EMAIL)  # escalation: reminder 2 of an email invitation
    already = exists().where(Message.invitation_id == Invitation.id, Message.step == step.value)
    claimed = list(
        db.session.scalars(
            update(Invitation)
            .where(
                Invitation.id.in_(ids),
                Invitation.channel.in_(channels),
                Invitation.status == STEP_FROM[step],
                Invitation.deadline_at > now,
                Invitation.survey_id.in_(open_surveys.scalar_subquery()),
                ~already,
            )
            .values(
                status=InvitationStatus.SENDING,
                sending_step=step.value,
                claimed_at=now,
                next_action_at=None,
                updated_at=now,
            )
            .returning(Invitation.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return []
    address = Person.email if channel == Channel.EMAIL else Person.phone
    rows = db.session.execute(
        select(Invitation.id, address)
        .join(Person, Person.id == Invitation.person_id)
        .where(Invitation.id.in_(claimed))
    ).all()
    db.session.execute(
        table_of(Message).insert(),
        [
            {
                "invitation_id": inv_id,
                "step": step.value,
                "channel": channel.value,
                "status": MessageStatus.CLAIMED.value,
                "recipient": recipient or "",
                "created_at": now,
                "updated_at": now,
            }
            for inv_id, recipient in rows
        ],
    )
    return claimed


def _build(
    channel: Channel,
    invitations: Sequence[Invitation],
    message_ids: dict[int, int],
    step: Step,
) -> tuple[list[EmailMessage | SmsMessage], list[SendResult]]:
    """The outgoing messages, and PERMANENT results for those that cannot be built (no
    address left on the person, a template error): recorded, never silently dropped."""
    outgoing: list[EmailMessage | SmsMessage] = []
    failures: list[SendResult] = []
    contents: dict[int, EmailContent] = {}
    for invitation in invitations:
        message_id = message_ids[invitation.id]
        try:
            if channel == Channel.EMAIL:
                if invitation.survey_id not in contents:
                    contents[invitation.survey_id] = content.email_content(invitation, step)
                outgoing.append(
                    content.email_message(
                        invitation, message_id, step, contents[invitation.survey_id]
                    )
                )
            else:
                outgoing.append(content.sms_message(invitation, message_id, step))
        except Exception as exc:
            log.exception("could not build %s message for invitation %s", channel, invitation.id)
            failures.append(
                SendResult(message_id, Outcome.PERMANENT, error_code="build_failed", error=str(exc))
            )
    return outgoing, failures


def claim_timeout() -> timedelta:
    return timedelta(seconds=current_app.config["CLAIM_TIMEOUT_SECONDS"])
