"""``record(...)``: the one way to write the audit log. Call it in the transaction of the
change (it only adds a row; the caller's commit keeps both or neither).

    from app.audit.services import record
    record("survey.updated", "survey", survey.id, before=old, after=new)

Who did it comes from the request (the signed-in session or API key) unless ``actor`` is
given (the CLI, a failed sign-in naming the email that was tried).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import has_request_context

from app import clock
from app.db import db
from app.models import AuditEntry, StaffUser


@dataclass(frozen=True, slots=True)
class Actor:
    label: str
    via: str
    staff: StaffUser | None = None


CLI = Actor("cli", "cli")


def _from_request() -> tuple[Actor, str | None]:
    if not has_request_context():
        return Actor("system", "system"), None
    from app.access.guard import current_principal
    from app.access.network import client_ip

    ip = client_ip()
    principal = current_principal()
    if principal is None:
        return Actor("anonymous", "anonymous"), ip
    if principal.staff is not None:
        return Actor(principal.staff.email, principal.via, principal.staff), ip
    key = principal.api_key
    return Actor(f"api key {key.prefix}" if key else "?", principal.via), ip


def plain(value: Any) -> Any:
    """``value`` as JSON: enums by value, times in ISO 8601, containers walked."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def record(
    action: str,
    target_type: str | None = None,
    target_id: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    found, ip = _from_request()
    who = actor or found
    entry = AuditEntry(
        at=clock.now(),
        staff_user_id=who.staff.id if who.staff is not None else None,
        actor=who.label[:320],
        via=who.via,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        before=plain(before) if before is not None else None,
        after=plain(after) if after is not None else None,
        ip=ip,
    )
    db.session.add(entry)
    return entry
