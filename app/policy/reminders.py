"""When a step of an invitation may go out, and on which channel, as pure decisions.

A step (the first message, reminder 1, reminder 2) is planned by
:func:`app.policy.lifecycle.schedule`; this module decides what to do with it when it is due:

- **quiet hours**: a step goes out only inside the person's local send window (the survey's
  cadence rules); outside it, it waits for the window to open;
- **the survey's open date**: nothing goes out before the survey opens;
- **the deadline**: a step that cannot go out before the deadline (or the survey's close,
  which pulls the deadline in) is skipped, with a reason a person can read;
- **escalation**: with the survey's setting on, reminder 2 of an email invitation goes by SMS
  when the person has a mobile number that is not suppressed and the survey has the sms
  channel. "The email went unanswered" is the invitation still waiting for reminder 2.

Everything here takes plain values and returns plain values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.policy import lifecycle
from app.policy.quiet_hours import SendWindow, describe_window, next_send_time
from app.policy.wording import local_moment
from app.vocabulary import Channel, InvitationStatus, Step

STEP_LABEL = {
    Step.INITIAL: "The first message",
    Step.REMINDER_1: "Reminder 1",
    Step.REMINDER_2: "Reminder 2",
}


class Timing(enum.StrEnum):
    SEND = "send"
    """Send now."""
    WAIT = "wait"
    """Not yet: look again at ``at`` (the send window opens, the survey opens)."""
    SKIP = "skip"
    """Never: no send window before the deadline; ``reason`` says so."""


@dataclass(frozen=True, slots=True)
class StepDecision:
    timing: Timing
    at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Escalation:
    """What decides whether reminder 2 of an email invitation goes by SMS."""

    enabled: bool = False
    """The survey's ``escalate_to_sms`` setting."""
    sms_enabled: bool = False
    """The survey has the sms channel."""
    mobile: bool = False
    """The person has a phone number that can receive texts."""
    phone_suppressed: bool = False
    """The number is suppressed (STOP, undeliverable...): suppressions always win."""


def step_channel(invitation_channel: Channel, step: Step, escalation: Escalation) -> Channel:
    """The channel ``step`` of an invitation on ``invitation_channel`` goes out on."""
    if (
        step == Step.REMINDER_2
        and invitation_channel == Channel.EMAIL
        and escalation.enabled
        and escalation.sms_enabled
        and escalation.mobile
        and not escalation.phone_suppressed
    ):
        return Channel.SMS
    return invitation_channel


def earliest(
    step: Step,
    times: lifecycle.Schedule,
    last_message_at: datetime | None,
    opens_at: datetime | None = None,
) -> datetime:
    """The earliest a step may go out, quiet hours aside: its planned time, at least
    :data:`~app.policy.lifecycle.MIN_GAP` after the message before it, not before the survey
    opens."""
    planned = lifecycle.planned_time(step, times)
    when = planned if planned is not None else times.deadline_at
    if step != Step.INITIAL and last_message_at is not None:
        when = max(when, last_message_at + lifecycle.MIN_GAP)
    if opens_at is not None:
        when = max(when, opens_at)
    return when


def decide(
    step: Step,
    not_before: datetime,
    now: datetime,
    deadline_at: datetime,
    zone: ZoneInfo,
    window: SendWindow,
    zone_note: str | None = None,
) -> StepDecision:
    """Send ``step`` now, wait, or skip it: the first instant at or after ``not_before`` (and
    ``now``) inside the send window must come before the deadline."""
    start = max(not_before, now)
    at = next_send_time(start, zone, window) if start < deadline_at else start
    if at >= deadline_at:
        return StepDecision(
            Timing.SKIP, reason=skip_reason(step, start, deadline_at, zone, window, zone_note)
        )
    if at <= now:
        return StepDecision(Timing.SEND)
    return StepDecision(Timing.WAIT, at=at)


def skip_reason(
    step: Step,
    start: datetime,
    deadline_at: datetime,
    zone: ZoneInfo,
    window: SendWindow,
    zone_note: str | None = None,
) -> str:
    label = STEP_LABEL.get(step, step.value)
    if start >= deadline_at:
        text = (
            f"{label} was not sent: it was due {local_moment(start.astimezone(zone), start)} "
            f"({zone.key}), at or after the deadline, "
            f"{local_moment(deadline_at.astimezone(zone), start)}."
        )
    else:
        text = (
            f"{label} was not sent: the send window ({describe_window(window)}, {zone.key}) "
            f"does not open between {local_moment(start.astimezone(zone), start)} and the "
            f"deadline, {local_moment(deadline_at.astimezone(zone), start)}."
        )
    return f"{text} {zone_note}" if zone_note else text


def next_look(
    status: InvitationStatus,
    times: lifecycle.Schedule,
    last_message_at: datetime | None,
    zone: ZoneInfo,
    window: SendWindow,
) -> datetime | None:
    """``next_action_at`` with quiet hours: the next step's time moved into the send window.

    When the window has no room for it before the deadline, the step's own time: the step is
    then skipped, and the skip recorded, when it is due (never silently dropped). The deadline
    when no step is left; None once the invitation is closed."""
    when = lifecycle.next_action_at(status, times, last_message_at)
    if when is None or when >= times.deadline_at:
        return when
    moved = next_send_time(when, zone, window)
    return moved if moved < times.deadline_at else when
