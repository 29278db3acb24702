"""GET /api/v1/reports/nps: NPS, its counts and the response rate, optionally grouped."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app.access import Permission, requires
from app.api import bp
from app.api.filters import report_filter
from app.errors import AppError
from app.reports import GroupBy, nps_report


@bp.get("/reports/nps")
@requires(Permission.READ)
def nps() -> Any:
    raw = request.args.get("group_by") or None
    try:
        group_by = GroupBy(raw) if raw else None
    except ValueError as exc:
        raise AppError(
            f"group_by must be one of {', '.join(g.value for g in GroupBy)}", field="group_by"
        ) from exc
    return jsonify(nps_report(report_filter(), group_by))
