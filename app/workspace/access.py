"""Who is signed in, and the rows a workspace page may show them.

Each workspace route declares what it needs with ``app.access.requires`` (the one mechanism
for pages and API alike); a CSM reaches only their accounts' people (``app.access.scope``),
and anything outside that reach is a 404 here too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from flask import abort, request

from app.access import current_principal
from app.access.roles import ROLE_LABELS
from app.db import db

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Who:
    name: str
    detail: str
    email: str | None
    role: str = ""


def who() -> Who:
    principal = current_principal()
    if principal is None:
        return Who("Not signed in", "", None)
    role = principal.role.value
    label = ROLE_LABELS[principal.role]
    if principal.staff is not None:
        return Who(
            principal.staff.name,
            f"{label} · {principal.staff.email}",
            principal.staff.email,
            role,
        )
    return Who(principal.name, label, None, role)


def found(model: type[T], ident: int) -> T:
    """The row of ``model`` with this id, or the 404 page."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def search_text() -> str | None:
    """The list page's search (``?q=``), trimmed; None when empty."""
    return (request.args.get("q") or "").strip()[:200] or None
