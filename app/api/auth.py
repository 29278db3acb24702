"""API keys: ``Authorization: Bearer <key>``; stored as SHA-256 hashes and shown once."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from flask import g, request
from sqlalchemy import select, update

from app import clock
from app.db import db
from app.errors import Forbidden, Unauthorized
from app.models import ApiKey, StaffUser
from app.vocabulary import StaffRole

P = ParamSpec("P")
R = TypeVar("R")

KEY_PREFIX = "snd_"


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is the right tool (no password stretching).
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    name: str, role: StaffRole, staff_user: StaffUser | None, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    if role == StaffRole.CSM and staff_user is None:
        raise ValueError("a CSM key belongs to a CSM")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name,
        prefix=plain[:10],
        key_hash=hash_key(plain),
        role=role,
        staff_user=staff_user,
        created_at=now,
    )
    db.session.add(api_key)
    db.session.flush()
    return api_key, plain


def authenticate() -> ApiKey:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key in the header 'Authorization: Bearer <key>'.")
    api_key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key.strip())))
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthorized("That API key is not valid (unknown or revoked).")
    now = clock.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=5):
        db.session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
        db.session.commit()
    g.api_key = api_key
    return api_key


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def require_admin(view: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_key().role != StaffRole.ADMIN:
            raise Forbidden("Only an admin API key may do this.")
        return view(*args, **kwargs)

    return wrapper
