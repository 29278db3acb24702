"""Who may use a workspace page, and who is signed in.

Every workspace view is wrapped by :func:`page`, the one place that says how a page is
protected (today the dashboard's sign-in; each route names the permission it needs so the
staff roles mechanism can enforce it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, request

from app.dashboard.views import current_key, signed_in
from app.db import db

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Who:
    name: str
    detail: str
    email: str | None


def page(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Protect a workspace view; ``permission`` is what it needs (e.g. ``"surveys.write"``)."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        protected = signed_in(view)
        protected.permission = permission  # type: ignore[attr-defined]
        return protected

    return wrap


def who() -> Who:
    key = current_key()
    if key is None:
        return Who("Not signed in", "", None)
    staff = key.staff_user
    if staff is not None:
        return Who(staff.name, f"{staff.role.value} · {staff.email}", staff.email)
    return Who(key.name, f"{key.role.value} key {key.prefix}…", None)


def found(model: type[T], ident: int) -> T:
    """The row of ``model`` with this id, or the 404 page."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def search_text() -> str | None:
    """The list page's search (``?q=``), trimmed; None when empty."""
    return (request.args.get("q") or "").strip()[:200] or None
