"""Recording that an address or number must not be contacted, and ending what it affects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from app.db import affected, db
from app.models import Invitation, Person, Suppression
from app.vocabulary import (
    OPEN_STATUSES,
    Channel,
    InvitationStatus,
    SuppressionKind,
    SuppressionReason,
)

_CHANNEL_OF_KIND = {SuppressionKind.EMAIL: Channel.EMAIL, SuppressionKind.PHONE: Channel.SMS}


def is_suppressed(kind: SuppressionKind, value: str | None) -> Suppression | None:
    if not value:
        return None
    return db.session.scalar(
        select(Suppression).where(Suppression.kind == kind, Suppression.value == value)
    )


def suppress(
    kind: SuppressionKind,
    value: str,
    reason: SuppressionReason,
    now: datetime,
    detail: str | None = None,
) -> int:
    """Suppress ``value`` (idempotent: the first reason is kept) and end, at once, every open
    invitation that would reach it on that channel. Returns how many invitations ended."""
    existing = is_suppressed(kind, value)
    if existing is None:
        db.session.add(
            Suppression(kind=kind, value=value, reason=reason, detail=detail, created_at=now)
        )
        db.session.flush()
    column = Person.email if kind == SuppressionKind.EMAIL else Person.phone
    people = select(Person.id).where(column == value).scalar_subquery()
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.person_id.in_(people),
            Invitation.channel == _CHANNEL_OF_KIND[kind],
            Invitation.status.in_(OPEN_STATUSES),
        )
        .values(
            status=InvitationStatus.SUPPRESSED,
            ended_at=now,
            next_action_at=None,
            end_reason=f"{kind.value} suppressed: {reason.value}",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def lift(kind: SuppressionKind, value: str) -> bool:
    """Remove a suppression (an SMS START, an admin's decision). True if there was one."""
    result = db.session.execute(
        delete(Suppression).where(Suppression.kind == kind, Suppression.value == value)
    )
    return bool(affected(result))
