"""The plan preview: when a sample person in a chosen time zone, asked at a chosen moment,
would get the first message, both reminders and the deadline, and which steps would be
skipped and why.

Nothing here plans on its own: the times come from :func:`app.policy.planner.plan` (what
an invitation and a fan-out store) and each step's fate from :mod:`app.policy.reminders` (what
the delivery job decides when the step is due), so the preview says what would happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.models import Survey
from app.policy import lifecycle, reminders
from app.policy.facts import QUIET_HOURS_CHANNELS
from app.policy.planner import plan as plan_invitation
from app.policy.quiet_hours import SendWindow, describe_window, next_send_time, resolve_zone
from app.policy.rules import CadenceRules
from app.services.invitations import reminder_plan
from app.vocabulary import Channel
from channels.base import Step


@dataclass(frozen=True, slots=True)
class PreviewStep:
    label: str
    planned_at: datetime | None
    """Where the reminder plan puts the step (days after the first message)."""
    at: datetime | None
    """When it would go out (None: skipped)."""
    skipped_reason: str | None = None
    moved: bool = False
    """The send window moved it from its planned time."""


@dataclass(frozen=True, slots=True)
class Preview:
    zone: str
    zone_note: str | None
    window: str
    steps: tuple[PreviewStep, ...]
    deadline_at: datetime | None
    closed_reason: str | None = None
    """The survey closes before the first message could go: nothing is sent."""

    @property
    def skipped(self) -> tuple[PreviewStep, ...]:
        return tuple(s for s in self.steps if s.skipped_reason)


def preview(
    survey: Survey, rules: CadenceRules, channel: Channel, timezone: str | None, asked_at: datetime
) -> Preview:
    """The preview for a person in ``timezone`` asked at ``asked_at`` (UTC) on ``channel``."""
    zone, note = resolve_zone(timezone, rules.default_timezone)
    window = SendWindow.from_rules(rules)
    start = max(asked_at, survey.opens_at) if survey.opens_at else asked_at
    first = next_send_time(start, zone, window) if channel in QUIET_HOURS_CHANNELS else start
    described = describe_window(window)
    planned = plan_invitation(
        reminder_plan(survey),
        rules,
        channel,
        first,
        timezone=zone.key,
        closes_at=survey.closes_at,
        now=first,
        lease=timedelta(0),
    )
    if planned is None:
        reason = "The survey closes before the person's first send window: nobody is asked."
        return Preview(zone.key, note, described, (), None, reason)
    times = lifecycle.Schedule(
        planned.send_at, planned.reminder_1_at, planned.reminder_2_at, planned.deadline_at
    )
    plan = lifecycle.schedule(reminder_plan(survey), first, channel)
    steps = [PreviewStep(reminders.STEP_LABEL[Step.INITIAL], start, first, moved=first != start)]
    last_message_at: datetime | None = first
    for step in (Step.REMINDER_1, Step.REMINDER_2):
        planned = lifecycle.planned_time(step, plan)
        if planned is None:
            continue
        not_before = reminders.earliest(step, times, last_message_at, survey.opens_at)
        decision = reminders.decide(
            step, not_before, not_before, times.deadline_at, zone, window, note
        )
        label = reminders.STEP_LABEL[step]
        if decision.timing == reminders.Timing.SKIP:
            steps.append(PreviewStep(label, planned, None, decision.reason))
            continue
        at = decision.at if decision.timing == reminders.Timing.WAIT else not_before
        steps.append(PreviewStep(label, planned, at, moved=at != planned))
        last_message_at = at
    return Preview(zone.key, note, described, tuple(steps), times.deadline_at)
