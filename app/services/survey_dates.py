"""A survey's open and close dates, applied to its invitations.

Before a survey opens nothing is sent (the sweep and the delivery job check ``opens_at``);
when it closes no invitation is made (:func:`app.services.invitations.create_invitation`)
and the open ones end at the earlier of their own deadline and the close. Changing the dates
of a survey that already has invitations applies them here, in one statement each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, update

from app.db import affected, db
from app.models import Invitation
from app.vocabulary import CLOSE_AFFECTED, InvitationStatus


def pull_in_deadlines(survey_id: int, closes_at: datetime, now: datetime) -> int:
    """Open invitations of the survey end at its close when that comes before their deadline:
    their links close then, reminders after it are not sent, and the sweep expires them at
    the close. Deadlines are never pushed out (links already sent carry theirs)."""
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.survey_id == survey_id,
            Invitation.status.in_(CLOSE_AFFECTED),
            Invitation.deadline_at > closes_at,
        )
        .values(
            deadline_at=closes_at,
            next_action_at=case(
                (Invitation.next_action_at > closes_at, closes_at),
                else_=Invitation.next_action_at,
            ),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def hold_until_open(survey_id: int, opens_at: datetime, now: datetime) -> int:
    """Invitations not sent yet wait for the survey to open (the sweep would skip them
    anyway; this keeps it from looking at them on every pass)."""
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.survey_id == survey_id,
            Invitation.status == InvitationStatus.SCHEDULED,
            Invitation.next_action_at < opens_at,
        )
        .values(next_action_at=opens_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected(result)
