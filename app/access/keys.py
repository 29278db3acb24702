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

from sqlalchemy import Select, select, update

from app.audit.services import Actor, record
from app.db import db
from app.errors import AppError, Conflict, NotFound
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


def key_view(api_key: ApiKey) -> dict[str, object]:
    """What the audit log keeps of a key (never the key)."""
    return {
        "name": api_key.name,
        "prefix": api_key.prefix,
        "owner": api_key.staff_user.email if api_key.staff_user else None,
        "role": key_role(api_key).value,
        "revoked": api_key.revoked_at is not None,
    }


def create_key(
    owner: StaffUser, name: str, now: datetime, *, actor: Actor | None = None
) -> tuple[ApiKey, str]:
    """A new key for an active staff member, with their role; the plain key is returned once."""
    name = name.strip()
    if not name:
        raise AppError("Name the key (what or who will use it).", field="name")
    if len(name) > 255:
        raise AppError("A key's name is at most 255 characters.", field="name")
    if not owner.is_active:
        raise Conflict("A deactivated staff member cannot get a key.", field="staff_id")
    api_key, plain = issue_key(name, owner.role, owner, now)
    record("api_key.created", "api_key", api_key.id, after=key_view(api_key), actor=actor)
    return api_key, plain


def revoke_key(api_key: ApiKey, now: datetime) -> None:
    if api_key.revoked_at is not None:
        return
    before = key_view(api_key)
    api_key.revoked_at = now
    record("api_key.revoked", "api_key", api_key.id, before=before, after=key_view(api_key))


def keys_query(viewer: StaffUser | None, *, everyone: bool) -> Select[ApiKey]:
    """Keys a caller may see: every key for an admin (``everyone``), else their own."""
    query = select(ApiKey)
    if not everyone:
        query = query.where(ApiKey.staff_user_id == (viewer.id if viewer else -1))
    return query


def key_or_404(key_id: int, viewer: StaffUser | None, *, everyone: bool) -> ApiKey:
    found = db.session.scalar(keys_query(viewer, everyone=everyone).where(ApiKey.id == key_id))
    if found is None:
        raise NotFound(f"No API key with id {key_id}.", field="key_id")
    return found
