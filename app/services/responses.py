"""Recording an answer: committed before the HTTP answer (docs/architecture.md, "Decisions", 4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.db import affected, db
from app.errors import AppError, Conflict
from app.models import Invitation, Response
from app.policy.nps import MAX_SCORE, MIN_SCORE, category
from app.vocabulary import ANSWERABLE, OPEN_STATUSES, Channel, InvitationStatus, Role, SurveyStatus


class SurveyClosed(Conflict):
    code = "survey_closed"


def is_answerable(invitation: Invitation, now: datetime) -> bool:
    """Open for an answer: before its deadline and before the survey closes (an answer given
    earlier cannot be changed after the close either). An archived survey takes no answers; a
    paused one still does (pausing holds sending, not the people who already have a link)."""
    closes_at = invitation.survey.closes_at
    return (
        invitation.status in ANSWERABLE
        and now < invitation.deadline_at
        and (closes_at is None or now < closes_at)
        and invitation.survey.status != SurveyStatus.ARCHIVED
    )


def lock_invitation(invitation_id: int) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    )


def record_response(
    invitation: Invitation,
    *,
    score: int,
    comment: str | None,
    role: Role | None,
    now: datetime,
    channel: Channel | None = None,
) -> Response:
    """Record (or, before the deadline, update) the answer to ``invitation``. It ends the
    invitation's reminders at once. The caller commits."""
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise AppError("score must be a whole number from 0 to 10", field="score")
    if not is_answerable(invitation, now):
        raise SurveyClosed("This survey has closed; the answer was not recorded.")
    person = invitation.person
    if role is not None and person.role is None:
        person.role = role
        person.updated_at = now
    response = db.session.scalar(select(Response).where(Response.invitation_id == invitation.id))
    if response is None:
        response = Response(
            invitation_id=invitation.id,
            survey_id=invitation.survey_id,
            person_id=person.id,
            answered_at=now,
        )
        db.session.add(response)
    response.score = score
    response.category = category(score)
    if comment is not None:
        response.comment = comment.strip() or None
    # The role the person is known to have wins; a posted role only fills in an unknown one.
    response.role = person.role or role
    response.account_id = person.account_id
    response.channel = channel or invitation.channel
    response.updated_at = now
    if invitation.status != InvitationStatus.RESPONDED:
        invitation.status = InvitationStatus.RESPONDED
        invitation.responded_at = now
        invitation.next_action_at = None
        invitation.ended_at = now
        invitation.end_reason = None
        invitation.updated_at = now
        end_other_invitations(invitation, now)
    db.session.flush()
    return response


def end_other_invitations(answered: Invitation, now: datetime) -> int:
    """An answer on one channel ends the person's other open invitations to the same survey
    (and so their reminders) at once."""
    return end_open_invitations(
        answered.person_id,
        answered.survey_id,
        now,
        reason=f"answered through invitation {answered.id} ({answered.channel.value})",
        except_id=answered.id,
    )


def end_open_invitations(
    person_id: int, survey_id: int, now: datetime, *, reason: str, except_id: int | None = None
) -> int:
    """End (``canceled``, with ``reason``) the person's open invitations to a survey, but
    ``except_id``: an answer anywhere stops every reminder at once."""
    conditions = [
        Invitation.person_id == person_id,
        Invitation.survey_id == survey_id,
        Invitation.status.in_(OPEN_STATUSES),
    ]
    if except_id is not None:
        conditions.append(Invitation.id != except_id)
    result = db.session.execute(
        update(Invitation)
        .where(*conditions)
        .values(
            status=InvitationStatus.CANCELED,
            ended_at=now,
            next_action_at=None,
            updated_at=now,
            end_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)
