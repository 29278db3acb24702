"""Server-side staff sessions. The cookie (Flask's signed session) holds only a random token;
the ``staff_session`` row it names is the session. Ending the row ends the session for every
copy of the cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.db import db
from app.models import StaffSession, StaffUser

LAST_SEEN_GRANULARITY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    staff: StaffUser, method: str, now: datetime, *, ip: str | None, user_agent: str | None
) -> str:
    """A new session row; the token (for the cookie) is returned and never stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            token_hash=_hash(token),
            staff_user=staff,
            method=method,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.flush()
    return token


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=int(config["STAFF_SESSION_IDLE_MINUTES"])),
        timedelta(hours=int(config["STAFF_SESSION_MAX_HOURS"])),
    )


def live_session(token: str, now: datetime) -> StaffSession | None:
    """The session the token names, if it has not ended, is neither idle too long nor too old,
    and its staff member is active."""
    row = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None or not row.staff_user.is_active:
        return None
    idle, longest = _limits()
    if now - row.last_seen_at > idle or now - row.created_at > longest:
        end(row, "expired", now)
        db.session.commit()
        return None
    if now - row.last_seen_at > LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
        db.session.commit()
    return row


def end(row: StaffSession, reason: str, now: datetime) -> None:
    if row.ended_at is None:
        row.ended_at = now
        row.ended_reason = reason


def end_all(staff: StaffUser, reason: str, now: datetime, *, keep: int | None = None) -> int:
    """End every live session of a staff member (but ``keep``); how many ended."""
    query = update(StaffSession).where(
        StaffSession.staff_user_id == staff.id, StaffSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    result = db.session.execute(query.values(ended_at=now, ended_reason=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(staff: StaffUser) -> list[StaffSession]:
    return list(
        db.session.scalars(
            select(StaffSession)
            .where(StaffSession.staff_user_id == staff.id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.last_seen_at.desc())
        )
    )
