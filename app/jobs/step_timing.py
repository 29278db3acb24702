"""Applying :mod:`app.policy.reminders` in the delivery job, before a step is claimed.

For a batch of invitations due for one step, :func:`hold_back` reads the facts the policy
needs (plain values, one query), asks the policy about each invitation, and writes what it
decided, in the delivery job's transaction:

- **send**: returned, to be claimed and sent now;
- **wait**: ``next_action_at`` moves to when the send window (or the survey) opens;
- **skip**: a ``message`` row for the step with status ``skipped`` and the reason; a skipped
  reminder leaves the invitation waiting for its deadline (no later reminder can fit either),
  a skipped first message ends the invitation unsent (``expired``, ``sent_at`` empty, so it is
  not counted as asked);
- **another channel**: an invitation whose step now goes out on the other channel (escalation
  switched on or off, a number suppressed since the sweep routed it) is left alone; its lease
  runs out and the next sweep routes it again.

Every write is conditional on the invitation still waiting for this step, so it is safe
against answers, cancels and duplicated jobs arriving at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from phonenumbers import NumberParseException
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db, table_of
from app.models import Invitation, Message, Person, Suppression, Survey
from app.policy import lifecycle, reminders
from app.policy.quiet_hours import SendWindow, resolve_zone
from app.services.cadence_rules import rules_for
from app.validation import is_mobile
from app.vocabulary import (
    STEP_FROM,
    Channel,
    InvitationStatus,
    MessageStatus,
    Step,
    SuppressionKind,
)

SKIP_CODE = "no_send_window"


@dataclass(frozen=True, slots=True)
class Quiet:
    """A person's zone and their survey's send window."""

    zone: ZoneInfo
    window: SendWindow
    note: str | None = None


class QuietHours:
    """Send windows of the surveys in one batch, read once per survey."""

    def __init__(self) -> None:
        self._rules: dict[int, Any] = {}

    def of(self, survey_id: int, timezone: str | None) -> Quiet:
        rules = self._rules.get(survey_id)
        if rules is None:
            rules = self._rules[survey_id] = rules_for(survey_id)
        zone, note = resolve_zone(timezone, rules.default_timezone)
        return Quiet(zone, SendWindow.from_rules(rules), note)


def phone_suppressed() -> Any:
    """A column: the person's number is suppressed."""
    return (
        select(Suppression.id)
        .where(Suppression.kind == SuppressionKind.PHONE, Suppression.value == Person.phone)
        .exists()
    )


def escalation(
    enabled: bool, channels: dict[str, Any] | None, phone: str | None, suppressed: bool
) -> reminders.Escalation:
    """The policy's facts from a row's plain values."""
    enabled_channels = list((channels or {}).get("enabled", []))
    return reminders.Escalation(
        enabled=bool(enabled),
        sms_enabled=not enabled_channels or Channel.SMS.value in enabled_channels,
        mobile=_mobile(phone),
        phone_suppressed=bool(suppressed),
    )


def _mobile(phone: str | None) -> bool:
    if not phone:
        return False
    try:
        return is_mobile(phone)
    except NumberParseException:  # a malformed number stored before validation: not textable
        return False


def last_message_at(
    step: Step, sent_at: datetime | None, reminded_1_at: datetime | None
) -> datetime | None:
    """When the message before ``step`` went out."""
    if step == Step.REMINDER_2:
        return reminded_1_at or sent_at
    if step == Step.REMINDER_1:
        return sent_at
    return None


def hold_back(channel: Channel, ids: Sequence[int], step: Step, now: datetime) -> list[int]:
    """The ids whose ``step`` goes out on ``channel`` now; the others wait or are skipped."""
    if not ids:
        return []
    from_status = STEP_FROM[step]
    rows = db.session.execute(
        select(
            Invitation.id,
            Invitation.channel,
            Invitation.survey_id,
            Invitation.scheduled_at,
            Invitation.reminder_1_at,
            Invitation.reminder_2_at,
            Invitation.deadline_at,
            Invitation.sent_at,
            Invitation.reminded_1_at,
            Person.timezone,
            Person.email,
            Person.phone,
            Survey.escalate_to_sms,
            Survey.channels,
            Survey.opens_at,
            phone_suppressed().label("phone_suppressed"),
        )
        .join(Person, Person.id == Invitation.person_id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(Invitation.id.in_(ids), Invitation.status == from_status)
    ).all()
    quiet = QuietHours()
    send: list[int] = []
    waits: list[dict[str, Any]] = []
    skips: list[tuple[Any, str, Channel]] = []
    for row in rows:
        step_channel = reminders.step_channel(
            row.channel,
            step,
            escalation(row.escalate_to_sms, row.channels, row.phone, row.phone_suppressed),
        )
        if step_channel != channel:
            continue
        times = lifecycle.Schedule(
            row.scheduled_at, row.reminder_1_at, row.reminder_2_at, row.deadline_at
        )
        q = quiet.of(row.survey_id, row.timezone)
        decision = reminders.decide(
            step,
            reminders.earliest(
                step, times, last_message_at(step, row.sent_at, row.reminded_1_at), row.opens_at
            ),
            now,
            row.deadline_at,
            q.zone,
            q.window,
            q.note,
        )
        if decision.timing == reminders.Timing.SEND:
            send.append(row.id)
        elif decision.timing == reminders.Timing.WAIT:
            waits.append({"b_id": row.id, "next_action_at": decision.at, "updated_at": now})
        else:
            skips.append((row, decision.reason or "skipped", step_channel))
    if waits:
        table = table_of(Invitation)
        db.session.execute(
            table.update().where(
                and_(table.c.id == bindparam("b_id"), table.c.status == from_status.value)
            ),
            waits,
        )
    if skips:
        _skip(skips, step, now)
    return send


def _skip(skips: Iterable[tuple[Any, str, Channel]], step: Step, now: datetime) -> None:
    from_status = STEP_FROM[step]
    for row, reason, channel in skips:
        recipient = row.phone if channel == Channel.SMS else row.email
        insert_ignoring_duplicates(
            Message,
            {
                "invitation_id": row.id,
                "step": step.value,
                "channel": channel.value,
                "status": MessageStatus.SKIPPED.value,
                "recipient": recipient or "",
                "error_code": SKIP_CODE,
                "error": reason,
                "created_at": now,
                "updated_at": now,
            },
        )
        if step == Step.INITIAL:
            values: dict[str, Any] = {
                "status": InvitationStatus.EXPIRED,
                "ended_at": now,
                "next_action_at": None,
                "end_reason": reason,
            }
        else:
            values = {"next_action_at": row.deadline_at}
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == row.id, Invitation.status == from_status)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )


def insert_ignoring_duplicates(model: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on PostgreSQL and SQLite: a duplicated job that
    reaches the same decision writes nothing twice."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


def quiet_of_invitations(invitations: Iterable[Invitation]) -> dict[int, Quiet]:
    """Each loaded invitation's zone and send window (for the next step's time)."""
    quiet = QuietHours()
    return {inv.id: quiet.of(inv.survey_id, inv.person.timezone) for inv in invitations}


def next_look(
    invitation: Invitation, status: InvitationStatus, now: datetime, q: Quiet
) -> datetime | None:
    """The next ``next_action_at`` of an invitation whose step just went out at ``now``."""
    times = lifecycle.Schedule(
        invitation.scheduled_at,
        invitation.reminder_1_at,
        invitation.reminder_2_at,
        invitation.deadline_at,
    )
    return reminders.next_look(status, times, now, q.zone, q.window)
