"""The periodic sweep: the database's ``next_action_at`` drives all delayed work.

Redis only carries work the sweep can rebuild (docs/architecture.md, "Decisions", 1): every run
finds what is due in the database and enqueues it again, so an emptied Redis loses nothing. On
PostgreSQL the due rows are taken with ``FOR UPDATE SKIP LOCKED`` (of the invitation rows only),
so several sweeps (one per worker) can run at once without enqueueing the same invitation twice
in one pass; a lease (``next_action_at`` pushed ``SWEEP_LEASE_SECONDS`` ahead, in the same
transaction) keeps the next sweep from enqueueing it again while its job is still queued. The
lease is only about efficiency: a job enqueued twice claims nothing the second time, and a job
lost with Redis is enqueued again once its lease runs out.

Each due step is routed to its channel's job by :func:`app.policy.reminders.step_channel`
(reminder 2 of an email invitation may go by SMS); the delivery job checks it again.

Claims left behind by a dead worker (``CLAIM_TIMEOUT_SECONDS``): those never handed to the
provider are released and go out again; the others go to review (``needs_review``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, delete, or_, select, update

from app import clock
from app.db import affected, db
from app.jobs import step_timing
from app.jobs.delivery import JOB_FOR_CHANNEL, claim_timeout, enqueue_delivery, lease
from app.jobs.runtime import job
from app.models import Invitation, Message, Person, Survey
from app.policy import lifecycle, reminders
from app.services.clicks import settle_due
from app.vocabulary import (
    STEP_DUE_STATUSES,
    STEP_FROM,
    WAITING_STATUSES,
    Channel,
    InvitationStatus,
    MessageStatus,
    Step,
    SurveyStatus,
)

log = logging.getLogger(__name__)

S = InvitationStatus
#: Rows taken per pass; a sweep makes passes until nothing more is due (or MAX_PASSES).
PASS_SIZE = 5000
MAX_PASSES = 40


@job("default")
def sweep() -> dict[str, int]:
    now = clock.now()
    stats = {
        # Before expiring: a score clicked just before the deadline still counts.
        "clicks_answered": settle_due(now)["answered"],
        "released": release_unsent_claims(now),
        "needs_review": mark_stale_claims(now),
        "expired": expire(now),
        "links_opened": open_links(now),
        "enqueued": 0,
    }
    db.session.commit()
    stats["enqueued"] = enqueue_due(now)
    stats["staff_emails_requeued"] = _requeue_staff_emails(now)
    if any(stats.values()):
        log.info("sweep: %s", stats)
    return stats


def _requeue_staff_emails(now: datetime) -> int:
    from app.staff.mail import requeue_lost

    found = requeue_lost(now)
    db.session.commit()
    return found


def release_unsent_claims(now: datetime) -> int:
    """Claims nobody finished within the timeout whose message was never handed to the
    provider: certainly not sent, so the step goes out again (counted as a failed attempt,
    so a batch that kills its workers ends in review rather than looping).

    The message row is deleted first: a slow worker that is still alive marks its messages
    "handed over" with a conditional update of the same rows, so exactly one of the two wins
    -- the worker (the claim then goes to review below) or the sweep (the worker then finds
    nothing to hand over and sends nothing)."""
    cutoff = now - claim_timeout()
    stale = (
        select(Invitation.id)
        .where(
            Invitation.status == S.SENDING,
            Invitation.claimed_at < cutoff,
            Invitation.sending_step == Message.step,
            Invitation.attempts + 1 < lifecycle.MAX_ATTEMPTS,
        )
        .scalar_subquery()
    )
    released = list(
        db.session.scalars(
            delete(Message)
            .where(Message.invitation_id.in_(stale), Message.status == MessageStatus.CLAIMED)
            .returning(Message.invitation_id)
            .execution_options(synchronize_session=False)
        )
    )
    if not released:
        return 0
    back_to = case(
        *(
            (Invitation.sending_step == step.value, status.value)
            for step, status in STEP_FROM.items()
        ),
    )
    db.session.execute(
        update(Invitation)
        .where(Invitation.id.in_(released), Invitation.status == S.SENDING)
        .values(
            status=back_to,
            next_action_at=now,
            attempts=Invitation.attempts + 1,
            sending_step=None,
            claimed_at=None,
            last_error="the worker stopped before handing this step to the provider",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return len(released)


def mark_stale_claims(now: datetime) -> int:
    """A claim nobody finished within the timeout, handed to the provider (or stuck too
    often): the worker died before it recorded the provider's answer. Do not send again;
    put it in front of a person."""
    cutoff = now - claim_timeout()
    stale = list(
        db.session.scalars(
            update(Invitation)
            .where(Invitation.status == S.SENDING, Invitation.claimed_at < cutoff)
            .values(
                status=S.NEEDS_REVIEW,
                next_action_at=None,
                updated_at=now,
                end_reason="the worker stopped after handing this step to the provider, "
                "before recording its answer; it may or may not have been sent",
            )
            .returning(Invitation.id)
            .execution_options(synchronize_session=False)
        )
    )
    if stale:
        db.session.execute(
            update(Message)
            .where(
                Message.invitation_id.in_(stale),
                Message.status.in_((MessageStatus.CLAIMED, MessageStatus.SENDING)),
            )
            .values(
                status=MessageStatus.UNKNOWN,
                updated_at=now,
                error="worker stopped before the provider's answer was recorded",
            )
            .execution_options(synchronize_session=False)
        )
    return len(stale)


def expire(now: datetime) -> int:
    """Past the deadline and never answered: a non-response."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.status.in_(WAITING_STATUSES), Invitation.deadline_at <= now)
        .values(
            status=S.EXPIRED,
            ended_at=now,
            next_action_at=None,
            updated_at=now,
            end_reason="deadline passed without an answer",
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def open_links(now: datetime) -> int:
    """A link invitation has nothing to send: at its time it is simply out."""
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.status == S.SCHEDULED,
            Invitation.channel == Channel.LINK,
            Invitation.scheduled_at <= now,
        )
        .values(
            status=S.SENT,
            sent_at=Invitation.scheduled_at,
            next_action_at=Invitation.deadline_at,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def enqueue_due(now: datetime) -> int:
    """Enqueue every due step, in batches of ``JOB_BATCH_SIZE`` per channel and step."""
    total = 0
    for _ in range(MAX_PASSES):
        due = db.session.execute(
            select(
                Invitation.id,
                Invitation.channel,
                Invitation.status,
                Survey.escalate_to_sms,
                Survey.channels,
                Person.phone,
                step_timing.phone_suppressed().label("phone_suppressed"),
            )
            .join(Survey, Survey.id == Invitation.survey_id)
            .join(Person, Person.id == Invitation.person_id)
            .where(
                Invitation.next_action_at <= now,
                Invitation.status.in_(STEP_DUE_STATUSES),
                Invitation.channel.in_(tuple(JOB_FOR_CHANNEL)),
                Invitation.deadline_at > now,
                Survey.status == SurveyStatus.ACTIVE,
                or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
            )
            .order_by(Invitation.next_action_at)
            .limit(PASS_SIZE)
            # Lock the invitation rows only: a sweep must not skip a survey's or a person's
            # invitations because another sweep holds that survey or person row.
            .with_for_update(skip_locked=True, of=Invitation)
        ).all()
        if not due:
            db.session.commit()
            break
        groups: dict[tuple[Channel, Step], list[int]] = defaultdict(list)
        for row in due:
            step = lifecycle.step_after(row.status)
            if step is None:
                continue
            channel = reminders.step_channel(
                row.channel,
                step,
                step_timing.escalation(
                    row.escalate_to_sms, row.channels, row.phone, row.phone_suppressed
                )
                if step == Step.REMINDER_2
                else reminders.Escalation(),
            )
            groups[(channel, step)].append(row.id)
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_([row.id for row in due]))
            .values(next_action_at=now + lease())
            .execution_options(synchronize_session=False)
        )
        for (channel, step), ids in groups.items():
            enqueue_delivery(channel, step, ids)
        db.session.commit()
        total += len(due)
        if len(due) < PASS_SIZE:
            break
    return total
