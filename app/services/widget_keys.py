"""Widget keys: made, rotated and revoked by admins (API and CLI), looked up by the widget
endpoints. The public key goes in the script tag; the secret stays on the host's backend,
which signs user ids with it; the allowed origins say which web pages may call Sounding."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit.services import record
from app.db import db
from app.errors import AppError, NotFound
from app.models import WidgetKey
from app.policy.widget import OriginError, normalize_origins
from app.policy.wording import iso

PUBLIC_PREFIX = "pk_"
SECRET_PREFIX = "wsk_"  # noqa: S105  (a prefix, not a secret)
#: How long the secret before a rotation keeps working, unless the admin says otherwise.
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)


def _origins(values: Iterable[str], field: str) -> list[str]:
    try:
        return normalize_origins(values)
    except OriginError as exc:
        raise AppError(f"{field}: {exc}", field=field) from exc


def create_key(name: str | None, origins: Iterable[str], now: datetime) -> WidgetKey:
    key = WidgetKey(
        name=(name or "").strip() or "widget",
        public_key=PUBLIC_PREFIX + secrets.token_urlsafe(18),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        allowed_origins=_origins(origins, "allowed_origins"),
        created_at=now,
    )
    db.session.add(key)
    db.session.flush()
    record("widget_key.created", "widget_key", key.id, after=_audited(key))
    return key


def _audited(key: WidgetKey) -> dict[str, object]:
    """What the audit log keeps of a widget key (never its secret)."""
    return {
        "name": key.name,
        "public_key": key.public_key,
        "allowed_origins": list(key.allowed_origins or []),
        "revoked": key.revoked_at is not None,
    }


def get_key(key_id: int) -> WidgetKey:
    key = db.session.get(WidgetKey, key_id)
    if key is None:
        raise NotFound(f"No widget key with id {key_id}.", field="key_id")
    return key


def find_key(public_key: str) -> WidgetKey | None:
    """The key with this public key, revoked or not."""
    return db.session.scalar(select(WidgetKey).where(WidgetKey.public_key == public_key))


def active_key(public_key: object) -> WidgetKey | None:
    """The active (not revoked) key with this public key, or None."""
    if not isinstance(public_key, str) or not 0 < len(public_key) <= 64:
        return None
    key = find_key(public_key)
    return key if key is not None and key.active else None


def set_origins(key: WidgetKey, origins: Iterable[str]) -> WidgetKey:
    before = _audited(key)
    key.allowed_origins = _origins(origins, "allowed_origins")
    record("widget_key.origins_changed", "widget_key", key.id, before=before, after=_audited(key))
    return key


def rotate_secret(key: WidgetKey, now: datetime, grace: timedelta = DEFAULT_GRACE) -> WidgetKey:
    """A new secret; the old one keeps working for ``grace`` (0: stops at once), so the
    host's backend can switch over without users seeing nothing meanwhile."""
    if not key.active:
        raise AppError("This widget key is revoked; create a new one.", field="key_id")
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise AppError("grace_hours: from 0 to 720 hours", field="grace_hours")
    key.previous_secret = key.secret if grace > timedelta(0) else None
    key.previous_secret_until = now + grace if grace > timedelta(0) else None
    key.secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key.rotated_at = now
    record(
        "widget_key.rotated",
        "widget_key",
        key.id,
        after={"grace_hours": grace / timedelta(hours=1)},
    )
    return key


def revoke_key(key: WidgetKey, now: datetime) -> WidgetKey:
    if key.revoked_at is None:
        before = _audited(key)
        key.revoked_at = now
        record("widget_key.revoked", "widget_key", key.id, before=before, after=_audited(key))
    return key


def list_keys() -> list[WidgetKey]:
    return list(db.session.scalars(select(WidgetKey).order_by(WidgetKey.id)))


def origin_allowed_anywhere(origin: str) -> bool:
    """Does any active key allow ``origin``? (A preflight carries no body, so no key.)"""
    rows = db.session.scalars(
        select(WidgetKey.allowed_origins).where(WidgetKey.revoked_at.is_(None))
    )
    return any(origin in (origins or []) for origins in rows)


def snippet(key: WidgetKey, base_url: str, user_id: str = "USER_ID") -> str:
    """The embed snippet for this key: the stub queue, identify, the script tag."""
    example = json.dumps(user_id)
    return (
        "<script>\n"
        "window.Sounding=window.Sounding||{q:[]};"
        '["configure","identify","track","reset"].forEach(function(m){'
        "Sounding[m]=Sounding[m]||function(){Sounding.q.push([m,arguments])}});\n"
        f'Sounding.identify({{userId: {example}, signature: "HMAC_FROM_YOUR_BACKEND",'
        ' email: "...", name: "...", role: "end_user", account: {id: "...", name: "..."}});\n'
        "</script>\n"
        f'<script async src="{base_url}/widget/v1/sounding.js" '
        f'data-key="{key.public_key}"></script>'
    )


def key_json(key: WidgetKey, base_url: str, *, with_secret: bool = False) -> dict[str, object]:
    body: dict[str, object] = {
        "id": key.id,
        "name": key.name,
        "public_key": key.public_key,
        "allowed_origins": list(key.allowed_origins or []),
        "created_at": iso(key.created_at),
        "rotated_at": iso(key.rotated_at),
        "previous_secret_valid_until": iso(key.previous_secret_until),
        "revoked_at": iso(key.revoked_at),
        "snippet": snippet(key, base_url),
    }
    if with_secret:
        body["secret"] = key.secret
    return body
