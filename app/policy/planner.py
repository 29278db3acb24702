"""The plan of a new invitation: its first status, its send, reminder and deadline times and
when the sweep first looks at it. Pure; used by single invitations
(:func:`app.services.invitations.create_invitation`) and by the fan-out
(:mod:`app.services.fanout`), so both plan an invitation the same way.

- The send time comes in already decided (the cadence engine's ``send_at``, inside the
  person's send window for email and SMS).
- Reminders 1 and 2 follow the survey's reminder plan, each moved into the person's next send
  window and kept :data:`~app.policy.lifecycle.MIN_GAP` after the message before it; one that
  would land past the deadline keeps its planned time (the delivery job skips it then, with
  its reason).
- The deadline is the end of the local day ``deadline_days`` after the send, never after the
  survey closes. A survey that closes before the send gets no plan (``None``).
- A link due now is out at once (``sent``, looked at again at its deadline); a message due
  now is leased (``next_action_at = now + lease``) while its first delivery job is queued.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.policy.deadlines import end_of_local_day
from app.policy.lifecycle import MIN_GAP, ReminderPlan, Schedule, schedule
from app.policy.quiet_hours import SendWindow, next_send_time, resolve_zone
from app.policy.rules import CadenceRules
from app.vocabulary import Channel, InvitationStatus

__all__ = ["Plan", "plan", "reminders_in_window"]


@dataclass(frozen=True, slots=True)
class Plan:
    """A new invitation's stored times and first status."""

    status: InvitationStatus
    send_at: datetime
    sent_at: datetime | None
    reminder_1_at: datetime | None
    reminder_2_at: datetime | None
    deadline_at: datetime
    next_action_at: datetime


def reminders_in_window(times: Schedule, timezone: str | None, rules: CadenceRules) -> Schedule:
    """Reminders are sends too: each moves to the person's next send window (it stays
    planned; one that would land past the deadline is simply not sent)."""
    zone, _ = resolve_zone(timezone, rules.default_timezone)
    window = SendWindow.from_rules(rules)

    def moved(planned: datetime, after: datetime | None) -> datetime:
        later = max(planned, after + MIN_GAP) if after is not None else planned
        in_window = next_send_time(later, zone, window)
        # Past the deadline it could not go anyway: keep the plan, and the delivery job skips
        # the reminder then with its reason (app.jobs.step_timing), so the skip is recorded.
        return in_window if in_window < times.deadline_at else planned

    first = times.reminder_1_at
    second = times.reminder_2_at
    if first is not None:
        first = moved(first, None)
    if second is not None:
        second = moved(second, first)
    return dataclasses.replace(times, reminder_1_at=first, reminder_2_at=second)


def plan(
    reminders: ReminderPlan,
    rules: CadenceRules,
    channel: Channel,
    send_at: datetime,
    *,
    timezone: str | None,
    closes_at: datetime | None,
    now: datetime,
    lease: timedelta,
) -> Plan | None:
    """The plan of an invitation on ``channel`` whose first step goes out at ``send_at``, for
    a person in ``timezone``; ``None`` when the survey closes at or before ``send_at``."""
    if closes_at is not None and send_at >= closes_at:
        return None
    times = reminders_in_window(schedule(reminders, send_at, channel), timezone, rules)
    deadline = end_of_local_day(times.deadline_at, timezone)
    if closes_at is not None:
        deadline = min(deadline, closes_at)
    due = send_at <= now
    if channel == Channel.LINK:
        status = InvitationStatus.SENT if due else InvitationStatus.SCHEDULED
        next_action_at = deadline if due else send_at
    else:
        status = InvitationStatus.SCHEDULED
        next_action_at = now + lease if due else send_at
    return Plan(
        status=status,
        send_at=send_at,
        sent_at=send_at if status == InvitationStatus.SENT else None,
        reminder_1_at=times.reminder_1_at,
        reminder_2_at=times.reminder_2_at,
        deadline_at=deadline,
        next_action_at=next_action_at,
    )
