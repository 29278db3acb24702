"""JSON shapes of the API's resources. Field names are a contract with clients."""

from __future__ import annotations

from typing import Any

from app.messages import links
from app.models import Account, Invitation, Message, Person, Response, StaffUser, Survey
from app.policy.wording import iso


def account_json(account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "id": account.id,
        "external_id": account.external_id,
        "name": account.name,
        "csm": staff_json(account.csm) if account.csm else None,
    }


def staff_json(staff: StaffUser) -> dict[str, Any]:
    return {
        "id": staff.id,
        "email": staff.email,
        "name": staff.name,
        "role": staff.role.value,
        "sender_name": staff.sender_name,
        "sender_email": staff.sender_email,
    }


def person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "external_id": person.external_id,
        "email": person.email,
        "phone": person.phone,
        "name": person.name,
        "role": person.role.value if person.role else None,
        "account": account_json(person.account),
        "timezone": person.timezone,
        "locale": person.locale,
        "properties": person.properties or {},
        "signed_up_at": iso(person.signed_up_at),
        "created_at": iso(person.created_at),
        "updated_at": iso(person.updated_at),
    }


def survey_json(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "name": survey.name,
        "question": survey.question,
        "follow_up_question": survey.follow_up_question,
        "follow_up_promoter": survey.follow_up_promoter,
        "follow_up_passive": survey.follow_up_passive,
        "follow_up_detractor": survey.follow_up_detractor,
        "channels": survey.enabled_channels,
        "reminder_1_days": survey.reminder_1_days,
        "reminder_2_days": survey.reminder_2_days,
        "deadline_days": survey.deadline_days,
        "escalate_to_sms": survey.escalate_to_sms,
        "status": survey.status.value,
        "opens_at": iso(survey.opens_at),
        "closes_at": iso(survey.closes_at),
        "created_at": iso(survey.created_at),
    }


def invitation_json(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "survey_id": invitation.survey_id,
        "person_id": invitation.person_id,
        "channel": invitation.channel.value,
        "status": invitation.status.value,
        "trigger": invitation.trigger.value,
        "sender": staff_json(invitation.sender) if invitation.sender else None,
        "send_at": iso(invitation.scheduled_at),
        "sent_at": iso(invitation.sent_at),
        "reminder_1_at": iso(invitation.reminder_1_at),
        "reminder_2_at": iso(invitation.reminder_2_at),
        "reminded_1_at": iso(invitation.reminded_1_at),
        "reminded_2_at": iso(invitation.reminded_2_at),
        "deadline_at": iso(invitation.deadline_at),
        "responded_at": iso(invitation.responded_at),
        "ended_at": iso(invitation.ended_at),
        "end_reason": invitation.end_reason,
        "link": links.survey_url(invitation.id, invitation.deadline_at),
        "created_at": iso(invitation.created_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    """One step of an invitation: sent, delivered, failed, in doubt, or skipped and why."""
    return {
        "id": message.id,
        "step": message.step,
        "channel": message.channel.value,
        "status": message.status.value,
        "recipient": message.recipient,
        "sent_at": iso(message.sent_at),
        "reason_code": message.error_code,
        "reason": message.error,
        "created_at": iso(message.created_at),
    }


def response_json(response: Response) -> dict[str, Any]:
    person = response.person
    return {
        "id": response.id,
        "invitation_id": response.invitation_id,
        "survey_id": response.survey_id,
        "person": {
            "id": person.id,
            "external_id": person.external_id,
            "email": person.email,
            "name": person.name,
        },
        "score": response.score,
        "category": response.category.value,
        "comment": response.comment,
        "role": response.role.value if response.role else None,
        "account": (
            {
                "id": response.account.id,
                "external_id": response.account.external_id,
                "name": response.account.name,
            }
            if response.account
            else None
        ),
        "channel": response.channel.value,
        "answered_at": iso(response.answered_at),
        "updated_at": iso(response.updated_at),
    }
