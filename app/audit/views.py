"""The audit log, for admins: ``GET /api/v1/audit-log`` (cursor paginated, newest first) and
the page ``/dashboard/audit-log``. Filters: ``action`` (exact, or a prefix ending in ``.``
such as ``staff.``), ``staff_id`` (who), ``target_type`` and ``target_id``."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from sqlalchemy import Select, select

from app.access import Permission, requires
from app.api import bp as api_bp
from app.api.pagination import page_of
from app.errors import AppError
from app.models import AuditEntry
from app.policy.wording import iso
from app.staff.blueprint import bp as staff_bp


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "staff_id": entry.staff_user_id,
        "via": entry.via,
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id} if entry.target_type else None,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
    }


def _filtered() -> Select[AuditEntry]:
    query = select(AuditEntry)
    args = request.args
    action = (args.get("action") or "").strip()
    if action:
        if len(action) > 64:
            raise AppError("action is at most 64 characters", field="action")
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if args.get("staff_id"):
        try:
            query = query.where(AuditEntry.staff_user_id == int(args["staff_id"]))
        except ValueError as exc:
            raise AppError("staff_id must be a whole number", field="staff_id") from exc
    for name, column in (
        ("target_type", AuditEntry.target_type),
        ("target_id", AuditEntry.target_id),
    ):
        if args.get(name):
            query = query.where(column == args[name][:64])
    return query


@api_bp.get("/audit-log")
@requires(Permission.MANAGE)
def audit_log_api() -> Any:
    items, cursor = page_of(_filtered(), AuditEntry.at, AuditEntry.id)
    return jsonify({"data": [entry_json(e) for e in items], "next_cursor": cursor})


@staff_bp.get("/audit-log")
@requires(Permission.MANAGE)
def audit_log_page() -> Any:
    try:
        items, cursor = page_of(_filtered(), AuditEntry.at, AuditEntry.id)
        error = None
    except AppError as exc:
        items, cursor, error = [], None, exc.message
    return render_template(
        "staff/audit_log.html",
        entries=items,
        next_cursor=cursor,
        error=error,
        action=request.args.get("action", ""),
    )
