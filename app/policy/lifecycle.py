"""The invitation lifecycle as pure decisions: when an invitation is next looked at, its
planned times, the retry backoff. Its words (statuses, steps, status sets) are in
:mod:`app.vocabulary`.

``scheduled -> sending -> sent -> reminded_1 -> reminded_2 -> expired``, and from any open
state ``-> responded | suppressed | canceled | failed``, and ``-> needs_review`` when a worker
died between claiming a step and hearing the provider's answer. Only ``scheduled``, ``sent``,
``reminded_1`` and ``reminded_2`` have a next action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.vocabulary import STEP_FROM, WAITING_STATUSES, Channel, InvitationStatus, Step

# Steps go out on channels that deliver messages; a link is handed over by whoever made it.
MESSAGING_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})

#: Reminders are at least this far apart from the message before them, even when a step was
#: delayed (quiet hours, retries): two messages in one afternoon read as spam.
MIN_GAP = timedelta(hours=20)

#: Transient provider errors are retried this many times before the step fails.
MAX_ATTEMPTS = 6


class PlanError(ValueError):
    """A reminder plan that cannot be: ``field`` names the number, ``problem`` says what is
    wrong with it (``str()``: "reminder_2_days must be after reminder_1_days")."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """Reminder 1 after N days, reminder 2 after M days, deadline after D days; 0 < N < M < D."""

    reminder_1_days: int = 3
    reminder_2_days: int = 7
    deadline_days: int = 10

    def __post_init__(self) -> None:
        if self.reminder_1_days <= 0:
            raise PlanError("reminder_1_days", "must be at least 1")
        if self.reminder_2_days <= self.reminder_1_days:
            raise PlanError("reminder_2_days", "must be after reminder_1_days")
        if self.deadline_days <= self.reminder_2_days:
            raise PlanError("deadline_days", "must be after reminder_2_days")
        if self.deadline_days > 90:
            raise PlanError("deadline_days", "must be 90 or less")


@dataclass(frozen=True, slots=True)
class Schedule:
    send_at: datetime
    reminder_1_at: datetime | None
    reminder_2_at: datetime | None
    deadline_at: datetime


def schedule(plan: ReminderPlan, send_at: datetime, channel: Channel) -> Schedule:
    """The planned times of an invitation sent at ``send_at``. Links and widget displays have
    nobody to remind, so they only have a deadline."""
    deadline = send_at + timedelta(days=plan.deadline_days)
    if channel not in MESSAGING_CHANNELS:
        return Schedule(send_at, None, None, deadline)
    return Schedule(
        send_at,
        send_at + timedelta(days=plan.reminder_1_days),
        send_at + timedelta(days=plan.reminder_2_days),
        deadline,
    )


def planned_time(step: Step, times: Schedule) -> datetime | None:
    return {
        Step.INITIAL: times.send_at,
        Step.REMINDER_1: times.reminder_1_at,
        Step.REMINDER_2: times.reminder_2_at,
    }[step]


def step_after(status: InvitationStatus) -> Step | None:
    """The step a waiting invitation goes through next, if any."""
    for step, from_status in STEP_FROM.items():
        if from_status == status:
            return step
    return None


def next_action_at(
    status: InvitationStatus, times: Schedule, last_message_at: datetime | None = None
) -> datetime | None:
    """When the sweep must next look at an invitation in ``status``: its next step's time
    (kept at least MIN_GAP after the last message), or the deadline; None once closed."""
    if status not in WAITING_STATUSES:
        return None
    step = step_after(status)
    planned = planned_time(step, times) if step else None
    if planned is not None and step != Step.INITIAL and last_message_at is not None:
        planned = max(planned, last_message_at + MIN_GAP)
    if planned is not None and planned < times.deadline_at:
        return planned
    return times.deadline_at


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """Backoff before retrying a step that failed transiently for the ``attempts``-th time:
    1, 2, 4, 8... minutes up to an hour, or longer when the provider asked for it."""
    base = min(60 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=max(base, retry_after or 0))
