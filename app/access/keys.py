"""API keys: ``Authorization: Bearer <key>``; stored as SHA-256 hashes and shown once.

A key belongs to a staff member and carries their role (their role today, not the one they had
when the key was made). A revoked key, or a deactivated owner's, is refused at once. Keys made
before staff accounts existed by ``sounding create-api-key --role admin`` without ``--email``
have no owner and keep the role stored on them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.db import db
from app.models import ApiKey, StaffUser
from app.vocabulary import StaffRole

KEY_PREFIX = "snd_"
LAST_USED_GRANULARITY = timedelta(minutes=5)


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is the right tool (no password stretching).
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    name: str, role: StaffRole, staff_user: StaffUser | None, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    if role != StaffRole.ADMIN and staff_user is None:
        raise ValueError("a CSM's or analyst's key belongs to that staff member")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name,
        prefix=plain[:10],
        key_hash=hash_key(plain),
        role=staff_user.role if staff_user is not None else role,
        staff_user=staff_user,
        created_at=now,
    )
    db.session.add(api_key)
    db.session.flush()
    return api_key, plain


def key_role(api_key: ApiKey) -> StaffRole:
    return api_key.staff_user.role if api_key.staff_user is not None else api_key.role


def find_usable_key(plain: str, now: datetime) -> ApiKey | None:
    """The key, if it is known, not revoked and its owner active; notes when it was used."""
    api_key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plain)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    if api_key.staff_user is not None and not api_key.staff_user.is_active:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_GRANULARITY:
        db.session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
        db.session.commit()
    return api_key


def revoke_keys_of(staff: StaffUser, now: datetime) -> int:
    """Revoke every live key of a staff member; how many were revoked."""
    result = db.session.execute(
        update(ApiKey)
        .where(ApiKey.staff_user_id == staff.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
