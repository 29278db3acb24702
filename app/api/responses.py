"""Responses, newest first, filtered by survey, role, account, channel and time."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.access import Permission, requires, scope
from app.api import bp
from app.api.filters import report_filter
from app.api.pagination import page_of
from app.api.serialize import response_json
from app.models import Response
from app.reports import response_filters


@bp.get("/responses")
@requires(Permission.READ)
def list_responses() -> Any:
    f = report_filter()
    query = (
        select(Response)
        .where(*response_filters(f), scope.responses_clause())
        .options(joinedload(Response.person), joinedload(Response.account))
    )
    items, cursor = page_of(query, Response.answered_at, Response.id)
    return jsonify({"data": [response_json(r) for r in items], "next_cursor": cursor})
