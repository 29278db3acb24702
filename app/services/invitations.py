"""Making an invitation: the checks, the schedule, and the first step's job after commit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import db
from app.errors import AppError, Conflict
from app.jobs.delivery import JOB_FOR_CHANNEL, LEASE
from app.jobs.queue import enqueue_after_commit
from app.models import OPEN_STATUSES, Invitation, Person, StaffUser, Survey
from app.policy import lifecycle
from app.policy.deadlines import end_of_local_day
from app.policy.rules import CadenceRules
from app.services.cadence import Ask, check_cadence, reminders_in_window
from app.services.cadence_rules import rules_for
from app.validation import is_mobile
from app.vocabulary import Channel, InvitationStatus, SurveyStatus, Trigger

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
    """Serialize invitations per person (DESIGN.md, decision 3): on PostgreSQL a row lock
    held to the end of the transaction; SQLite serializes writers anyway. ``FOR NO KEY
    UPDATE``: it excludes other asks of the person but not rows that merely reference them
    (a stored decision, a response)."""
    db.session.execute(
        select(Person.id).where(Person.id == person_id).with_for_update(key_share=True)
    )


def reminder_plan(survey: Survey) -> lifecycle.ReminderPlan:
    return lifecycle.ReminderPlan(
        survey.reminder_1_days, survey.reminder_2_days, survey.deadline_days
    )


def invitation_times(
    survey: Survey, send_at: datetime, channel: Channel, timezone: str | None, rules: CadenceRules
) -> lifecycle.Schedule:
    """The planned times of an invitation first sent at ``send_at`` to a person in
    ``timezone``: reminders moved into the send window, the deadline at the end of the
    person's local day and never after the survey closes. Invitations, fan-outs and the
    workspace's plan preview all plan with this."""
    times = lifecycle.schedule(reminder_plan(survey), send_at, channel)
    if channel in lifecycle.MESSAGING_CHANNELS:
        times = reminders_in_window(times, timezone, rules)
    deadline = end_of_local_day(times.deadline_at, timezone)
    if survey.closes_at is not None:
        deadline = min(deadline, survey.closes_at)
    return dataclasses.replace(times, deadline_at=deadline)


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

    # Cadence (issue 3): every rule, for every trigger; quiet hours move the send.
    decision = check_cadence(person, Ask(person.id, survey.id, channel, request.trigger), send_at)
    if decision.send_at is not None and decision.send_at > send_at:
        send_at = decision.send_at
        if survey.closes_at is not None and send_at >= survey.closes_at:
            raise Conflict(
                "The survey closes before the person's next send window.",
                field="send_at",
                code="survey_closed",
            )

    times = invitation_times(survey, send_at, channel, person.timezone, rules_for(survey.id))
    deadline = times.deadline_at
    sender = request.sender or (person.account.csm if person.account else None)
    due_now = send_at <= now
    is_link = channel == Channel.LINK
    invitation = Invitation(
        survey=survey,
        person=person,
        account_id=person.account_id,
        channel=channel,
        trigger=request.trigger,
        sender=sender,
        status=InvitationStatus.SENT if (is_link and due_now) else InvitationStatus.SCHEDULED,
        scheduled_at=send_at,
        sent_at=send_at if (is_link and due_now) else None,
        reminder_1_at=times.reminder_1_at,
        reminder_2_at=times.reminder_2_at,
        deadline_at=deadline,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    if is_link:
        invitation.next_action_at = deadline if due_now else send_at
    else:
        invitation.next_action_at = now + LEASE if due_now else send_at
    db.session.add(invitation)
    db.session.flush()
    if due_now and not is_link:
        enqueue_after_commit(
            JOB_FOR_CHANNEL[channel], [invitation.id], lifecycle.Step.INITIAL.value
        )
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
