"""Sending one step (initial, reminder 1, reminder 2) of a batch of invitations.

The order of work is what makes "never send twice" hold (DESIGN.md, decision 2):

1. **Claim** in one transaction: move the invitations that are still waiting for this step
   to ``sending`` and insert one ``message`` row per step (unique per invitation and step).
   A retried or duplicated job finds nothing left to claim and does nothing.
2. **Send** the claimed ones through the channel, outside any transaction.
3. **Record** what the provider said, in one transaction: accepted steps move on; a
   transient error releases the claim with a backoff (nothing went out); a permanent error
   fails the invitation with the provider's reason; an unknown outcome goes to review.

A worker that dies between 1 and 3 leaves invitations in ``sending``; the sweep marks them
``needs_review`` after ``CLAIM_TIMEOUT_SECONDS`` instead of sending again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import joinedload

from app import clock, content
from app.db import db
from app.jobs.runtime import job
from app.models import Invitation, Message, Person, Suppression, Survey
from app.policy import lifecycle
from app.services.suppressions import suppress
from app.vocabulary import (
    Channel,
    InvitationStatus,
    MessageStatus,
    SuppressionKind,
    SuppressionReason,
    SurveyStatus,
)
from channels.base import EmailMessage, Outcome, SendResult, SmsMessage, Step

log = logging.getLogger(__name__)

#: How long the sweep leaves an enqueued step alone before enqueueing it again (lost job).
LEASE = timedelta(minutes=5)

_SENT_COLUMN = {
    Step.INITIAL: "sent_at",
    Step.REMINDER_1: "reminded_1_at",
    Step.REMINDER_2: "reminded_2_at",
}


@job("email")
def deliver_email(invitation_ids: list[int], step: str) -> dict[str, int]:
    return deliver(Channel.EMAIL, invitation_ids, Step(step))


@job("sms")
def deliver_sms(invitation_ids: list[int], step: str) -> dict[str, int]:
    return deliver(Channel.SMS, invitation_ids, Step(step))


JOB_FOR_CHANNEL = {Channel.EMAIL: deliver_email, Channel.SMS: deliver_sms}


def deliver(channel: Channel, invitation_ids: Sequence[int], step: Step) -> dict[str, int]:
    from app.transport import transport

    now = clock.now()
    suppressed = _end_suppressed(channel, invitation_ids, step, now)
    # Shared sending rates (issue 3): what the window does not allow now goes back to the
    # sweep, unclaimed, due when capacity returns.
    from app.jobs.rates import within_rate

    invitation_ids, rate_limited = within_rate(channel, invitation_ids, step, now)
    claimed = claim(channel, invitation_ids, step, now)
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

    outgoing, results = _build(channel, invitations, message_ids, step)
    sender = transport().email if channel == Channel.EMAIL else transport().sms
    for start in range(0, len(outgoing), sender.max_batch):
        results.extend(sender.send(outgoing[start : start + sender.max_batch]))

    invitation_of = {mid: inv_id for inv_id, mid in message_ids.items()}
    outcome_counts = record(results, invitations, invitation_of, step, clock.now())
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
            Invitation.status == lifecycle.STEP_FROM[step],
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
    return result.rowcount or 0


def claim(channel: Channel, ids: Sequence[int], step: Step, now: datetime) -> list[int]:
    """Claim ``step`` for those of ``ids`` still waiting for it; returns the claimed ids."""
    active_surveys = select(Survey.id).where(Survey.status == SurveyStatus.ACTIVE)
    claimed = list(
        db.session.scalars(
            update(Invitation)
            .where(
                Invitation.id.in_(ids),
                Invitation.channel == channel,
                Invitation.status == lifecycle.STEP_FROM[step],
                Invitation.deadline_at > now,
                Invitation.survey_id.in_(active_surveys.scalar_subquery()),
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
        Message.__table__.insert(),
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
    contents: dict[int, object] = {}
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
                )  # type: ignore[arg-type]
            else:
                outgoing.append(content.sms_message(invitation, message_id, step))
        except Exception as exc:
            log.exception("could not build %s message for invitation %s", channel, invitation.id)
            failures.append(
                SendResult(message_id, Outcome.PERMANENT, error_code="build_failed", error=str(exc))
            )
    return outgoing, failures


def record(
    results: Sequence[SendResult],
    invitations: Sequence[Invitation],
    invitation_of: dict[int, int],
    step: Step,
    now: datetime,
) -> dict[str, int]:
    """Write what the provider said. Updates are conditional on the invitation still being in
    ``sending`` for this step, so an answer that arrived meanwhile is never overwritten."""
    by_id = {inv.id: inv for inv in invitations}
    seen = {r.message_id for r in results}
    results = list(results) + [
        SendResult(mid, Outcome.UNKNOWN, error="the channel returned no result for it")
        for mid in invitation_of
        if mid not in seen
    ]
    counts = {o.value: 0 for o in Outcome}
    inv_table = Invitation.__table__
    msg_table = Message.__table__
    still_sending = (
        (inv_table.c.id == bindparam("b_id"))
        & (inv_table.c.status == InvitationStatus.SENDING.value)
        & (inv_table.c.sending_step == step.value)
    )
    invitation_rows: list[dict[str, object]] = []
    message_rows: list[dict[str, object]] = []
    released: list[int] = []
    for result in results:
        inv_id = invitation_of[result.message_id]
        invitation = by_id[inv_id]
        counts[result.outcome.value] += 1
        row: dict[str, object] = {
            "b_id": inv_id,
            "updated_at": now,
            "sending_step": None,
            "claimed_at": None,
            "last_error": None,
        }
        msg: dict[str, object] = {
            "b_mid": result.message_id,
            "updated_at": now,
            "provider_id": result.provider_id,
            "error_code": result.error_code,
            "error": result.error,
            "sent_at": None,
        }
        if result.outcome == Outcome.ACCEPTED:
            status = lifecycle.STEP_TO[step]
            times = _schedule(invitation)
            row.update(
                status=status.value,
                attempts=0,
                ended_at=None,
                end_reason=None,
                next_action_at=lifecycle.next_action_at(status, times, now),
                **{_SENT_COLUMN[step]: now},
            )
            msg.update(status=MessageStatus.ACCEPTED.value, sent_at=now)
        elif result.outcome == Outcome.TRANSIENT:
            attempts = invitation.attempts + 1
            if attempts >= lifecycle.MAX_ATTEMPTS:
                row.update(
                    status=InvitationStatus.FAILED.value,
                    attempts=attempts,
                    ended_at=now,
                    next_action_at=None,
                    end_reason=f"gave up after {attempts} attempts: {result.error}",
                )
                msg.update(status=MessageStatus.FAILED.value)
            else:
                delay = lifecycle.retry_delay(attempts, result.retry_after)
                row.update(
                    status=lifecycle.STEP_FROM[step].value,
                    attempts=attempts,
                    ended_at=None,
                    end_reason=None,
                    next_action_at=now + delay,
                    last_error=result.error,
                )
                released.append(result.message_id)
                invitation_rows.append(row)
                continue
        elif result.outcome == Outcome.PERMANENT:
            row.update(
                status=InvitationStatus.FAILED.value,
                attempts=invitation.attempts,
                ended_at=now,
                next_action_at=None,
                end_reason=f"{result.error_code or 'failed'}: {result.error}",
            )
            msg.update(status=MessageStatus.FAILED.value)
        else:
            row.update(
                status=InvitationStatus.NEEDS_REVIEW.value,
                attempts=invitation.attempts,
                ended_at=None,
                next_action_at=None,
                end_reason=f"the provider did not confirm the {step.value} message; "
                f"it may or may not have gone out ({result.error})",
            )
            msg.update(status=MessageStatus.UNKNOWN.value)
        invitation_rows.append(row)
        message_rows.append(msg)
        if result.suppress:
            _suppress_recipient(invitation, result.suppress, now)

    for group in _uniform_groups(invitation_rows):
        db.session.execute(inv_table.update().where(still_sending), group)
    for group in _uniform_groups(message_rows):
        db.session.execute(msg_table.update().where(msg_table.c.id == bindparam("b_mid")), group)
    if released:
        # Nothing went out: forget the claim's message row so the retry can claim again.
        db.session.execute(delete(Message).where(Message.id.in_(released)))
    return counts


def _uniform_groups(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """executemany needs the same keys in every row; outcomes write different columns."""
    groups: dict[frozenset[str], list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def _schedule(invitation: Invitation) -> lifecycle.Schedule:
    return lifecycle.Schedule(
        invitation.scheduled_at,
        invitation.reminder_1_at,
        invitation.reminder_2_at,
        invitation.deadline_at,
    )


def _suppress_recipient(invitation: Invitation, reason: str, now: datetime) -> None:
    person = invitation.person
    if invitation.channel == Channel.SMS and person.phone:
        suppress(
            SuppressionKind.PHONE,
            person.phone,
            SuppressionReason(reason),
            now,
            detail=f"provider refused invitation {invitation.id}",
        )
    elif invitation.channel == Channel.EMAIL and person.email:
        suppress(
            SuppressionKind.EMAIL,
            person.email,
            SuppressionReason(reason),
            now,
            detail=f"provider refused invitation {invitation.id}",
        )


def claim_timeout() -> timedelta:
    return timedelta(seconds=current_app.config["CLAIM_TIMEOUT_SECONDS"])
