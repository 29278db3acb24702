"""The periodic sweep: the database's ``next_action_at`` drives all delayed work.

Redis only carries work the sweep can rebuild (DESIGN.md, decision 1): every run finds what
is due in the database and enqueues it again, so an emptied Redis loses nothing. On
PostgreSQL the due rows are taken with ``FOR UPDATE SKIP LOCKED``, so several sweeps (one per
worker) can run at once without enqueueing the same invitation twice in one pass; a lease
(``next_action_at`` pushed a few minutes ahead) keeps the next sweep from enqueueing it
again while its job is still queued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from app import clock
from app.db import db
from app.jobs.delivery import JOB_FOR_CHANNEL, LEASE, claim_timeout
from app.jobs.queue import enqueue_after_commit
from app.jobs.runtime import job
from app.models import Invitation, Message, Survey
from app.policy import lifecycle
from app.services.clicks import settle_due
from app.vocabulary import Channel, InvitationStatus, MessageStatus, SurveyStatus

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
        "needs_review": mark_stale_claims(now),
        "expired": expire(now),
        "links_opened": open_links(now),
        "enqueued": 0,
    }
    db.session.commit()
    stats["enqueued"] = enqueue_due(now)
    if any(stats.values()):
        log.info("sweep: %s", stats)
    return stats


def mark_stale_claims(now: datetime) -> int:
    """A claim nobody finished within the timeout: the worker died before or after the
    provider call. Do not send again; put it in front of a person."""
    cutoff = now - claim_timeout()
    stale = list(
        db.session.scalars(
            update(Invitation)
            .where(Invitation.status == S.SENDING, Invitation.claimed_at < cutoff)
            .values(
                status=S.NEEDS_REVIEW,
                next_action_at=None,
                updated_at=now,
                end_reason="the worker stopped after claiming this step, before recording "
                "the provider's answer; it may or may not have been sent",
            )
            .returning(Invitation.id)
            .execution_options(synchronize_session=False)
        )
    )
    if stale:
        db.session.execute(
            update(Message)
            .where(Message.invitation_id.in_(stale), Message.status == MessageStatus.CLAIMED)
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
        .where(Invitation.status.in_(lifecycle.WAITING_STATUSES), Invitation.deadline_at <= now)
        .values(
            status=S.EXPIRED,
            ended_at=now,
            next_action_at=None,
            updated_at=now,
            end_reason="deadline passed without an answer",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


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
    return result.rowcount or 0


def enqueue_due(now: datetime) -> int:
    """Enqueue every due step, in batches of ``JOB_BATCH_SIZE`` per channel and step."""
    batch_size = current_app.config["JOB_BATCH_SIZE"]
    active = select(Survey.id).where(Survey.status == SurveyStatus.ACTIVE).scalar_subquery()
    total = 0
    for _ in range(MAX_PASSES):
        due = db.session.execute(
            select(Invitation.id, Invitation.channel, Invitation.status)
            .where(
                Invitation.next_action_at <= now,
                Invitation.status.in_((S.SCHEDULED, S.SENT, S.REMINDED_1)),
                Invitation.channel.in_(tuple(JOB_FOR_CHANNEL)),
                Invitation.deadline_at > now,
                Invitation.survey_id.in_(active),
            )
            .order_by(Invitation.next_action_at)
            .limit(PASS_SIZE)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            db.session.commit()
            break
        groups: dict[tuple[Channel, str], list[int]] = defaultdict(list)
        for inv_id, channel, status in due:
            step = lifecycle.step_after(status)
            if step is not None:
                groups[(channel, step.value)].append(inv_id)
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_([row[0] for row in due]))
            .values(next_action_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        for (channel, step), ids in groups.items():
            for start in range(0, len(ids), batch_size):
                enqueue_after_commit(
                    JOB_FOR_CHANNEL[channel], ids[start : start + batch_size], step
                )
        db.session.commit()
        total += len(due)
        if len(due) < PASS_SIZE:
            break
    return total
