"""Making an invitation: the checks, the schedule, and the first step's job after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import db
from app.errors import AppError, Conflict
from app.jobs.delivery import enqueue_delivery, lease
from app.models import Invitation, Person, StaffUser, Survey
from app.policy import lifecycle
from app.policy.planner import plan
from app.services.cadence import Ask, check_cadence
from app.services.cadence_rules import rules_for
from app.validation import is_mobile
from app.vocabulary import OPEN_STATUSES, Channel, InvitationStatus, Step, SurveyStatus, Trigger

MAX_SCHEDULE_AHEAD = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class InvitationRequest:
    survey: Survey
    person: Person
    channel: Channel
    trigger: Trigger
    sender: StaffUser | None = None
    send_at: datetime | None = None


def lock_person(person_id: int) -> None:
    """Serialize invitations per person (docs/architecture.md, "Decisions", 3): on PostgreSQL
    a row lock held to the end of the transaction; SQLite serializes writers anyway. ``FOR NO
    KEY UPDATE``: it excludes other asks of the person but not rows that merely reference them
    (a stored decision, a response)."""
    db.session.execute(
        select(Person.id).where(Person.id == person_id).with_for_update(key_share=True)
    )


def reminder_plan(survey: Survey) -> lifecycle.ReminderPlan:
    return lifecycle.ReminderPlan(
        survey.reminder_1_days, survey.reminder_2_days, survey.deadline_days
    )


def check_reachable(person: Person, channel: Channel) -> None:
    """An address or number to send to. Suppressions are the cadence engine's first rule
    (``app.services.cadence``), so a suppressed person's refusal is stored and explained."""
    if channel == Channel.EMAIL and not person.email:
        raise AppError(
            "This person has no email address to send to.", field="channel", code="unreachable"
        )
    if channel == Channel.SMS:
        if not person.phone:
            raise AppError(
                "This person has no phone number to text.", field="channel", code="unreachable"
            )
        if not is_mobile(person.phone):
            raise AppError(
                f"{person.phone} is not a mobile number; it cannot receive texts.",
                field="person.phone",
                code="unreachable",
            )


def create_invitation(request: InvitationRequest, now: datetime) -> Invitation:
    survey, person, channel = request.survey, request.person, request.channel
    if survey.status != SurveyStatus.ACTIVE:
        raise Conflict(
            f"Survey {survey.id} is {survey.status.value}; it sends nothing.",
            field="survey_id",
            code="survey_inactive",
        )
    if survey.enabled_channels and channel.value not in survey.enabled_channels:
        raise AppError(
            f"Survey {survey.id} is not set up for {channel.value}; its channels "
            f"are {', '.join(survey.enabled_channels)}.",
            field="channel",
        )
    if channel == Channel.WIDGET:
        raise AppError("Widget surveys are shown by the widget, not sent.", field="channel")
    send_at = max(request.send_at or now, now)
    if send_at - now > MAX_SCHEDULE_AHEAD:
        raise AppError("send_at must be within a year from now.", field="send_at")
    if survey.closes_at is not None and send_at >= survey.closes_at:
        raise Conflict("The survey closes before send_at.", field="send_at", code="survey_closed")
    if survey.opens_at is not None and send_at < survey.opens_at:
        send_at = survey.opens_at

    lock_person(person.id)
    check_reachable(person, channel)
    open_one = db.session.scalar(
        select(Invitation).where(
            Invitation.person_id == person.id,
            Invitation.survey_id == survey.id,
            Invitation.channel == channel,
            Invitation.status.in_(OPEN_STATUSES),
        )
    )
    if open_one is not None:
        raise Conflict(
            f"This person already has an open {channel.value} invitation to this survey "
            f"(id {open_one.id}, {open_one.status.value}).",
            field="person_id",
            code="already_invited",
            extra={"invitation_id": open_one.id},
        )

    # Cadence: every rule, for every trigger; quiet hours move the send. The survey's
    # effective rules are read once, for the decision and the reminders' send window.
    rules = rules_for(survey.id)
    ask = Ask(person.id, survey.id, channel, request.trigger)
    decision = check_cadence(person, ask, send_at, rules)
    if decision.send_at is not None and decision.send_at > send_at:
        send_at = decision.send_at
    planned = plan(
        reminder_plan(survey),
        rules,
        channel,
        send_at,
        timezone=person.timezone,
        closes_at=survey.closes_at,
        now=now,
        lease=lease(),
    )
    if planned is None:
        raise Conflict(
            "The survey closes before the person's next send window.",
            field="send_at",
            code="survey_closed",
        )
    invitation = Invitation(
        survey=survey,
        person=person,
        account_id=person.account_id,
        channel=channel,
        trigger=request.trigger,
        sender=request.sender or (person.account.csm if person.account else None),
        status=planned.status,
        scheduled_at=planned.send_at,
        sent_at=planned.sent_at,
        reminder_1_at=planned.reminder_1_at,
        reminder_2_at=planned.reminder_2_at,
        deadline_at=planned.deadline_at,
        next_action_at=planned.next_action_at,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    db.session.add(invitation)
    db.session.flush()
    if send_at <= now:
        enqueue_delivery(channel, Step.INITIAL, [invitation.id])
    return invitation


def cancel_invitation(invitation: Invitation, now: datetime, reason: str) -> None:
    """Withdraw an open invitation (its reminders stop at once), or settle one in review."""
    if not (invitation.is_open or invitation.status == InvitationStatus.NEEDS_REVIEW):
        raise Conflict(
            f"Invitation {invitation.id} is already {invitation.status.value}.", code="not_open"
        )
    invitation.status = InvitationStatus.CANCELED
    invitation.ended_at = now
    invitation.next_action_at = None
    invitation.end_reason = reason
    invitation.updated_at = now
