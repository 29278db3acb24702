"""Recording what the provider said about each message of a claimed step (step 3 of
:mod:`app.jobs.delivery`): accepted steps move on, transient errors release the claim with a
backoff, permanent errors fail the invitation with the provider's reason, unknown outcomes go
to review, and a refused address is suppressed afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete

from app.db import db, table_of
from app.jobs import step_timing
from app.models import Invitation, Message
from app.policy import lifecycle
from app.services.suppressions import suppress
from app.vocabulary import (
    STEP_FROM,
    STEP_TO,
    Channel,
    InvitationStatus,
    MessageStatus,
    Step,
    SuppressionKind,
    SuppressionReason,
)
from channels.base import Outcome, SendResult

_SENT_COLUMN = {
    Step.INITIAL: "sent_at",
    Step.REMINDER_1: "reminded_1_at",
    Step.REMINDER_2: "reminded_2_at",
}


def record(
    results: Sequence[SendResult],
    invitations: Sequence[Invitation],
    invitation_of: dict[int, int],
    step: Step,
    now: datetime,
    channel: Channel | None = None,
) -> dict[str, int]:
    """Write what the provider said. Updates are conditional on the invitation still being in
    ``sending`` for this step, so an answer that arrived meanwhile is never overwritten; or
    in ``needs_review`` for this step because the sweep gave up waiting: the provider's late
    answer settles the review."""
    by_id = {inv.id: inv for inv in invitations}
    quiet = step_timing.quiet_of_invitations(invitations)
    seen = {r.message_id for r in results}
    results = list(results) + [
        SendResult(mid, Outcome.UNKNOWN, error="the channel returned no result for it")
        for mid in invitation_of
        if mid not in seen
    ]
    counts = {o.value: 0 for o in Outcome}
    inv_table = table_of(Invitation)
    msg_table = table_of(Message)
    still_sending = (
        (inv_table.c.id == bindparam("b_id"))
        & (
            (inv_table.c.status == InvitationStatus.SENDING.value)
            | (inv_table.c.status == InvitationStatus.NEEDS_REVIEW.value)
        )
        & (inv_table.c.sending_step == step.value)
    )
    invitation_rows: list[dict[str, object]] = []
    message_rows: list[dict[str, object]] = []
    released: list[int] = []
    refused: list[tuple[Invitation, str]] = []
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
            status = STEP_TO[step]
            row.update(
                status=status.value,
                attempts=0,
                ended_at=None,
                end_reason=None,
                next_action_at=step_timing.next_look(invitation, status, now, quiet[inv_id]),
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
                    status=STEP_FROM[step].value,
                    attempts=attempts,
                    ended_at=None,
                    end_reason=None,
                    next_action_at=now + delay,
                    last_error=result.error,
                )
                released.append(result.message_id)
                invitation_rows.append(row)
                continue
        elif result.outcome == Outcome.PERMANENT and channel not in (None, invitation.channel):
            # An escalated reminder 2 the provider refused: the invitation itself is fine (its
            # email and link still work); it waits for its deadline without that reminder.
            row.update(
                status=STEP_FROM[step].value,
                attempts=invitation.attempts,
                ended_at=None,
                next_action_at=invitation.deadline_at,
                last_error=f"{step.value} by {channel}: {result.error_code or 'failed'}: "
                f"{result.error}",
            )
            msg.update(status=MessageStatus.FAILED.value)
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
            refused.append((invitation, result.suppress))

    for group in _uniform_groups(invitation_rows):
        db.session.execute(inv_table.update().where(still_sending), group)
    # Not over a provider's status callback that overtook this job (a batch of texts takes
    # a while): it already said more than the send's answer.
    # (No IN here: executemany cannot expand one.)
    unreported = (msg_table.c.id == bindparam("b_mid")) & (
        (msg_table.c.status == MessageStatus.CLAIMED.value)
        | (msg_table.c.status == MessageStatus.SENDING.value)
        | (msg_table.c.status == MessageStatus.UNKNOWN.value)
    )
    for group in _uniform_groups(message_rows):
        db.session.execute(msg_table.update().where(unreported), group)
    if released:
        # Nothing went out: forget the claim's message row so the retry can claim again.
        db.session.execute(delete(Message).where(Message.id.in_(released)))
    # After the outcomes: the refused invitation keeps the provider's reason (failed); the
    # suppression ends the address's other open invitations.
    for invitation, reason in refused:
        _suppress_recipient(invitation, channel or invitation.channel, reason, now)
    return counts


def _uniform_groups(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """executemany needs the same keys in every row; outcomes write different columns."""
    groups: dict[frozenset[str], list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def _suppress_recipient(
    invitation: Invitation, channel: Channel, reason: str, now: datetime
) -> None:
    """The provider refused the address the step went to (the step's channel: an escalated
    reminder 2 went to the phone of an email invitation)."""
    person = invitation.person
    if channel == Channel.SMS and person.phone:
        suppress(
            SuppressionKind.PHONE,
            person.phone,
            SuppressionReason(reason),
            now,
            detail=f"provider refused invitation {invitation.id}",
        )
    elif channel == Channel.EMAIL and person.email:
        suppress(
            SuppressionKind.EMAIL,
            person.email,
            SuppressionReason(reason),
            now,
            detail=f"provider refused invitation {invitation.id}",
        )
