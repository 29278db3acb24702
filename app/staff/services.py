"""Staff accounts: create, invite, set and check passwords, single-use links, roles,
deactivation. Plain functions over the database; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.access import keys, sessions
from app.access.passwords import hash_password, verify_password
from app.audit.services import Actor, record
from app.db import db
from app.errors import AppError, Conflict
from app.models import StaffToken, StaffUser
from app.validation import normalize_email
from app.vocabulary import StaffRole

#: How long each kind of single-use link is good for.
TOKEN_LIFETIMES: dict[str, timedelta] = {
    "sign_in": timedelta(minutes=15),
    "reset": timedelta(hours=1),
    "invite": timedelta(hours=72),
}


def staff_json_view(staff: StaffUser) -> dict[str, object]:
    """What the audit log keeps of a staff member (never the password hash)."""
    return {
        "email": staff.email,
        "name": staff.name,
        "role": staff.role.value,
        "active": staff.is_active,
    }


def find_by_email(email: str) -> StaffUser | None:
    try:
        normalized = normalize_email(email)
    except ValueError:
        return None
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalized))


def create_staff(
    email: str,
    name: str,
    role: StaffRole,
    now: datetime,
    *,
    password: str | None = None,
    actor: Actor | None = None,
) -> StaffUser:
    try:
        email = normalize_email(email)
    except ValueError as exc:
        raise AppError(str(exc), field="email") from exc
    if not name.strip():
        raise AppError("Give the staff member's name.", field="name")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise Conflict(f"A staff member with email {email} already exists.", field="email")
    staff = StaffUser(email=email, name=name.strip(), role=role, created_at=now)
    if password is not None:
        staff.password_hash = hash_password(password)
        staff.password_changed_at = now
    db.session.add(staff)
    db.session.flush()
    record("staff.created", "staff", staff.id, after=staff_json_view(staff), actor=actor)
    return staff


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(staff: StaffUser, purpose: str, now: datetime) -> str:
    """A single-use link token (returned once; only its hash is kept). Issuing a new one
    retires the staff member's unused links of the same purpose."""
    db.session.execute(
        update(StaffToken)
        .where(
            StaffToken.staff_user_id == staff.id,
            StaffToken.purpose == purpose,
            StaffToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffToken(
            token_hash=_hash(token),
            staff_user=staff,
            purpose=purpose,
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[purpose],
        )
    )
    db.session.flush()
    return token


def peek_token(token: str, purpose: str, now: datetime) -> StaffToken | None:
    """The live token (unused, unexpired, its staff member active), without using it."""
    row = db.session.scalar(select(StaffToken).where(StaffToken.token_hash == _hash(token)))
    if (
        row is None
        or row.purpose != purpose
        or row.used_at is not None
        or row.expires_at <= now
        or not row.staff_user.is_active
    ):
        return None
    return row


def use_token(token: str, purpose: str, now: datetime) -> StaffUser | None:
    """Use a single-use token: at most one caller ever gets the staff member back (the row
    is claimed with a conditional UPDATE)."""
    row = peek_token(token, purpose, now)
    if row is None:
        return None
    claimed = db.session.execute(
        update(StaffToken)
        .where(StaffToken.id == row.id, StaffToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return row.staff_user


def check_password(email: str, password: str) -> StaffUser | None:
    """The active staff member with this email and password, else None. An unknown email
    costs the same argon2 check as a wrong password."""
    staff = find_by_email(email)
    stored = staff.password_hash if staff is not None and staff.is_active else None
    if not verify_password(stored, password):
        return None
    return staff


def set_password(
    staff: StaffUser,
    password: str,
    now: datetime,
    *,
    keep_session: int | None = None,
    actor: Actor | None = None,
) -> None:
    """Set a new password; every other session of theirs ends."""
    staff.password_hash = hash_password(password)
    staff.password_changed_at = now
    ended = sessions.end_all(staff, "password_changed", now, keep=keep_session)
    record(
        "staff.password_changed", "staff", staff.id, after={"sessions_ended": ended}, actor=actor
    )


@dataclass(frozen=True, slots=True)
class Deactivated:
    sessions_ended: int
    keys_revoked: int


def deactivate(staff: StaffUser, now: datetime, *, actor: Actor | None = None) -> Deactivated:
    """Deactivate: their sessions end and their API keys are revoked, in this transaction."""
    before = staff_json_view(staff)
    if staff.deactivated_at is None:
        staff.deactivated_at = now
    ended = sessions.end_all(staff, "deactivated", now)
    revoked = keys.revoke_keys_of(staff, now)
    record(
        "staff.deactivated",
        "staff",
        staff.id,
        before=before,
        after={**staff_json_view(staff), "sessions_ended": ended, "keys_revoked": revoked},
        actor=actor,
    )
    return Deactivated(ended, revoked)


def change_role(staff: StaffUser, role: StaffRole, *, actor: Actor | None = None) -> None:
    if staff.role == role:
        return
    before = staff_json_view(staff)
    staff.role = role
    record(
        "staff.role_changed",
        "staff",
        staff.id,
        before=before,
        after=staff_json_view(staff),
        actor=actor,
    )


def sign_out_everywhere(staff: StaffUser, now: datetime) -> int:
    ended = sessions.end_all(staff, "signed_out_everywhere", now)
    record("staff.signed_out_everywhere", "staff", staff.id, after={"sessions_ended": ended})
    return ended
